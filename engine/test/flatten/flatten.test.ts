import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { flattenImage } from '../../src/flatten/index.js';
import { buildImage } from '../helpers/images.js';
import { ENGINE_ROOT } from '../helpers/paths.js';
import { skopeoCopy, startRegistry, suiteCleanup } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const HERE = join(ENGINE_ROOT, 'test', 'flatten');

async function testImage(dir: string) {
  await run('python3', [join(HERE, 'layers.py'), dir]);
  const layers = await Promise.all(
    [1, 2, 3].map(async (n) => ({ rawTar: await readFile(join(dir, `layer${n}.tar`)) })),
  );
  return buildImage(join(dir, 'image'), {
    layers,
    compression: 'gzip',
    tag: 'lading-test/flatten:1',
    config: {
      user: '1000:1000',
      env: ['PATH=/bin', 'MODE=flat'],
      entrypoint: ['/bin/su'],
      cmd: ['-c', 'true'],
      workingDir: '/data',
      labels: { 'org.example.team': 'supply-chain' },
    },
  });
}

async function rootfsOf(layout: string, tag: string, bundle: string): Promise<unknown> {
  await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  const { stdout } = await run('python3', [join(HERE, 'rootfs.py'), join(bundle, 'rootfs')]);
  return JSON.parse(stdout);
}

/** Names of the entries in the flattened image's one layer, read from the blob the manifest names. */
async function layerNames(layout: string, manifestDigest: string): Promise<string[]> {
  const blob = (d: string) => readFile(join(layout, 'blobs', 'sha256', d.slice('sha256:'.length)));
  const manifest = JSON.parse((await blob(manifestDigest)).toString());
  assert.equal(manifest.layers.length, 1);
  const tarFile = join(layout, '..', 'flat-layer.tar');
  await writeFile(tarFile, gunzipSync(await blob(manifest.layers[0].digest)));
  const { stdout } = await run('tar', ['-tf', tarFile]);
  return stdout.trim().split('\n');
}

