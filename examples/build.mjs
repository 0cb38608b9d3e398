#!/usr/bin/env node
// Assembles examples/debian-12.tar, the image the README's first command scans, from the files under
// examples/debian-12/: one layer, written as `docker save` writes an image (manifest.json, the config, layer.tar).
// Node built-ins only, and every byte fixed (sorted entries, mtime 0, uid/gid 0), so the same files always give the
// same archive and the same digests: `node examples/build.mjs --check` fails when the committed tar is stale.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOTFS = join(HERE, 'debian-12');
const OUTPUT = join(HERE, 'debian-12.tar');
const TAG = 'lading-example/debian-12:latest';
// The image's creation date: that of the newest package in it (openssl 3.0.11-1~deb12u1, Debian 12.2's).
const CREATED = '2023-10-07T00:00:00Z';

/** Every directory and file under `root`, as tar entries in sorted order (directories before their contents). */
function entries(root, replace = {}, omit = []) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path).split('\\').join('/');
      if (omit.some((o) => rel === o || rel.startsWith(`${o}/`))) continue;
      if (statSync(path).isDirectory()) {
        out.push({ name: `${rel}/`, mode: 0o755, body: Buffer.alloc(0), dir: true });
        walk(path);
      } else {
        const body = replace[rel] === undefined ? readFileSync(path) : Buffer.from(replace[rel](readFileSync(path, 'utf8')));
        out.push({ name: rel, mode: 0o644, body, dir: false });
      }
    }
  };
  walk(root);
  return out;
}

/** One ustar header block: the fields GNU tar and Go's archive/tar read, numbers in octal, checksum last. */
function header({ name, mode, size, dir }) {
  if (Buffer.byteLength(name) > 100) throw new Error(`name too long for a plain ustar header: ${name}`);
  const block = Buffer.alloc(512);
  const put = (offset, length, value) => block.write(value, offset, length, 'utf8');
  const octal = (offset, length, value) => put(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  put(0, 100, name);
  octal(100, 8, mode);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, size);
  octal(136, 12, 0); // mtime
  block.fill(' ', 148, 156); // the checksum counts its own field as spaces
  put(156, 1, dir ? '5' : '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  const sum = block.reduce((a, b) => a + b, 0);
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function tarOf(files) {
  const parts = [];
  for (const f of files) {
    parts.push(header({ name: f.name, mode: f.mode, size: f.body.length, dir: f.dir }), f.body);
    const pad = (512 - (f.body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(parts);
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const file = (name, body) => ({ name, mode: 0o644, body: Buffer.from(body), dir: false });

/**
 * The archive; with no options, exactly examples/debian-12.tar. The server's demo fleet builds variants of it:
 * `replace` maps a file's path to a function of its text (a package bumped), `omit` drops paths, `tag` and
 * `created` label the image.
 */
export function buildExampleImage(options = {}) {
  const { layer, diffId, config } = imageParts(options);
  const configName = `${sha256(config)}.json`;
  const layerName = `${diffId}/layer.tar`;
  const manifest = `${JSON.stringify([{ Config: configName, RepoTags: [options.tag ?? TAG], Layers: [layerName] }])}\n`;
  return tarOf([
    { name: `${diffId}/`, mode: 0o755, body: Buffer.alloc(0), dir: true },
    file(layerName, layer),
    file(configName, config),
    file('manifest.json', manifest),
  ]);
}

/** The layer and the image configuration, shared by both output formats. */
function imageParts(options) {
  const { replace = {}, omit = [], created = CREATED } = options;
  const layer = tarOf(entries(ROOTFS, replace, omit));
  const diffId = sha256(layer);
  const config = Buffer.from(
    `${JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/app' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created, created_by: 'examples/build.mjs: examples/debian-12/' }],
    })}\n`,
  );
  return { layer, diffId, config };
}

/**
 * The same image (with the same options) as an OCI image layout in `dir`, which a scan reports by its manifest
 * digest (a `docker save` archive has none): what the server's demo fleet pushes. Returns that digest.
 */
export function writeExampleOciLayout(dir, options = {}) {
  const { layer, config } = imageParts(options);
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (bytes) => {
    const hex = sha256(bytes);
    writeFileSync(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(config) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(layer) }],
    }),
  );
  const written = put(manifest);
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...written,
        annotations: { 'org.opencontainers.image.ref.name': options.tag ?? TAG },
      },
    ],
  };
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return written.digest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = buildExampleImage();
  if (process.argv.includes('--check')) {
    let committed;
    try {
      committed = readFileSync(OUTPUT);
    } catch {
      committed = Buffer.alloc(0);
    }
    if (!committed.equals(built)) {
      process.stderr.write(`${relative(process.cwd(), OUTPUT)} is stale: run node examples/build.mjs\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(OUTPUT, built);
    process.stdout.write(`wrote ${relative(process.cwd(), OUTPUT)} (${built.length} bytes)\n`);
  }
}
