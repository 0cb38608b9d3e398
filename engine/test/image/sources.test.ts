import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openTarget } from '../../src/image/open.js';
import { buildImage, type Compression, type LayerSpec } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, OS_SELECTOR, textOf } from './select.js';

const LAYERS: LayerSpec[] = [
  [
    { type: 'dir', path: '/etc' },
    { type: 'file', path: '/usr/lib/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    { type: 'symlink', path: '/etc/os-release', target: '../usr/lib/os-release' },
    { type: 'file', path: '/var/lib/dpkg/status', content: 'Package: base-files\n' },
  ],
  [{ type: 'file', path: '/var/lib/dpkg/status', content: 'Package: base-files\n\nPackage: curl\n' }],
];

const CONFIG = {
  user: 'app',
  env: ['PATH=/usr/bin', 'LANG=C.UTF-8'],
  entrypoint: ['/docker-entrypoint.sh'],
  cmd: ['serve'],
  labels: { 'org.opencontainers.image.source': 'https://example.test/app' },
  workingDir: '/srv',
  createdBy: ['ADD rootfs.tar /', 'RUN apt-get install -y curl'],
};

async function walkAll(spec: string) {
  const opened = await openTarget(spec);
  try {
    const walked = await opened.walk(OS_SELECTOR, LIMITS);
    return { target: opened.target, walked };
  } finally {
    await opened.close();
  }
}

describe('image sources', () => {
  for (const compression of ['gzip', 'zstd', 'none'] as Compression[]) {
    test(`OCI layout, OCI archive and docker-archive agree (${compression} layers)`, async (t) => {
      const dir = await tempDir(t);
      const built = await buildImage(dir, { layers: LAYERS, config: CONFIG, compression, tag: 'example/app:1.0' });
      const forms = [`oci:${built.ociDir}`, `oci-archive:${built.ociArchive}`, `docker-archive:${built.dockerArchive}`];
      const results = [];
      for (const spec of forms) results.push(await walkAll(spec));
      for (const [i, { target, walked }] of results.entries()) {
        const spec = forms[i];
        assert.deepEqual(
          textOf(walked.files),
          {
            '/etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
            '/var/lib/dpkg/status': 'Package: base-files\n\nPackage: curl\n',
          },
          spec,
        );
        const status = walked.files.get('/var/lib/dpkg/status');
        assert.equal(status?.layer, built.diffIds[1], `${spec}: status attributed to the top layer`);
        assert.deepEqual(
          status?.history?.map((h) => [h.layer, h.content.toString()]),
          [[built.diffIds[0], 'Package: base-files\n']],
        );
        const osRelease = walked.files.get('/etc/os-release');
        assert.equal(osRelease?.meta.type, 'symlink');
        assert.equal(osRelease?.meta.linkTarget, '/usr/lib/os-release');
        assert.equal(osRelease?.layer, built.diffIds[0]);
        assert.deepEqual(walked.warnings, []);

        assert.equal(target.kind, 'image');
        assert.equal(target.imageId, built.configDigest, spec);
        assert.equal(target.platform, 'linux/amd64');
        assert.deepEqual(
          target.layers.map((l) => [l.diffId, l.createdBy]),
          [
            [built.diffIds[0], 'ADD rootfs.tar /'],
            [built.diffIds[1], 'RUN apt-get install -y curl'],
          ],
        );
        assert.equal(target.config?.user, 'app');
        assert.deepEqual(target.config?.env, CONFIG.env);
        assert.deepEqual(target.config?.entrypoint, CONFIG.entrypoint);
        assert.deepEqual(target.config?.cmd, CONFIG.cmd);
        assert.deepEqual(target.config?.labels, CONFIG.labels);
        assert.equal(target.config?.workingDir, '/srv');
        assert.equal(target.config?.history?.length, 3, 'history keeps the empty_layer step');
      }
      const [oci, ociArchive, docker] = results;
      for (const r of [oci, ociArchive]) {
        assert.equal(r?.target.digest, built.manifestDigest);
        assert.deepEqual(r?.target.repoTags, ['1.0']);
        assert.deepEqual(
          r?.target.layers.map((l) => l.digest),
          built.layerDigests,
        );
        assert.ok(r?.target.layers.every((l) => l.mediaType?.startsWith('application/vnd.oci.image.layer.v1.tar')));
      }
      assert.deepEqual(docker?.target.repoTags, ['example/app:1.0']);
      assert.equal(oci?.target.ref, `oci:${built.ociDir}`);
      assert.equal(docker?.target.ref, `docker-archive:${built.dockerArchive}`);
    });
  }

  test('gzip-compressed docker-archive (docker save | gzip)', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, { layers: LAYERS, gzipDockerArchive: true });
    const { target, walked } = await walkAll(`docker-archive:${built.dockerArchive}`);
    assert.equal(target.imageId, built.configDigest);
    assert.equal(walked.files.get('/var/lib/dpkg/status')?.layer, built.diffIds[1]);
    assert.equal(walked.files.get('/etc/os-release')?.content.toString(), 'ID=debian\nVERSION_ID="12"\n');
  });

  test('bare paths are sniffed: layout directory, docker tar, OCI tar, gzip docker tar', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, { layers: LAYERS });
    const gz = await buildImage(await tempDir(t), { layers: LAYERS, gzipDockerArchive: true });
    const cases: [string, string][] = [
      [built.ociDir, `oci:${built.ociDir}`],
      [built.dockerArchive, `docker-archive:${built.dockerArchive}`],
      [built.ociArchive, `oci-archive:${built.ociArchive}`],
      [gz.dockerArchive, `docker-archive:${gz.dockerArchive}`],
    ];
    for (const [bare, ref] of cases) {
      const { target, walked } = await walkAll(bare);
      assert.equal(target.ref, ref);
      assert.equal(walked.files.size, 2, bare);
    }
  });

  test('uncompressed docker-archive layers are read by seeking, compressed OCI ones are not', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, { layers: LAYERS });
    const { openDockerArchive } = await import('../../src/image/sources/docker-archive.js');
    const image = await openDockerArchive(built.dockerArchive, undefined, 'x');
    try {
      assert.ok(image.layers.every((l) => l.seekable && l.seekable.offset > 0 && l.seekable.size > 0));
    } finally {
      await image.close();
    }
  });

  test('dir: walks a real root filesystem with the same link rules', async (t) => {
    const root = await tempDir(t);
    const { mkdir, writeFile, symlink } = await import('node:fs/promises');
    await mkdir(`${root}/usr/lib`, { recursive: true });
    await mkdir(`${root}/etc`);
    await mkdir(`${root}/var/lib/dpkg`, { recursive: true });
    await writeFile(`${root}/usr/lib/os-release`, 'ID=alpine\n');
    await symlink('/usr/lib/os-release', `${root}/etc/os-release`);
    await writeFile(`${root}/var/lib/dpkg/status`, 'Package: x\n');
    const { target, walked } = await walkAll(`dir:${root}`);
    assert.equal(target.kind, 'rootfs');
    assert.equal(target.ref, `dir:${root}`);
    assert.deepEqual(textOf(walked.files), {
      '/etc/os-release': 'ID=alpine\n',
      '/var/lib/dpkg/status': 'Package: x\n',
    });
    assert.equal(walked.files.get('/etc/os-release')?.layer, undefined);
    // A bare directory without oci-layout is a root filesystem too.
    assert.equal((await walkAll(root)).target.kind, 'rootfs');
  });
});
