// The gzip-layer medium image served by Debian's docker-registry on 127.0.0.1 (pushed there by skopeo): Lading
// pulls, verifies, inflates and catalogs the layers in one streaming pass. Budget (docs/performance.md, "Budgets") as for the
// OCI layout: <= 1.3 x the time to gunzip the largest layer. Skipped when docker-registry or skopeo is missing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureImage,
  gunzipBudget,
  gunzipLargestCase,
  inflateAllLayersCase,
  ladingCases,
  MEDIUM,
} from './10-image-fixtures.mjs';

export const name = 'image-registry';

const REGISTRY = '/usr/bin/docker-registry';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(url) {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${url}`);
}

export async function setup() {
  if (!existsSync(REGISTRY) || spawnSync('skopeo', ['--version']).status !== 0) {
    console.log('skipped: needs docker-registry and skopeo (apt-get install docker-registry skopeo)');
    return { cases: [] };
  }
  const image = await ensureImage('medium', MEDIUM);
  const dir = mkdtempSync(join(tmpdir(), 'lading-bench-registry-'));
  mkdirSync(join(dir, 'storage'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'storage')}`,
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const registry = spawn(REGISTRY, ['serve', config], { stdio: 'ignore' });
  const cleanup = () => {
    registry.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(`http://${host}`);
    const pushed = spawnSync(
      'skopeo',
      ['copy', '--dest-tls-verify=false', `oci:${image.ociDir}`, `docker://${host}/bench/medium:1`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (pushed.status !== 0) throw new Error(`skopeo copy: ${pushed.stderr}`);
  } catch (err) {
    cleanup();
    throw err;
  }
  console.log(`registry: ${host}/bench/medium:1 (the medium OCI layout, pushed by skopeo)`);
  return {
    cases: [
      ...ladingCases('lading sbom registry (gzip layers)', [
        'sbom',
        `registry:${host}/bench/medium:1`,
        '-o',
        'cyclonedx-json=/dev/null',
        // A kept result would spare the walk this suite times (bench/suites/15-result-cache.mjs times the cache).
        '--no-cache',
      ]),
      gunzipLargestCase(image),
      inflateAllLayersCase(image),
    ],
    budget: gunzipBudget,
    cleanup,
  };
}
