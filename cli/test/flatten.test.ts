import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { buildImage } from '../../engine/test/helpers/images.js';
import { ENGINE_ROOT } from '../../engine/test/helpers/paths.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

const STATUS = join(ENGINE_ROOT, 'test', 'fixtures', 'smoke', 'rootfs', 'var', 'lib', 'dpkg', 'status');

/** The packages an SPDX document lists (name@version), the document's own root left out. */
function packagesOf(spdx: string): string[] {
  const doc = JSON.parse(spdx) as { packages: { name: string; versionInfo?: string; externalRefs?: unknown[] }[] };
  return doc.packages
    .filter((p) => p.externalRefs?.length && !p.versionInfo?.startsWith('sha256:'))
    .map((p) => `${p.name}@${p.versionInfo}`)
    .sort();
}

describe('lading flatten', () => {
  it('writes a one-layer image whose SBOM lists the same packages, reports sizes, and is reproducible', async (t) => {
    const dir = await tempDir(t);
    const status = await readFile(STATUS);
    const image = await buildImage(dir, {
      layers: [
        [
          { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
          { type: 'file', path: 'var/lib/dpkg/status', content: status },
          { type: 'file', path: 'tmp/build-cache', content: 'x'.repeat(4096) },
        ],
        [{ type: 'whiteout', path: 'tmp/build-cache' }],
      ],
      config: { user: '65532', cmd: ['/app'] },
    });
    const out = join(dir, 'flat');
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const first = await runCli(['flatten', `oci:${image.ociDir}`, '-o', `oci:${out}:flat`, '--json'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /^flattened oci:.* \(2 layers\) into oci:.*:flat: sha256:[a-f0-9]{64}$/m);
    assert.match(first.stderr, /^size: compressed \d+ → \d+ bytes, uncompressed \d+ → \d+ bytes$/m);
    const result = JSON.parse(first.stdout);
    assert.equal(result.source.layers, 2);
    assert.ok(result.size.after.uncompressed < result.size.before.uncompressed);

    const again = await runCli(['flatten', `oci:${image.ociDir}`, '-o', `oci:${join(dir, 'flat2')}:flat`, '--json'], {
      env,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).manifestDigest, result.manifestDigest, 'same input, same digests');

    const [before, after] = await Promise.all([
      runCli(['sbom', `oci:${image.ociDir}`, '-o', 'spdx-json', '-q']),
      runCli(['sbom', `oci:${out}:flat`, '-o', 'spdx-json', '-q']),
    ]);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(after.code, 0, after.stderr);
    const packages = packagesOf(before.stdout);
    assert.ok(
      packages.some((p) => p.startsWith('libssl3@')),
      packages.join(' '),
    );
    assert.deepEqual(packagesOf(after.stdout), packages);
  });

  it('refuses an output that is not oci:DIR, and a dir: target', async (t) => {
    const dir = await tempDir(t);
    const bad = await runCli(['flatten', `dir:${dir}`, '-o', `docker-archive:${join(dir, 'x.tar')}`]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /expected oci:DIR\[:TAG\]/);
    const rootfs = await runCli(['flatten', `dir:${dir}`, '-o', `oci:${join(dir, 'out')}`]);
    assert.equal(rootfs.code, 2, rootfs.stderr);
    assert.match(rootfs.stderr, /flatten reads an image/);
  });
});
