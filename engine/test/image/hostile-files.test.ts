import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { readBoundedFile } from '../../src/image/sources/regular-file.js';
import { runCli } from '../helpers/cli.js';
import { buildImage } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { failsWith, openAndWalk } from './walk-failures.js';

const LAYERS = [[{ type: 'file' as const, path: '/etc/os-release', content: 'ID=debian\n' }]];
const GUARD_MS = 10_000;

/** Fails instead of hanging: a source that blocks on a pipe (or reads a device forever) loses the race. */
async function guarded<T>(what: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${GUARD_MS} ms`)), GUARD_MS);
  });
  try {
    return await Promise.race([what, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A named pipe; a reader that did block on it is let go when the test ends (O_RDWR never blocks on Linux). */
function fifo(t: Pick<TestContext, 'after'>, path: string): void {
  execFileSync('mkfifo', [path]);
  t.after(() => {
    try {
      closeSync(openSync(path, constants.O_RDWR | constants.O_NONBLOCK));
    } catch {
      // Already removed with its temp dir: nothing was left waiting on it.
    }
  });
}

describe('hostile files in local sources: exit 3, one line, no hang, no OOM', () => {
  test('oci layout whose index.json links to /dev/zero is refused unread', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const index = join(built.ociDir, 'index.json');
    await rm(index);
    await symlink('/dev/zero', index);
    await assert.rejects(
      guarded(openAndWalk(`oci:${built.ociDir}`)),
      failsWith('BAD_INPUT', /index\.json is not a regular file$/, index),
    );
  });

  test('oci layout whose index.json is over the metadata limit (sparse) fails on the limit', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const index = join(built.ociDir, 'index.json');
    await truncate(index, 3 * 1024 ** 3);
    await assert.rejects(
      guarded(openAndWalk(`oci:${built.ociDir}`)),
      failsWith('LIMIT', /index\.json is larger than the 16 MiB limit$/, index),
    );
  });

  test('the metadata bound holds whatever stat says (a /proc file has size 0)', async () => {
    await assert.rejects(
      readBoundedFile('/proc/self/status', 64),
      failsWith('LIMIT', /is larger than the 64-byte limit$/, '/proc/self/status'),
    );
  });

  test('symlinks to regular files inside a layout keep working', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, { layers: LAYERS });
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await rename(join(built.ociDir, 'index.json'), join(elsewhere, 'index.json'));
    await symlink(join(elsewhere, 'index.json'), join(built.ociDir, 'index.json'));
    const manifest = join(built.ociDir, 'blobs/sha256', built.manifestDigest.slice(7));
    await rename(manifest, join(elsewhere, 'manifest'));
    await symlink(join(elsewhere, 'manifest'), manifest);
    const { files } = await guarded(openAndWalk(`oci:${built.ociDir}`));
    assert.equal(files.get('/etc/os-release')?.content.toString(), 'ID=debian\n');
  });

  test('oci layout whose manifest blob is a FIFO fails at once', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const manifest = join(built.ociDir, 'blobs/sha256', built.manifestDigest.slice(7));
    await rm(manifest);
    fifo(t, manifest);
    await assert.rejects(
      guarded(openAndWalk(`oci:${built.ociDir}`)),
      failsWith('BAD_INPUT', /manifest blob sha256:[0-9a-f]{64} is not a regular file$/, built.ociDir),
    );
  });

  test('docker-archive path that is a FIFO fails at once (in process and from the CLI)', async (t) => {
    const dir = await tempDir(t);
    const pipe = join(dir, 'image.tar');
    fifo(t, pipe);
    const pattern = /image\.tar is not a regular file \(pipes are not read; save the archive to a file\)$/;
    await assert.rejects(guarded(openAndWalk(`docker-archive:${pipe}`)), failsWith('BAD_INPUT', pattern, pipe));
    // A bare path is sniffed before it is opened as an archive.
    await assert.rejects(guarded(openAndWalk(pipe)), failsWith('BAD_INPUT', pattern, pipe));
    const cli = await runCli(['scan', `docker-archive:${pipe}`, '--sbom-only', '-o', 'json'], { timeoutMs: 20_000 });
    assert.equal(cli.code, 3, cli.stderr);
    assert.match(cli.stderr.trim(), pattern);
    assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  });

  test('docker-archive and oci-archive paths that are directories say so', async (t) => {
    const dir = await tempDir(t);
    const pattern = /is a directory, not an archive \(use oci:PATH or dir:PATH\)$/;
    await assert.rejects(guarded(openAndWalk(`docker-archive:${dir}`)), failsWith('BAD_INPUT', pattern, dir));
    await assert.rejects(guarded(openAndWalk(`oci-archive:${dir}`)), failsWith('BAD_INPUT', pattern, dir));
  });

  test('a docker-archive read from a pipe is refused, not sought in', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const cli = await runCli(['scan', 'docker-archive:/dev/stdin', '--sbom-only', '-o', 'json'], {
      input: await readFile(built.dockerArchive),
      timeoutMs: 20_000,
    });
    assert.equal(cli.code, 3, cli.stderr);
    assert.match(
      cli.stderr.trim(),
      /\/dev\/stdin is not a regular file \(pipes are not read; save the archive to a file\)$/,
    );
  });

  test('a regular docker-archive still opens', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const { files } = await guarded(openAndWalk(`docker-archive:${built.dockerArchive}`));
    assert.equal(files.get('/etc/os-release')?.content.toString(), 'ID=debian\n');
  });
});
