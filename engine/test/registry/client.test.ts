import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { RegistryClient } from '../../src/registry/client.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { parseImageIndex, parseImageManifest } from '../../src/registry/manifest.js';
import { MEDIA_TYPES } from '../../src/registry/media-types.js';
import { resolveImage } from '../../src/registry/resolve.js';
import { type BuiltImage, buildImage } from '../helpers/images.js';
import { skopeoCopy, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { isLading, readAll } from './assertions.js';

const run = promisify(execFile);

/** The file the registry serves a blob from (distribution's filesystem layout). */
function blobDataPath(registry: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

describe('RegistryClient against docker-registry (images pushed by skopeo)', () => {
  let registry: TestRegistry;
  let multi: BuiltImage;
  let single: BuiltImage;
  const client = new RegistryClient({ dockerConfigPath: '/nonexistent/config.json', retry: { retries: 0 } });

  const t = suiteCleanup();
  before(async () => {
    registry = await startRegistry(t);
    const dir = await tempDir(t);
    multi = await buildImage(join(dir, 'multi'), {
      layers: [[{ type: 'file', path: '/etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\n' }]],
      platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'],
      tag: 'multi:1',
    });
    single = await buildImage(join(dir, 'single'), {
      layers: [
        [{ type: 'file', path: '/etc/os-release', content: 'ID=debian\nVERSION_ID=12\n' }],
        [{ type: 'file', path: '/app/package.json', content: '{"name":"app","version":"1.0.0"}' }],
      ],
      tag: 'single:1',
    });
    await skopeoCopy(`oci:${multi.ociDir}:1`, `docker://${registry.host}/test/multi:1`, ['--all']);
    await skopeoCopy(`oci:${single.ociDir}:1`, `docker://${registry.host}/test/single:1`);
    // The same index converted by skopeo to a Docker manifest list of Docker v2 schema 2 manifests.
    await skopeoCopy(`oci:${multi.ociDir}:1`, `docker://${registry.host}/test/multi-docker:1`, [
      '--all',
      '--format',
      'v2s2',
    ]);
  });

  it('fetches an index by tag, with its media type and the digest skopeo kept', async () => {
    const got = await client.getManifest(`${registry.host}/test/multi:1`);
    assert.equal(got.mediaType, MEDIA_TYPES.ociIndex);
    assert.equal(got.digest, multi.indexDigest);
    assert.equal(got.digest, sha256Digest(got.bytes));
    assert.equal(parseImageIndex(got.bytes, 'x').manifests.length, 3);
  });

  it('fetches a manifest by digest and verifies it', async () => {
    const got = await client.getManifest(`${registry.host}/test/single@${single.manifestDigest}`);
    assert.equal(got.digest, single.manifestDigest);
    const manifest = parseImageManifest(got.bytes, 'x');
    assert.deepEqual(
      manifest.layers.map((l) => l.digest),
      single.layerDigests,
    );
  });

  it('chooses the platform from an index: default linux/amd64, or as asked', async () => {
    const ref = { registry: registry.host, repository: 'test/multi', tag: '1' };
    const amd = await resolveImage(client, ref);
    assert.equal(amd.manifestDigest, multi.images[0]!.manifestDigest);
    assert.equal(amd.indexDigest, multi.indexDigest);
    assert.equal(amd.platform, 'linux/amd64');
    const arm64 = await resolveImage(client, ref, 'linux/arm64');
    assert.equal(arm64.manifestDigest, multi.images[1]!.manifestDigest);
    assert.equal(arm64.platform, 'linux/arm64/v8');
    const armv7 = await resolveImage(client, ref, 'linux/arm/v7');
    assert.equal(armv7.manifestDigest, multi.images[2]!.manifestDigest);
    assert.equal(sha256Digest(armv7.config), multi.images[2]!.configDigest);
  });

  it('reads Docker manifest lists and v2 schema 2 manifests the same way', async () => {
    const ref = { registry: registry.host, repository: 'test/multi-docker', tag: '1' };
    const list = await client.getManifest(ref);
    assert.equal(list.mediaType, MEDIA_TYPES.dockerManifestList);
    const arm64 = await resolveImage(client, ref, 'linux/arm64/v8');
    assert.equal(arm64.indexDigest, list.digest);
    assert.equal(arm64.manifestMediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(arm64.manifest.config.mediaType, MEDIA_TYPES.dockerConfig);
    assert.deepEqual(
      arm64.manifest.layers.map((l) => [l.mediaType, l.digest]),
      multi.images[1]!.layerDigests.map((d) => [MEDIA_TYPES.dockerLayerGzip, d]),
    );
    assert.equal(sha256Digest(arm64.config), multi.images[1]!.configDigest);
  });

  it('names the platforms that exist when the wanted one does not', async () => {
    await assert.rejects(
      resolveImage(client, { registry: registry.host, repository: 'test/multi', tag: '1' }, 'linux/s390x'),
      isLading('NOT_FOUND', /linux\/s390x.*linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7/),
    );
  });

  it('streams blobs and verifies their digest', async () => {
    const digest = single.layerDigests[1]!;
    const blob = await readAll(await client.getBlob(`${registry.host}/test/single`, digest));
    assert.equal(sha256Digest(blob), digest);
    const stored = await readFile(join(single.ociDir, 'blobs/sha256', digest.slice(7)));
    assert.deepEqual(blob, stored);
  });

  it('answers HEAD, existence and tag listing', async () => {
    const head = await client.headManifest(`${registry.host}/test/single:1`);
    assert.equal(head?.digest, single.manifestDigest);
    assert.equal(head?.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(await client.headManifest(`${registry.host}/test/single:nope`), undefined);
    assert.equal(await client.blobExists(`${registry.host}/test/single`, single.configDigest), true);
    assert.equal(await client.blobExists(`${registry.host}/test/single`, sha256Digest(Buffer.from('x'))), false);
    assert.deepEqual(await client.listTags(`${registry.host}/test/single`), ['1']);
  });

  it('turns a missing repository or tag into NOT_FOUND naming the reference', async () => {
    await assert.rejects(
      client.getManifest(`${registry.host}/test/absent:1`),
      isLading('NOT_FOUND', /127\.0\.0\.1:\d+\/test\/absent:1/),
    );
    await assert.rejects(
      client.getBlob(`${registry.host}/test/single`, sha256Digest(Buffer.from('absent'))),
      isLading('NOT_FOUND'),
    );
  });

  it('fails the stream when a stored blob was tampered with', async () => {
    const digest = single.layerDigests[0]!;
    const path = blobDataPath(registry, digest);
    const original = await readFile(path);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1]! + 1) % 256;
    await writeFile(path, tampered);
    try {
      const stream = await client.getBlob(`${registry.host}/test/single`, digest);
      await assert.rejects(readAll(stream), isLading('DIGEST_MISMATCH', /sha256:/));
    } finally {
      await writeFile(path, original);
    }
  });

  it('rejects a manifest whose bytes do not match the digest asked for', async () => {
    const path = blobDataPath(registry, single.manifestDigest);
    const original = await readFile(path);
    await writeFile(path, Buffer.concat([original, Buffer.from(' ')]));
    try {
      await assert.rejects(
        client.getManifest(`${registry.host}/test/single@${single.manifestDigest}`),
        isLading('DIGEST_MISMATCH'),
      );
    } finally {
      await writeFile(path, original);
    }
  });

  it('pushes blobs and manifests that skopeo then reads back', async (t) => {
    const repo = `${registry.host}/ours/pushed`;
    const config = await readFile(join(single.ociDir, 'blobs/sha256', single.configDigest.slice(7)));
    assert.equal(await client.pushBlob(repo, config), single.configDigest);
    for (const digest of single.layerDigests) {
      const blob = await readFile(join(single.ociDir, 'blobs/sha256', digest.slice(7)));
      assert.equal(await client.pushBlob(repo, blob, digest), digest);
    }
    // Pushing again is a no-op, not an error.
    assert.equal(await client.pushBlob(repo, config), single.configDigest);
    const manifest = await readFile(join(single.ociDir, 'blobs/sha256', single.manifestDigest.slice(7)));
    assert.equal(await client.putManifest(repo, 'v1', manifest, MEDIA_TYPES.ociManifest), single.manifestDigest);

    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${repo}:v1`]);
    assert.equal(sha256Digest(Buffer.from(stdout)), single.manifestDigest);
    const out = await tempDir(t);
    await skopeoCopy(`docker://${repo}:v1`, `oci:${out}:v1`);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, single.manifestDigest);
  });

  it('refuses to push content that does not match the digest given', async () => {
    await assert.rejects(
      client.pushBlob(`${registry.host}/ours/pushed`, Buffer.from('a'), sha256Digest(Buffer.from('b'))),
      isLading('DIGEST_MISMATCH'),
    );
  });

  it('finds referrers through the sha256-<hex> tag schema on a registry without the referrers API', async () => {
    const repo = `${registry.host}/test/single`;
    const subject = { mediaType: MEDIA_TYPES.ociManifest, digest: single.manifestDigest, size: 1 };
    assert.deepEqual(await client.getReferrers(repo, single.manifestDigest), []);
    const empty = Buffer.from('{}');
    await client.pushBlob(repo, empty);
    const sig = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        artifactType: 'application/vnd.dev.lading.test',
        config: { mediaType: MEDIA_TYPES.ociEmpty, digest: sha256Digest(empty), size: 2 },
        layers: [{ mediaType: MEDIA_TYPES.ociEmpty, digest: sha256Digest(empty), size: 2 }],
        subject,
      }),
    );
    const sigDigest = await client.putManifest(repo, sha256Digest(sig), sig, MEDIA_TYPES.ociManifest);
    const fallback = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: sigDigest,
            size: sig.length,
            artifactType: 'application/vnd.dev.lading.test',
          },
        ],
      }),
    );
    await client.putManifest(repo, single.manifestDigest.replace(':', '-'), fallback, MEDIA_TYPES.ociIndex);
    const found = await client.getReferrers(repo, single.manifestDigest);
    assert.deepEqual(
      found.map((d) => d.digest),
      [sigDigest],
    );
    assert.deepEqual(await client.getReferrers(repo, single.manifestDigest, 'application/other'), []);
  });
});
