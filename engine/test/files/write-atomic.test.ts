// Success is only reported for what was written: a full disk, /dev/full or a read-only folder is an IO error naming
// the file, and the file that was there before is left whole.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rmdir,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { writeFileAtomically } from '../../src/files/index.js';
import { tempDir } from '../helpers/tmp.js';

function failsWithIo(path: string, why: RegExp) {
  return (err: unknown) => {
    assert.ok(isLadingError(err), String(err));
    assert.equal(err.code, 'IO');
    assert.equal(err.exitCode, 3);
    assert.ok(err.message.startsWith(`cannot write ${path}: `), err.message);
    assert.match(err.message, why);
    assert.doesNotMatch(err.message, /\[object Object\]|\n/);
    return true;
  };
}

/** A tmpfs of `size` at a fresh folder, unmounted when the test ends; undefined where mounting is not allowed. */
async function smallDisk(t: Parameters<typeof tempDir>[0], size: string): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    await rmdir(dir);
    return undefined;
  }
  t.after(async () => {
    execFileSync('umount', [dir], { stdio: 'ignore' });
    await rmdir(dir);
  });
  return dir;
}

describe('writeFileAtomically', () => {
  test('writes a new file and replaces an old one whole, keeping its mode, leaving no temporary file', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'report.json');
    await writeFileAtomically(file, 'first');
    await chmod(file, 0o600);
    await writeFileAtomically(file, 'second');
    assert.equal(await readFile(file, 'utf8'), 'second');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['report.json']);
  });

  test('through a symlink, replaces the file it names and keeps the link', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'real.json'), 'old');
    await symlink('real.json', join(dir, 'link.json'));
    await writeFileAtomically(join(dir, 'link.json'), 'new');
    assert.equal(await readFile(join(dir, 'real.json'), 'utf8'), 'new');
    assert.ok((await lstat(join(dir, 'link.json'))).isSymbolicLink());
    assert.equal(await readlink(join(dir, 'link.json')), 'real.json');
  });

  test('exclusive refuses an existing file and leaves it untouched', async (t) => {
    const dir = await tempDir(t);
    const key = join(dir, 'cosign.key');
    await writeFile(key, 'keep me');
    await assert.rejects(writeFileAtomically(key, 'other', { exclusive: true, option: 'force' }), (err: unknown) => {
      assert.ok(isLadingError(err));
      assert.equal(err.code, 'USAGE');
      assert.equal(err.option, 'force');
      return true;
    });
    assert.equal(await readFile(key, 'utf8'), 'keep me');
  });

  test('/dev/full: no space left on device, exit 3', async () => {
    await assert.rejects(writeFileAtomically('/dev/full', 'x'.repeat(100_000)), failsWithIo('/dev/full', /no space/));
  });

  test('a folder that is not there or not writable: exit 3 naming the file', async (t) => {
    const dir = await tempDir(t);
    const missing = join(dir, 'no/such/dir/out.json');
    await assert.rejects(writeFileAtomically(missing, 'x'), failsWithIo(missing, /no such file/));
    const ro = join(dir, 'ro');
    await mkdir(ro);
    const mounted = await smallDisk(t, '64k');
    if (mounted) execFileSync('mount', ['-o', 'remount,ro', mounted]);
    else await chmod(ro, 0o555);
    const target = join(mounted ?? ro, 'out.json');
    await assert.rejects(writeFileAtomically(target, 'x'), failsWithIo(target, /read-only|permission denied/));
  });

  test('a full disk: exit 3, and the file that was there is left whole', async (t) => {
    const disk = await smallDisk(t, '64k');
    if (!disk) return t.skip('mounting a tmpfs is not permitted here');
    const file = join(disk, 'baseline.json');
    await writeFileAtomically(file, 'the old baseline');
    await assert.rejects(writeFileAtomically(file, 'y'.repeat(200_000)), failsWithIo(file, /no space/));
    assert.equal(await readFile(file, 'utf8'), 'the old baseline');
    assert.deepEqual(await readdir(disk), ['baseline.json'], 'the temporary file is removed');
  });
});
