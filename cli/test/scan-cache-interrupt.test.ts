import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, runCli } from '../../engine/test/helpers/cli.js';
import { listenOnLoopback } from '../../engine/test/helpers/http-server.js';
import { buildImage, type LayerEntry } from '../../engine/test/helpers/images.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

const LAYERS: LayerEntry[][] = [
  [
    { type: 'file', path: '/etc/os-release', content: 'ID=alpine\nVERSION_ID=3.20.0\n' },
    { type: 'file', path: '/lib/apk/db/installed', content: 'P:musl\nV:1.2.5-r0\nA:x86_64\n\n' },
  ],
];

/** The report minus the moment it was made. */
function withoutDate(json: string): unknown {
  const { createdAt: _, ...rest } = JSON.parse(json) as Record<string, unknown>;
  return rest;
}

const jsonFiles = async (dir: string) => (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.json'));

describe('scan and sbom: the result cache', () => {
  test('--cache-dir keeps the catalog; the second run reads it and prints the same report', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const dir = await tempDir(t);
    const args = ['sbom', `oci:${built.ociDir}`, '-o', 'json', '--cache-dir', dir];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await jsonFiles(dir)).length, 1 + LAYERS.length, "the catalog and each layer's scan");
    const second = await runCli(args);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(withoutDate(second.stdout), withoutDate(first.stdout));
    assert.match(second.stdout, /musl/);
  });

  test('LADING_CACHE_DIR names the folder; --no-cache keeps nothing', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const dir = await tempDir(t);
    const noCache = await runCli(['scan', `oci:${built.ociDir}`, '--sbom-only', '-o', 'json', '--no-cache'], {
      env: { LADING_CACHE_DIR: dir },
    });
    assert.equal(noCache.code, 0, noCache.stderr);
    assert.deepEqual(await jsonFiles(dir), []);
    const cached = await runCli(['scan', `oci:${built.ociDir}`, '--sbom-only', '-o', 'json'], {
      env: { LADING_CACHE_DIR: dir },
    });
    assert.equal(cached.code, 0, cached.stderr);
    assert.equal((await jsonFiles(dir)).length, 1 + LAYERS.length, "the catalog and each layer's scan");
  });

  test('XDG_CACHE_HOME/lading/results is the default folder', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const xdg = await tempDir(t);
    const { LADING_CACHE_DIR: _, ...env } = process.env;
    const r = await runCli(['sbom', `oci:${built.ociDir}`, '-o', 'cyclonedx-json=/dev/null'], {
      env: { ...env, LADING_CACHE_DIR: '', XDG_CACHE_HOME: xdg },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      (await jsonFiles(join(xdg, 'lading', 'results'))).length,
      1 + LAYERS.length,
      "the catalog and each layer's scan",
    );
  });

  test('a LADING_CACHE_MAX_SIZE that is not a size is a usage error', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const r = await runCli(['sbom', `oci:${built.ociDir}`], { env: { LADING_CACHE_MAX_SIZE: 'lots' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /LADING_CACHE_MAX_SIZE/);
  });
});

describe('Ctrl-C', () => {
  test('the first SIGINT stops a pull cleanly: exit 130, one line, no wait for the stalled server', async (t) => {
    const noise = Array.from({ length: 64 }, (_, i) => ({
      type: 'file' as const,
      path: `/opt/noise${i}`,
      content: randomBytes(4096),
    }));
    const built = await buildImage(await tempDir(t), {
      layers: [[...(LAYERS[0] ?? []), ...noise]],
      compression: 'gzip',
    });
    const blob = (digest: string) => readFile(join(built.ociDir, 'blobs/sha256', digest.slice('sha256:'.length)));
    const manifest = await blob(built.manifestDigest);
    let layerAsked: () => void = () => {};
    const asked = new Promise<void>((resolve) => {
      layerAsked = resolve;
    });
    const server = createServer(async (req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/') return void res.writeHead(200).end('{}');
      if (url === '/v2/app/manifests/1') {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        return void res.end(manifest);
      }
      if (url === `/v2/app/blobs/${built.configDigest}`) return void res.end(await blob(built.configDigest));
      if (url === `/v2/app/blobs/${built.layerDigests[0]}`) {
        // Headers and the first 32 KiB, then silence.
        const layer = await blob(built.layerDigests[0] as string);
        res.writeHead(200, { 'content-length': String(layer.length) });
        res.write(layer.subarray(0, 32 * 1024));
        return layerAsked();
      }
      res.writeHead(404).end();
    });
    const { port } = await listenOnLoopback(server, t);
    const cli = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', cli, 'sbom', `127.0.0.1:${port}/app:1`, '--no-cache'],
      { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await asked;
    const sent = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.equal(stderr, 'lading: interrupted\n');
    assert.ok(performance.now() - sent < 3000, 'exited promptly');
  });
});
