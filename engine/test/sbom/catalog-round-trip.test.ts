import assert from 'node:assert/strict';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CATALOGERS } from '../../src/catalog/registry.js';
import { runCatalogers } from '../../src/catalog/run.js';
import type { WantedFile } from '../../src/image/file.js';
import type { Package } from '../../src/model/package.js';
import { buildReport } from '../../src/report/build.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderCycloneDx } from '../../src/sbom/cyclonedx-writer.js';
import { parseSbom } from '../../src/sbom/read.js';
import { renderSpdx } from '../../src/sbom/spdx-writer.js';
import { ENGINE_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { wantedFromDir } from '../helpers/wanted-files.js';
import { cyclonedxValidator, errorsOf, spdxValidator } from './schemas.js';

const CATALOG_FIXTURES = join(ENGINE_ROOT, 'test/fixtures/catalog');

function essentials(p: Package) {
  return { name: p.name, version: p.version, type: p.type, purl: p.purl, source: p.source };
}

/** A root filesystem from other modules' real fixtures: Debian 12's os-release and dpkg status, an npm app. */
async function rootfs(dir: string): Promise<string> {
  const root = join(dir, 'rootfs');
  await cp(join(CATALOG_FIXTURES, 'os/dpkg/bookworm'), root, { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await cp(join(CATALOG_FIXTURES, 'os/release/debian-12'), join(root, 'etc/os-release'));
  await cp(join(CATALOG_FIXTURES, 'lang/npm/app'), join(root, 'app'), { recursive: true });
  return root;
}

describe('catalogers → SBOM → inventory', () => {
  it('the real catalogers’ inventory of a Debian rootfs survives CycloneDX and SPDX unchanged', async (t) => {
    const root = await rootfs(await tempDir(t));
    const files = new Map<string, WantedFile>();
    for (const cataloger of CATALOGERS)
      for (const [path, file] of await wantedFromDir(root, cataloger)) files.set(path, file);
    const inventory = await runCatalogers(files, CATALOGERS);
    const debs = inventory.packages.filter((p) => p.type === 'deb');
    assert.ok(debs.length >= 10, `dpkg cataloger found ${debs.length} packages`);
    assert.ok(
      inventory.packages.some((p) => p.type === 'npm'),
      'npm cataloger found the app',
    );
    assert.equal(inventory.os?.ecosystem, 'Debian:12');

    const target = { kind: 'rootfs' as const, ref: `dir:${root}`, layers: [] };
    const report = buildReport({ target, inventory, findings: [], warnings: [], createdAt: new Date() });
    const cdxText = renderCycloneDx(report, DEFAULT_RENDER_OPTIONS);
    const validate = cyclonedxValidator('1.6');
    assert.ok(validate(JSON.parse(cdxText)), errorsOf(validate));
    const fromCdx = parseSbom(cdxText, 'rootfs.cdx.json');
    assert.deepEqual(fromCdx.inventory.packages.map(essentials), report.packages.map(essentials));
    assert.deepEqual(
      fromCdx.inventory.packages.map((p) => p.id),
      report.packages.map((p) => p.id),
      'ids are the same, so baselines and diffs line up across image and SBOM scans',
    );
    assert.deepEqual(
      { ...fromCdx.inventory.os, eol: undefined, eolStatus: undefined },
      { ...report.os, eol: undefined, eolStatus: undefined },
    );

    const spdxText = renderSpdx(report, DEFAULT_RENDER_OPTIONS);
    const validateSpdx = spdxValidator();
    assert.ok(validateSpdx(JSON.parse(spdxText)), errorsOf(validateSpdx));
    const fromSpdx = parseSbom(spdxText, 'rootfs.spdx.json');
    assert.deepEqual(fromSpdx.inventory.packages.map(essentials), report.packages.map(essentials));
    assert.equal(fromSpdx.inventory.os?.ecosystem, 'Debian:12');
  });
});
