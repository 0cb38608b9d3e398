// Tests src/image/sources/registry.ts (kept beside the registry tests because it needs their registry helper).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { decompress, sniffStream } from '../../src/image/layer/decompress.js';
import { openRegistryImage } from '../../src/image/sources/registry.js';
import { RegistryClient } from '../../src/registry/client.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { MEDIA_TYPES } from '../../src/registry/media-types.js';
import { type BuiltImage, buildImage } from '../helpers/images.js';
import { skopeoCopy, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { isLading, readAll } from './assertions.js';

describe('openRegistryImage', () => {
  const t = suiteCleanup();
  let registry: TestRegistry;
  let image: BuiltImage;
  let multi: BuiltImage;
  const client = new RegistryClient({ dockerConfigPath: '/nonexistent/config.json', retry: { retries: 0 } });

  before(async () => {
    registry = await startRegistry(t);
    const dir = await tempDir(t);
    image = await buildImage(join(dir, 'one'), {
      layers: [
        [{ type: 'file', path: '/etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }],
        [{ type: 'file', path: '/srv/app.txt', content: 'hello\n' }],
      ],
      config: {
        user: 'app',
        env: ['PATH=/usr/bin', 'LANG=C.UTF-8'],
        entrypoint: ['/srv/run'],
        cmd: ['--serve'],
        labels: { 'org.opencontainers.image.source': 'https://example.test/app' },
        workingDir: '/srv',
        createdBy: ['ADD rootfs.tar /', 'COPY app.txt /srv/'],
      },
      tag: 'app:1',
    });
    multi = await buildImage(join(dir, 'multi'), {
      layers: [[{ type: 'file', path: '/etc/os-release', content: 'ID=alpine\n' }]],
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      tag: 'multi:2',
    });
    await skopeoCopy(`oci:${image.ociDir}:1`, `docker://${registry.host}/team/app:1`);
    await skopeoCopy(`oci:${multi.ociDir}:2`, `docker://${registry.host}/team/multi:2`, ['--all']);
  });

  it('describes the image fully before reading any layer', async () => {
    const opened = await openRegistryImage(`${registry.host}/team/app:1`, {}, client);
    const target = opened.target;
    assert.equal(target.kind, 'image');
    assert.equal(target.ref, `${registry.host}/team/app:1`);
    assert.equal(target.digest, image.manifestDigest);
    assert.equal(target.imageId, image.configDigest);
    assert.equal(target.platform, 'linux/amd64');
    assert.deepEqual(target.repoTags, [
      `${registry.host}/team/app:1`,
      `${registry.host}/team/app@${image.manifestDigest}`,
    ]);
    assert.deepEqual(
      target.layers.map((l) => [l.diffId, l.digest, l.mediaType, l.createdBy]),
      [
        [image.diffIds[0], image.layerDigests[0], MEDIA_TYPES.ociLayerGzip, 'ADD rootfs.tar /'],
        [image.diffIds[1], image.layerDigests[1], MEDIA_TYPES.ociLayerGzip, 'COPY app.txt /srv/'],
      ],
    );
    assert.ok(target.layers.every((l) => typeof l.size === 'number' && l.size > 0));
    assert.equal(target.config?.user, 'app');
    assert.deepEqual(target.config?.env, ['PATH=/usr/bin', 'LANG=C.UTF-8']);
    assert.deepEqual(target.config?.entrypoint, ['/srv/run']);
    assert.deepEqual(target.config?.cmd, ['--serve']);
    assert.deepEqual(target.config?.labels, { 'org.opencontainers.image.source': 'https://example.test/app' });
    assert.equal(target.config?.workingDir, '/srv');
    await opened.close();
  });

  it('streams each layer blob as stored, verified', async () => {
    const opened = await openRegistryImage(`${registry.host}/team/app:1`, {}, client);
    for (const [i, layer] of opened.layers.entries()) {
      const blob = await readAll(await layer.open());
      assert.equal(sha256Digest(blob), image.layerDigests[i]);
      assert.equal(layer.seekable, undefined);
    }
  });

  it('opens the platform asked for from an index, and records the index digest', async () => {
    const arm = await openRegistryImage(`${registry.host}/team/multi:2`, { platform: 'linux/arm64' }, client);
    assert.equal(arm.target.digest, multi.images[1]!.manifestDigest);
    assert.equal(arm.target.platform, 'linux/arm64/v8');
    assert.ok(arm.target.repoTags?.includes(`${registry.host}/team/multi@${multi.indexDigest}`));
    await assert.rejects(
      openRegistryImage(`${registry.host}/team/multi:2`, { platform: 'windows/amd64' }, client),
      isLading('NOT_FOUND', /linux\/amd64, linux\/arm64\/v8/),
    );
  });

  it('uses plain HTTP for 127.0.0.1 with a default client', async () => {
    const opened = await openRegistryImage(`${registry.host}/team/app@${image.manifestDigest}`, {});
    assert.equal(opened.target.ref, `${registry.host}/team/app@${image.manifestDigest}`);
    assert.equal(opened.target.digest, image.manifestDigest);
    // name:tag@digest: the digest decides, so the unchecked tag is not reported as pointing at it.
    const pinned = await openRegistryImage(`${registry.host}/team/app:other@${image.manifestDigest}`, {});
    assert.deepEqual(pinned.target.repoTags, [`${registry.host}/team/app@${image.manifestDigest}`]);
  });

  /** Flips one byte of the registry's stored copy of layer 1 for the rest of the test. */
  async function tamperStoredLayer(tt: Pick<TestContext, 'after'>, at: (length: number) => number): Promise<void> {
    const hex = image.layerDigests[1]!.slice(7);
    const path = join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const original = await readFile(path);
    tt.after(() => writeFile(path, original));
    const tampered = Buffer.from(original);
    const i = at(tampered.length);
    tampered[i] = tampered[i]! ^ 0xff;
    await writeFile(path, tampered);
  }

  it('fails a layer stream whose stored blob was tampered with', async (tt) => {
    await tamperStoredLayer(tt, () => 20);
    const opened = await openRegistryImage(`${registry.host}/team/app:1`, {}, client);
    await assert.rejects(readAll(await opened.layers[1]!.open()), isLading('DIGEST_MISMATCH'));
  });

  it('reports a small tampered blob that fails before the reader is attached, without crashing', async (tt) => {
    await tamperStoredLayer(tt, (length) => length - 1);
    const opened = await openRegistryImage(`${registry.host}/team/app:1`, {}, client);
    const { stream, compression } = await sniffStream(await opened.layers[1]!.open());
    // The whole blob is in by now and its digest check has failed, before anything reads on.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(readAll(decompress(stream, compression)), isLading('DIGEST_MISMATCH'));
  });

  it('refuses artifacts that are not container images, and configs that disagree with the manifest', async () => {
    const repo = `${registry.host}/team/odd`;
    const put = async (config: Buffer, configType: string, layers: { blob: Buffer; mediaType: string }[]) => {
      await client.pushBlob(repo, config);
      for (const l of layers) await client.pushBlob(repo, l.blob);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          config: { mediaType: configType, digest: sha256Digest(config), size: config.length },
          layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256Digest(l.blob), size: l.blob.length })),
        }),
      );
      await client.putManifest(repo, 'x', manifest, MEDIA_TYPES.ociManifest);
    };
    const chart = Buffer.from('chart bytes');
    await put(Buffer.from('{}'), 'application/vnd.cncf.helm.config.v1+json', [
      { blob: chart, mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip' },
    ]);
    await assert.rejects(openRegistryImage(`${repo}:x`, {}, client), isLading('BAD_INPUT', /not a container image/));

    const layer = Buffer.from('not really a tar');
    const noDiffIds = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { diff_ids: [] } }));
    await put(noDiffIds, MEDIA_TYPES.ociConfig, [{ blob: layer, mediaType: MEDIA_TYPES.ociLayerGzip }]);
    await assert.rejects(
      openRegistryImage(`${repo}:x`, {}, client),
      isLading('BAD_INPUT', /1 layers but the config 0/),
    );

    const notJson = Buffer.from('{"os": "linux", ');
    await put(notJson, MEDIA_TYPES.ociConfig, [{ blob: layer, mediaType: MEDIA_TYPES.ociLayerGzip }]);
    await assert.rejects(openRegistryImage(`${repo}:x`, {}, client), isLading('BAD_INPUT', /not valid JSON/));
  });
});
