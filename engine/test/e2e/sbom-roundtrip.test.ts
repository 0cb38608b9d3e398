// An SBOM written by `lading sbom` must carry everything a later `lading scan sbom:` needs: the same packages
// (with dpkg source packages, so Debian advisories still match) and therefore the same findings. With
// SOURCE_DATE_EPOCH set, two runs are byte-identical (reproducible builds attach SBOMs by digest).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../../src/model/report.js';
import { findingLines, importedDb, lading, parseReport, ROOTFS, removeDir } from './e2e-helpers.js';

const TARGET = `dir:${ROOTFS.debian12}`;
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

/** What an SBOM must keep of a package for matching to give the same answer. */
function packageFacts(report: Report): string[] {
  return report.packages
    .map((p) =>
      [p.type, p.name, p.version, p.purl, p.source ? `${p.source.name}@${p.source.version ?? ''}` : '-'].join(' '),
    )
    .sort();
}

describe('SBOM round trip through the CLI', () => {
  let dbDir = '';
  let work = '';
  const file = (name: string) => join(work, name);
  before(async () => {
    [dbDir, work] = await Promise.all([importedDb(), mkdtemp(join(tmpdir(), 'lading-e2e-sbom-'))]);
    const sbomArgs = (suffix: string) => [
      'sbom',
      TARGET,
      '-o',
      `cyclonedx-json=${file(`bom${suffix}.cdx.json`)}`,
      '-o',
      `spdx-json=${file(`bom${suffix}.spdx.json`)}`,
    ];
    await Promise.all([lading(sbomArgs('1'), 0, EPOCH), lading(sbomArgs('2'), 0, EPOCH)]);
  });
  after(async () => {
    await removeDir(dbDir);
    await removeDir(work);
  });

  it('writes byte-identical SBOMs when SOURCE_DATE_EPOCH is set', () => {
    for (const format of ['cdx', 'spdx']) {
      const first = readFileSync(file(`bom1.${format}.json`));
      const second = readFileSync(file(`bom2.${format}.json`));
      assert.ok(first.length > 1000, `${format} SBOM is not empty`);
      assert.ok(first.equals(second), `${format}: two runs differ`);
    }
    const cdx = JSON.parse(readFileSync(file('bom1.cdx.json'), 'utf8')) as { metadata?: { timestamp?: string } };
    assert.equal(cdx.metadata?.timestamp, '2023-11-14T22:13:20Z');
  });

  it('scanning the CycloneDX or SPDX SBOM gives the packages and findings of scanning the directory', async () => {
    const [fromDir, fromCdx, fromSpdx] = await Promise.all([
      lading(['scan', TARGET, '--db-dir', dbDir, '-o', 'json']),
      lading(['scan', `sbom:${file('bom1.cdx.json')}`, '--db-dir', dbDir, '-o', 'json']),
      lading(['scan', `sbom:${file('bom1.spdx.json')}`, '--db-dir', dbDir, '-o', 'json']),
    ]);
    const dir = parseReport(fromDir.stdout);
    assert.equal(dir.findings.length, 6);
    for (const [name, result] of [
      ['cyclonedx', fromCdx],
      ['spdx', fromSpdx],
    ] as const) {
      const report = parseReport(result.stdout);
      assert.equal(report.target.kind, 'sbom', name);
      assert.equal(report.os?.ecosystem, 'Debian:12', name);
      assert.deepEqual(packageFacts(report), packageFacts(dir), `${name}: packages`);
      assert.deepEqual(findingLines(report.findings), findingLines(dir.findings), `${name}: findings`);
      assert.deepEqual(
        report.findings.map((f) => [...f.aliases].sort().join()).sort(),
        dir.findings.map((f) => [...f.aliases].sort().join()).sort(),
        `${name}: aliases`,
      );
    }
  });
});
