import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/catalog/cataloger.js';
import { scanJavaArchive } from '../../src/catalog/lang/java/archive.js';
import { nestedAccount } from '../../src/image/walk/inflate-account.js';
import { buildZip } from '../catalog/lang/zip-writer.js';
import { runCli } from '../helpers/cli.js';
import { buildImage } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';

const pom = (artifactId: string) => ({
  name: `META-INF/maven/org.example/${artifactId}/pom.properties`,
  data: `groupId=org.example\nartifactId=${artifactId}\nversion=1.0\n`,
});

/** A jar of a few KB holding a jar that inflates to 3 MiB (a stored blob of zeros): small layers, big nesting. */
function jarNestingThreeMiB(): Buffer {
  const inner = buildZip([pom('inner'), { name: 'blob.bin', data: Buffer.alloc(3 * 1024 * 1024), store: true }]);
  return buildZip([pom('outer'), { name: 'lib/inner.jar', data: inner }]);
}

describe('one inflate budget per image, shared by its layers and the archives nested in its files', () => {
  test('a nested jar inflating past --max-image-size stops the scan with exit 3; a larger limit scans it', async (t) => {
    const jar = jarNestingThreeMiB();
    assert.ok(jar.length < 64 * 1024, `${jar.length} bytes`);
    const built = await buildImage(await tempDir(t), {
      layers: [[{ type: 'file', path: '/app/app.jar', content: jar }]],
      compression: 'gzip',
    });
    const limited = await runCli(['sbom', `oci:${built.ociDir}`, '--max-image-size', '1MiB', '-o', 'json']);
    assert.equal(limited.code, 3, limited.stderr);
    assert.match(
      limited.stderr.trim(),
      /^lading: .*layers and the archives in them inflate past the 1048576-byte limit$/,
    );
    const roomy = await runCli(['sbom', `oci:${built.ociDir}`, '--max-image-size', '64MiB', '-o', 'json']);
    assert.equal(roomy.code, 0, roomy.stderr);
    const names = (JSON.parse(roomy.stdout) as { packages: { name: string }[] }).packages.map((p) => p.name);
    assert.ok(names.includes('org.example:inner'), names.join(', '));
    assert.ok(names.includes('org.example:outer'), names.join(', '));
  });

  test('the same budget holds for a gzip docker-archive (read in one pass) and a root filesystem directory', async (t) => {
    const dir = await tempDir(t);
    const jar = jarNestingThreeMiB();
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/app/app.jar', content: jar }]],
      gzipDockerArchive: true,
    });
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'app'), { recursive: true });
    await writeFile(join(rootfs, 'app/app.jar'), jar);
    for (const [target, what] of [
      [`docker-archive:${built.dockerArchive}`, 'layers and the archives in them'],
      [`dir:${rootfs}`, 'archives in the files'],
    ]) {
      const limited = await runCli(['sbom', `${target}`, '--max-image-size', '1MiB', '-o', 'json']);
      assert.equal(limited.code, 3, `${target}: ${limited.stderr}`);
      assert.match(limited.stderr.trim(), new RegExp(`^lading: .*${what} inflate past the 1048576-byte limit$`));
      const roomy = await runCli(['sbom', `${target}`, '--max-image-size', '64MiB', '-o', 'json']);
      assert.equal(roomy.code, 0, `${target}: ${roomy.stderr}`);
      assert.match(roomy.stdout, /org\.example:inner/);
    }
  });

  test('what a jar inflates is charged to the account it is given, and overdrawing it throws LIMIT', () => {
    const jar = jarNestingThreeMiB();
    const roomy = { left: 16 * 1024 * 1024, max: 16 * 1024 * 1024 };
    const scan = scanJavaArchive(jar, 'app.jar', DEFAULT_LIMITS, nestedAccount(roomy));
    assert.equal(scan.problems.length, 0, JSON.stringify(scan.problems));
    assert.ok(roomy.max - roomy.left >= 3 * 1024 * 1024, `${roomy.max - roomy.left} bytes charged`);
    // The account was already partly spent by the layers: the jar gets only what is left.
    const spent = { left: 1024 * 1024, max: 8 * 1024 * 1024 };
    assert.throws(
      () => scanJavaArchive(jar, 'app.jar', DEFAULT_LIMITS, nestedAccount(spent)),
      (err: Error & { code?: string }) =>
        err.code === 'LIMIT' && /inflate past the 8388608-byte limit/.test(err.message),
    );
    // The per-archive cap still holds on its own, as a problem of that archive.
    const small = scanJavaArchive(jar, 'app.jar', { ...DEFAULT_LIMITS, maxInflateBytes: 1024 * 1024 });
    assert.match(small.problems[0]?.message ?? '', /inflate limit/);
  });
});
