import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { describeSpec, parseTargetSpec, sbomTargetPath } from '../../src/image/target-spec.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('TARGET parsing', () => {
  test('schemes with paths, tags and digests; paths may hold colons', async (t) => {
    const dir = await tempDir(t);
    const odd = join(dir, 'with:colon.tar');
    await writeFile(odd, 'x');
    await mkdir(join(dir, 'layout'));
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(await parseTargetSpec(`docker-archive:${odd}`), { kind: 'docker-archive', path: odd });
    assert.deepEqual(await parseTargetSpec(`docker-archive:${odd}:registry:5000/team/app:1`), {
      kind: 'docker-archive',
      path: odd,
      reference: 'registry:5000/team/app:1',
    });
    assert.deepEqual(await parseTargetSpec(`oci:${dir}/layout:v2`), {
      kind: 'oci',
      path: `${dir}/layout`,
      selector: { tag: 'v2' },
    });
    assert.deepEqual(await parseTargetSpec(`oci-archive:${odd}@${digest}`), {
      kind: 'oci-archive',
      path: odd,
      selector: { digest },
    });
    assert.deepEqual(await parseTargetSpec(`dir:${dir}`), { kind: 'dir', path: dir });
    assert.equal(describeSpec(await parseTargetSpec(`oci:${dir}/layout:v2`)), `oci:${dir}/layout:v2`);
  });

  test('bare strings that are not paths are registry references', async () => {
    assert.deepEqual(await parseTargetSpec('alpine:3.19'), { kind: 'registry', reference: 'alpine:3.19' });
    assert.deepEqual(await parseTargetSpec('registry:127.0.0.1:5000/x/y:1'), {
      kind: 'registry',
      reference: '127.0.0.1:5000/x/y:1',
    });
    assert.deepEqual(await parseTargetSpec('docker://ghcr.io/a/b@sha256:' + 'b'.repeat(64)), {
      kind: 'registry',
      reference: 'ghcr.io/a/b@sha256:' + 'b'.repeat(64),
    });
  });

  test('a registry host named registry or docker with a port is a host, not the scheme', async () => {
    for (const spec of ['registry:5000/app:1', 'docker:5000/team/app@sha256:' + 'c'.repeat(64), 'registry:443']) {
      assert.deepEqual(await parseTargetSpec(spec), { kind: 'registry', reference: spec }, spec);
    }
    assert.deepEqual(await parseTargetSpec('docker://registry:5000/app:1'), {
      kind: 'registry',
      reference: 'registry:5000/app:1',
    });
  });

  test('a bare path that does not exist is "no such file" (exit 3), not an image reference', async (t) => {
    const dir = await tempDir(t);
    for (const spec of [join(dir, 'nope.tar'), './nope', '../x/y', 'nope.tar.gz', 'image.TGZ', '~/saved.tar']) {
      await assert.rejects(
        parseTargetSpec(spec),
        (err) =>
          isLadingError(err) && err.code === 'NOT_FOUND' && err.exitCode === 3 && /no such file/.test(err.message),
        spec,
      );
    }
  });

  test('a scheme without its argument is a usage error (exit 2)', async () => {
    for (const spec of ['docker-archive:', 'oci:', 'dir:', 'registry:', '']) {
      await assert.rejects(parseTargetSpec(spec), (err) => isLadingError(err) && err.exitCode === 2, spec);
    }
  });

  test('a bare *.spdx.json, *.cdx.json or SBOM-shaped .json path is an SBOM target', async (t) => {
    const dir = await tempDir(t);
    const fixtures = new URL('../fixtures/sbom/', import.meta.url).pathname;
    const spdx = join(dir, 'app.spdx.json');
    const cdx = join(dir, 'app.cdx.json');
    const shaped = join(dir, 'inventory.json');
    const other = join(dir, 'config.json');
    await writeFile(spdx, await readFile(`${fixtures}syft-spdx-2.3-image.json`));
    await writeFile(cdx, await readFile(`${fixtures}trivy-cyclonedx-1.5.json`));
    await writeFile(shaped, await readFile(`${fixtures}trivy-cyclonedx-1.5.json`));
    await writeFile(other, '{"name": "not an sbom"}');
    assert.equal(await sbomTargetPath(`sbom:${spdx}`), spdx);
    assert.equal(await sbomTargetPath(spdx), spdx);
    assert.equal(await sbomTargetPath(cdx), cdx);
    assert.equal(await sbomTargetPath(shaped), shaped, 'sniffed by its first bytes');
    assert.equal(await sbomTargetPath(other), undefined);
    assert.equal(await sbomTargetPath(join(dir, 'missing.spdx.json')), undefined);
    assert.equal(await sbomTargetPath('alpine:3.20'), undefined);

    // Through the CLI, as a user types it: read as an SBOM, not refused as "neither a directory nor an archive".
    const [bySpdx, byCdx] = await Promise.all([
      runCli(['sbom', spdx, '-o', 'json', '-q']),
      runCli(['sbom', cdx, '-o', 'json', '-q']),
    ]);
    assert.equal(bySpdx.code, 0, bySpdx.stderr);
    assert.equal(JSON.parse(bySpdx.stdout).target.kind, 'sbom');
    assert.equal(byCdx.code, 0, byCdx.stderr);
    assert.equal(JSON.parse(byCdx.stdout).target.ref, `sbom:${cdx}`);
  });
});
