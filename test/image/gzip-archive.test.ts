// A gzip'd docker-archive is inflated once into a private temp file, then read like a plain tar (seekable layers),
// instead of being re-inflated from the start for every layer.
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isLadingError } from '../../src/errors/lading-error.js';
import { inflateOffThread } from '../../src/image/layer/inflate-thread.js';
import { openTarget } from '../../src/image/open.js';
import { openDockerArchive } from '../../src/image/sources/docker-archive.js';
import { openTarArchive } from '../../src/image/sources/tar-archive.js';
import { buildImage, sha256 } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { selectorFor } from './select.js';

async function gzipImage(dir: string) {
  return buildImage(dir, {
    layers: [
      [{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }],
      [{ type: 'file', path: '/var/lib/dpkg/status', content: `Package: a\n${'x'.repeat(100_000)}\n` }],
    ],
    gzipDockerArchive: true,
  });
}

describe("gzip'd docker-archive", () => {
  test('inflates once to a temp file that close() removes; its layers become seekable', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    const scratch = join(dir, 'scratch');
    await mkdir(scratch);
    const archive = await openTarArchive(built.dockerArchive, { tempDir: scratch });
    assert.equal(archive.compressed, true);
    assert.equal(archive.file, built.dockerArchive);
    assert.notEqual(archive.path, built.dockerArchive);
    assert.equal((await readdir(scratch)).length, 1, 'one inflated copy while open');
    assert.ok(archive.has('manifest.json'));
    await archive.close();
    assert.deepEqual(await readdir(scratch), [], 'removed on close');

    const image = await openDockerArchive(built.dockerArchive, undefined, 'docker-archive:x');
    try {
      assert.equal(image.layers.length, 2);
      for (const layer of image.layers) assert.ok(layer.seekable, 'layer read in place from the inflated copy');
    } finally {
      await image.close();
    }
  });

  test('stops with LIMIT past maxInflatedBytes and leaves nothing behind', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    const scratch = join(dir, 'scratch');
    await mkdir(scratch);
    await assert.rejects(
      openTarArchive(built.dockerArchive, { tempDir: scratch, maxInflatedBytes: 50_000 }),
      (err) => isLadingError(err) && err.code === 'LIMIT' && /inflates past the 50000-byte limit/.test(err.message),
    );
    assert.deepEqual(await readdir(scratch), []);
  });
});

describe('gzip layers inflated on a worker thread (LADING_INFLATE_THREADS=1)', () => {
  const tar = Buffer.from(`${'layer bytes '.repeat(300_000)}\n`);
  const gz = gzipSync(tar);
  const read = async (stream: Readable) => {
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  };
  const chunked = (data: Buffer) => Readable.from([data.subarray(0, 1000), data.subarray(1000)]);

  test('gives the inflated bytes and accepts the matching diff-id', async () => {
    let counted = 0;
    const out = await read(inflateOffThread(chunked(gz), { expected: sha256(tar), onBytes: (n) => (counted += n) }));
    assert.ok(out.equals(tar));
    assert.equal(counted, tar.length);
  });

  test('fails with DIGEST_MISMATCH on a wrong diff-id and with the zlib message on corrupt data', async () => {
    await assert.rejects(
      read(inflateOffThread(chunked(gz), { expected: sha256('other') })),
      (err) => isLadingError(err) && err.code === 'DIGEST_MISMATCH',
    );
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 20, 200);
    await assert.rejects(
      read(inflateOffThread(chunked(corrupt), { expected: sha256(tar) })),
      /invalid|incorrect|check/,
    );
  });

  test('a whole scan with the worker gives the same files as without', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }]],
      compression: 'gzip',
    });
    const walk = async () => {
      const opened = await openTarget(`oci:${built.ociDir}`);
      try {
        const w = await opened.walk(selectorFor(['/etc/os-release']), { maxFileBytes: 1024 });
        return w.files.get('/etc/os-release')?.content.toString();
      } finally {
        await opened.close();
      }
    };
    process.env['LADING_INFLATE_THREADS'] = '1';
    try {
      assert.equal(await walk(), 'ID=debian\n');
    } finally {
      delete process.env['LADING_INFLATE_THREADS'];
    }
  });
});
