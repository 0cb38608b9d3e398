import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import type { ScanProgress } from '../../src/image/progress.js';
import { scan } from '../../src/scan/scan.js';
import { listenOnLoopback } from '../helpers/http-server.js';
import { buildImage, type LayerEntry } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';

/** Layers of many small files: long enough to walk that an abort lands in the middle. */
function bigLayers(layers: number, files: number): LayerEntry[][] {
  return Array.from({ length: layers }, (_, l) =>
    Array.from({ length: files }, (_, i) => ({
      type: 'file' as const,
      path: `/usr/share/data${l}/f${i}.bin`,
      content: randomBytes(2048),
    })),
  );
}

/** Scans `spec`, aborting on the first progress report; resolves with how long the rejection took after it. */
async function abortMidWalk(
  spec: string,
  extra: { onAbort?: () => void; cacheDir?: string; inflateThreads?: boolean } = {},
): Promise<number> {
  const controller = new AbortController();
  let abortedAt = 0;
  const onProgress = (p: ScanProgress) => {
    if (p.phase !== 'reading' || abortedAt) return;
    abortedAt = performance.now();
    // From a timer, as a signal handler would: not from inside the stream callback that reported.
    setTimeout(() => {
      controller.abort();
      extra.onAbort?.();
    }, 0);
  };
  const scanned = scan(spec, {
    sbomOnly: true,
    dbDir: '/nonexistent',
    now: new Date(),
    onProgress,
    signal: controller.signal,
    ...(extra.cacheDir ? { cache: { dir: extra.cacheDir } } : {}),
    ...(extra.inflateThreads ? { inflateThreads: true } : {}),
  });
  await assert.rejects(scanned, (err: unknown) => {
    assert.ok(isLadingError(err), String(err));
    assert.equal(err.code, 'ABORTED');
    assert.equal(err.exitCode, 130);
    return true;
  });
  assert.ok(abortedAt > 0, 'the walk reported progress before it was aborted');
  return performance.now() - abortedAt;
}