describe('flattenImage', () => {
  const cleanup = suiteCleanup();

  it("writes one layer whose unpacked tree is the original's, the config kept, reproducibly", async (t) => {
    const dir = await tempDir(t);
    const image = await testImage(dir);
    const original = `oci:${image.ociDir}:1`;
    const out = join(dir, 'flat');
    const result = await flattenImage(original, { outDir: out, tag: 'flat' });

    assert.equal(result.source.layers, 3);
    assert.deepEqual(result.droppedLinks, []);
    assert.ok(result.size.after.uncompressed < result.size.before.uncompressed, JSON.stringify(result.size));
    assert.ok(result.size.before.compressed && result.size.after.compressed > 0);

    const names = await layerNames(out, result.manifestDigest);
    assert.ok(!names.some((n) => n.includes('.wh.')), `no whiteouts remain: ${names}`);
    assert.ok(!names.some((n) => n.includes('etc/deleted') || n.includes('opq/old')), `${names}`);

    const flat = await rootfsOf(out, 'flat', join(dir, 'bundle-flat'));
    const orig = await rootfsOf(image.ociDir, '1', join(dir, 'bundle-orig'));
    assert.deepEqual(flat, orig);
    const tree = flat as Record<
      string,
      { mode: string; uid: number; xattrs?: Record<string, string>; links?: string[] }
    >;
    assert.equal(tree['bin/su']?.mode, '0o104755', 'setuid kept');
    assert.equal(tree['tmp']?.mode, '0o41777', 'sticky directory kept');
    assert.deepEqual(tree['etc/cap']?.xattrs, { 'user.lading': 'hello' });
    assert.deepEqual(tree['bin/su']?.links, ['bin/su', 'bin/su-again'], 'the hard link shares the inode');
    assert.equal(tree['data/over']?.uid, 1000);
    assert.equal(tree['etc/deleted'], undefined);
    assert.equal(tree['opq/old'], undefined);
    assert.ok(tree['opq/new'] && tree['var/pipe']);

    // The config: kept fields, one diff-id, one history entry, the base image in the manifest's annotations.
    const blobIn = async (layout: string, d: string) =>
      JSON.parse((await readFile(join(layout, 'blobs', 'sha256', d.slice('sha256:'.length)))).toString());
    const blob = (d: string) => blobIn(out, d);
    const config = await blob(result.configDigest);
    const before = await blobIn(image.ociDir, image.configDigest);
    assert.deepEqual(config.config, before.config);
    assert.equal(config.os, before.os);
    assert.equal(config.architecture, before.architecture);
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [result.layer.diffId] });
    assert.equal(config.history.length, 1);
    assert.match(config.history[0].comment, new RegExp(`flattened from ${image.manifestDigest}`));
    const manifest = await blob(result.manifestDigest);
    assert.equal(manifest.annotations['org.opencontainers.image.base.digest'], image.manifestDigest);
    assert.equal(manifest.annotations['org.opencontainers.image.base.name'], original);

    // Same input, same output: a second run into another layout gives the same digests.
    const again = await flattenImage(original, { outDir: join(dir, 'flat2'), tag: 'flat' });
    assert.equal(again.manifestDigest, result.manifestDigest);
    assert.equal(again.layer.digest, result.layer.digest);

    // A registry takes it, and skopeo sees the kept config.
    const registry = await startRegistry(cleanup);
    await skopeoCopy(`oci:${out}:flat`, `docker://${registry.host}/flat:1`, ['--dest-tls-verify=false']);
    const { stdout } = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--config',
      `docker://${registry.host}/flat:1`,
    ]);
    const pushed = JSON.parse(stdout);
    assert.equal(pushed.config.User, '1000:1000');
    assert.deepEqual(pushed.config.Entrypoint, ['/bin/su']);
    assert.deepEqual(pushed.config.Labels, { 'org.example.team': 'supply-chain' });
    assert.deepEqual(pushed.rootfs.diff_ids, [result.layer.diffId]);
  });

  it('adds to an existing layout, keeps its other manifests, and uses the given created time', async (t) => {
    const dir = await tempDir(t);
    const image = await testImage(dir);
    const out = join(dir, 'flat');
    const a = await flattenImage(`oci:${image.ociDir}:1`, { outDir: out, tag: 'a' });
    const b = await flattenImage(`docker-archive:${image.dockerArchive}`, {
      outDir: out,
      tag: 'b',
      created: '2020-01-01T00:00:00Z',
    });
    assert.equal(b.layer.diffId, a.layer.diffId, 'the same tree from another source is the same layer');
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    assert.deepEqual(
      index.manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
      ),
      ['a', 'b'],
    );
    const config = JSON.parse(
      await readFile(join(out, 'blobs', 'sha256', b.configDigest.slice('sha256:'.length)), 'utf8'),
    );
    assert.equal(config.created, '2020-01-01T00:00:00Z');
  });

  it('keeps exposed ports, volumes and the stop signal (set with umoci) verbatim', async (t) => {
    const dir = await tempDir(t);
    const image = await testImage(dir);
    await run('umoci', [
      'config',
      '--image',
      `${image.ociDir}:1`,
      '--tag',
      'configured',
      '--config.exposedports',
      '8080/tcp',
      '--config.volume',
      '/data',
      '--config.stopsignal',
      'SIGQUIT',
    ]);
    const out = join(dir, 'flat');
    const result = await flattenImage(`oci:${image.ociDir}:configured`, { outDir: out, tag: 'flat' });
    const blobIn = async (layout: string, d: string) =>
      JSON.parse((await readFile(join(layout, 'blobs', 'sha256', d.slice('sha256:'.length)))).toString());
    const index = JSON.parse(await readFile(join(image.ociDir, 'index.json'), 'utf8'));
    const source = index.manifests.find(
      (m: { annotations?: Record<string, string> }) =>
        m.annotations?.['org.opencontainers.image.ref.name'] === 'configured',
    );
    const original = await blobIn(image.ociDir, (await blobIn(image.ociDir, source.digest)).config.digest);
    const config = await blobIn(out, result.configDigest);
    assert.deepEqual(config.config.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(config.config.Volumes, { '/data': {} });
    assert.equal(config.config.StopSignal, 'SIGQUIT');
    assert.deepEqual(config.config, original.config);
    assert.equal(result.source.digest, source.digest);
  });

  it('refuses to write into a folder that is not an OCI layout', async (t) => {
    const dir = await tempDir(t);
    const image = await testImage(dir);
    const out = join(dir, 'not-a-layout');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine');
    await assert.rejects(flattenImage(`oci:${image.ociDir}:1`, { outDir: out }), /not an OCI image layout/);
  });
});
