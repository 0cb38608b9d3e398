// Success is only reported for what was written: an output the disk cannot take is exit 3 with one line naming the
// file, never exit 0 with a truncated SBOM, report or baseline.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

async function rootfs(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const root = await tempDir(t);
  await writeFile(join(root, 'placeholder'), 'x');
  return root;
}

function oneLineExit3(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 3, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(r.stderr, /\[object Object\]|^\s+at /m);
}

describe('outputs are written whole or the command fails', () => {
  test('-o FORMAT=/dev/full: exit 3, no space left on device', async (t) => {
    const r = await runCli(['sbom', `dir:${await rootfs(t)}`, '-o', 'cyclonedx-json=/dev/full', '-q']);
    oneLineExit3(r, /^lading: cannot write \/dev\/full: no space left on device$/);
  });

  test('a full disk: exit 3, and the file that was there is left whole', async (t) => {
    const disk = await mkdtemp(join(tmpdir(), 'lading-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      await rmdir(disk);
      return t.skip('mounting a tmpfs is not permitted here');
    }
    t.after(async () => {
      execFileSync('umount', [disk], { stdio: 'ignore' });
      await rmdir(disk);
    });
    const out = join(disk, 'sbom.json');
    await writeFile(out, 'the old one');
    const root = await rootfs(t);
    // An SBOM bigger than the disk: many files make many components.
    for (let i = 0; i < 200; i++) {
      await writeFile(join(root, `requirements-${i}.txt`), '');
    }
    const pkgDir = join(root, 'usr/lib/node_modules');
    execFileSync('mkdir', ['-p', pkgDir]);
    for (let i = 0; i < 300; i++) {
      const dir = join(pkgDir, `package-with-a-long-name-${i}`);
      execFileSync('mkdir', ['-p', dir]);
      await writeFile(
        join(dir, 'package.json'),
        JSON.stringify({ name: `package-with-a-long-name-${i}`, version: '1.0.0' }),
      );
    }
    const r = await runCli(['sbom', `dir:${root}`, '-o', `cyclonedx-json=${out}`, '-q']);
    oneLineExit3(r, new RegExp(`^lading: cannot write ${out}: no space left on device$`));
    assert.equal(await readFile(out, 'utf8'), 'the old one');
    assert.deepEqual(await readdir(disk), ['sbom.json']);
  });
});