describe('scan(spec, { signal })', () => {
  test('a signal that already fired rejects before anything is opened', async () => {
    await assert.rejects(
      scan('oci:/nonexistent', { sbomOnly: true, dbDir: '/nonexistent', now: new Date(), signal: AbortSignal.abort() }),
      (err: unknown) => isLadingError(err) && err.code === 'ABORTED',
    );
  });

  test('stops a gzip OCI walk mid-way within a second', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: bigLayers(3, 6000), compression: 'gzip' });
    const took = await abortMidWalk(`oci:${built.ociDir}`);
    assert.ok(took < 1000, `rejected ${took.toFixed(0)} ms after the abort`);
  });

  test('stops a gzip OCI walk inflating on worker threads (a thread left running would hold this file open)', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: bigLayers(3, 6000), compression: 'gzip' });
    const took = await abortMidWalk(`oci:${built.ociDir}`, { inflateThreads: true });
    assert.ok(took < 1000, `rejected ${took.toFixed(0)} ms after the abort`);
  });

  test('stops a docker-archive walk (layers read in place, never waiting) within a second', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: bigLayers(3, 6000) });
    const took = await abortMidWalk(`docker-archive:${built.dockerArchive}`);
    assert.ok(took < 1000, `rejected ${took.toFixed(0)} ms after the abort`);
  });

  test('stops a docker-archive walk that hashes its layers for the result cache (the hash threads too)', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: bigLayers(3, 6000) });
    const cacheDir = await tempDir(t);
    const took = await abortMidWalk(`docker-archive:${built.dockerArchive}`, { cacheDir });
    assert.ok(took < 1000, `rejected ${took.toFixed(0)} ms after the abort`);
    // What was kept before the abort (whole layers' scans, never the image's catalog) serves the next scan exactly.
    const options = { sbomOnly: true, dbDir: '/nonexistent', now: new Date(0) };
    const again = await scan(`docker-archive:${built.dockerArchive}`, { ...options, cache: { dir: cacheDir } });
    assert.deepEqual(again, await scan(`docker-archive:${built.dockerArchive}`, options));
  });

  test('stops a root filesystem walk within a second', async (t) => {
    const dir = await tempDir(t);
    const { mkdir, writeFile } = await import('node:fs/promises');
    for (let d = 0; d < 400; d++) {
      await mkdir(join(dir, `d${d}`));
      await Promise.all(Array.from({ length: 20 }, (_, i) => writeFile(join(dir, `d${d}`, `f${i}`), 'x')));
    }
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const started = performance.now();
    const scanned = scan(`dir:${dir}`, {
      sbomOnly: true,
      dbDir: '/nonexistent',
      now: new Date(),
      signal: controller.signal,
    });
    await assert.rejects(scanned, (err: unknown) => isLadingError(err) && err.code === 'ABORTED');
    assert.ok(performance.now() - started < 1000);
  });

  describe('a registry pull from a slow server', () => {
    /** A registry serving one image whose layer blob is sent by `layer` (which may stall). */
    async function slowRegistry(
      t: Parameters<typeof tempDir>[0],
      layer: (res: ServerResponse, blob: Buffer) => void,
    ): Promise<{ host: string; blobRequested: Promise<void> }> {
      const built = await buildImage(await tempDir(t), { layers: bigLayers(1, 2000), compression: 'gzip' });
      const blob = (digest: string) => readFile(join(built.ociDir, 'blobs/sha256', digest.slice('sha256:'.length)));
      const manifest = await blob(built.manifestDigest);
      let requested: () => void = () => {};
      const blobRequested = new Promise<void>((resolve) => {
        requested = resolve;
      });
      const server = createServer(async (req, res) => {
        const url = req.url ?? '';
        if (url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        if (url === '/v2/team/app/manifests/1') {
          res.writeHead(200, {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'docker-content-digest': built.manifestDigest,
            'content-length': String(manifest.length),
          });
          return void res.end(manifest);
        }
        if (url === `/v2/team/app/blobs/${built.configDigest}`) return void res.end(await blob(built.configDigest));
        if (url === `/v2/team/app/blobs/${built.layerDigests[0]}`) {
          requested();
          return layer(res, await blob(built.layerDigests[0] as string));
        }
        res.writeHead(404).end();
      });
      const { port } = await listenOnLoopback(server, t);
      return { host: `127.0.0.1:${port}`, blobRequested };
    }

    test('a layer stalled mid-stream: rejects within a second and closes the connection', async (t) => {
      let connectionClosed: () => void = () => {};
      const closed = new Promise<void>((resolve) => {
        connectionClosed = resolve;
      });
      const registry = await slowRegistry(t, (res, blob) => {
        res.on('close', () => connectionClosed());
        res.writeHead(200, { 'content-length': String(blob.length) });
        // The first 64 KiB, then nothing: a server that stopped sending.
        res.write(blob.subarray(0, 64 * 1024));
      });
      let abortedAt = 0;
      const took = await abortMidWalk(`${registry.host}/team/app:1`, {
        onAbort: () => (abortedAt = performance.now()),
      });
      assert.ok(took < 1000, `rejected ${took.toFixed(0)} ms after the abort`);
      await closed;
      assert.ok(performance.now() - abortedAt < 1000, 'the socket was closed at once');
    });

    test('a layer request never answered: rejects within a second', async (t) => {
      const registry = await slowRegistry(t, () => {});
      const controller = new AbortController();
      void registry.blobRequested.then(() => controller.abort());
      const started = performance.now();
      await assert.rejects(
        scan(`${registry.host}/team/app:1`, {
          sbomOnly: true,
          dbDir: '/nonexistent',
          now: new Date(),
          signal: controller.signal,
        }),
        (err: unknown) => isLadingError(err) && err.code === 'ABORTED',
      );
      assert.ok(performance.now() - started < 5000);
    });
  });
});
