// A version Composer refuses, end to end: a tiny CycloneDX SBOM, two OSV records imported with `lading db import`
// (one with a range bound Composer's VersionParser refuses), `lading scan sbom:` as a user runs it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lading, parseReport, removeDir } from './e2e-helpers.js';

function advisory(id: string, fixed: string): object {
  return {
    schema_version: '1.6.0',
    id,
    modified: '2026-01-01T00:00:00Z',
    published: '2026-01-01T00:00:00Z',
    summary: `${id} in acme/logger`,
    affected: [
      {
        package: { ecosystem: 'Packagist', name: 'acme/logger', purl: 'pkg:composer/acme/logger' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0.0' }, { fixed }] }],
      },
    ],
  };
}

const SBOM = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  version: 1,
  components: [
    { type: 'library', name: 'logger', group: 'acme', version: '1.2.0', purl: 'pkg:composer/acme/logger@1.2.0' },
  ],
};

describe('lading scan: an advisory version the scheme refuses', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lading-refusal-'));
    await mkdir(join(dir, 'osv', 'Packagist'), { recursive: true });
    await writeFile(
      join(dir, 'osv', 'Packagist', 'GHSA-aaaa.json'),
      JSON.stringify(advisory('GHSA-aaaa', '1.2(patched)')),
    );
    await writeFile(join(dir, 'osv', 'Packagist', 'GHSA-bbbb.json'), JSON.stringify(advisory('GHSA-bbbb', '1.3.0')));
    await writeFile(join(dir, 'bom.cdx.json'), JSON.stringify(SBOM));
    await lading(['db', 'import', join(dir, 'osv'), '--db-dir', join(dir, 'db'), '--quiet']);
  });
  after(() => removeDir(dir));

  it('keeps the package, evaluates its advisories, and warns on it by packageId', async () => {
    const r = await lading([
      'scan',
      `sbom:${join(dir, 'bom.cdx.json')}`,
      '--db-dir',
      join(dir, 'db'),
      '--offline',
      '-o',
      'json',
    ]);
    const report = parseReport(r.stdout);
    assert.equal(report.packages.length, 1);
    const id = report.packages[0]!.id;
    assert.deepEqual(
      report.findings.map((f) => [f.id, f.packageId, f.fixedVersions]),
      [
        ['GHSA-aaaa', id, []],
        ['GHSA-bbbb', id, ['1.3.0']],
      ],
    );
    const warning = report.warnings.find((w) => w.cataloger === 'match');
    assert.equal(warning?.packageId, id);
    assert.match(warning?.message ?? '', /GHSA-aaaa fixed 1\.2\(patched\): invalid Packagist version/);
  });
});
