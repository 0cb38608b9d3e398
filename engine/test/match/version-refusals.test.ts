import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoreVector } from '../../src/match/cvss-scorer.js';
import { type AdvisorySource, matchInventory } from '../../src/match/match-inventory.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { OsvRecord } from '../../src/model/osv.js';
import { buildReport } from '../../src/report/build.js';
import { compareVersions, evaluateAffected } from '../../src/versions/index.js';
import type { AdvisoryCandidate } from '../../src/vulndb/store.js';
import { assertValidReport } from '../helpers/report-schema.js';
import { pkg } from './inventory-helpers.js';

const RULES = { compare: compareVersions, evaluate: evaluateAffected, scoreVector };

function record(id: string, name: string, events: Record<string, string>[], versions?: string[]): OsvRecord {
  return {
    id,
    modified: '2026-01-01T00:00:00Z',
    summary: `${id} in ${name}`,
    affected: [
      {
        package: { ecosystem: 'Packagist', name },
        ranges: [{ type: 'ECOSYSTEM', events: events as never }],
        ...(versions ? { versions } : {}),
      },
    ],
  };
}

/** A store stand-in: the records naming each package, as the store's candidatesFor gives them. */
function sourceOf(records: OsvRecord[]): AdvisorySource {
  return {
    candidatesFor: (_ecosystem, name): AdvisoryCandidate[] =>
      records
        .filter((r) => r.affected?.some((a) => a.package?.name === name))
        .map((r) => ({ id: r.id, affected: r.affected ?? [], record: () => r })),
    kev: () => undefined,
    epss: () => undefined,
  };
}

function scan(inventory: Inventory, records: OsvRecord[]) {
  const { findings, warnings } = matchInventory(inventory, sourceOf(records), RULES);
  const report = buildReport({
    target: { kind: 'sbom', ref: 'sbom:test.json', layers: [] },
    inventory,
    findings,
    warnings,
    createdAt: new Date('2026-06-01T00:00:00Z'),
  });
  assertValidReport(JSON.parse(JSON.stringify(report)));
  return report;
}

describe('versions a scheme refuses during matching', () => {
  const path = '/app/composer.lock';
  const logger = pkg('composer', 'logger', '1.2.0', { namespace: 'acme', path });

  it('an advisory bound Composer refuses is left out with a warning on the package; its other advisories still match', () => {
    const records = [
      // `1.2(patched)` is refused by Composer's VersionParser: that range bound cannot be used
      record('GHSA-bad-bound', 'acme/logger', [{ introduced: '1.0.0' }, { fixed: '1.2(patched)' }]),
      record('GHSA-good', 'acme/logger', [{ introduced: '0' }, { fixed: '1.3.0' }]),
    ];
    const report = scan({ packages: [logger], warnings: [] }, records);
    assert.deepEqual(report.packages, [logger]);
    // the rest of the bad record's range still decides: introduced 1.0.0 with no usable fix → affected
    assert.deepEqual(
      report.findings.map((f) => [f.id, f.packageId, f.fixedVersions]),
      [
        ['GHSA-bad-bound', logger.id, []],
        ['GHSA-good', logger.id, ['1.3.0']],
      ],
    );
    assert.deepEqual(report.warnings, [
      {
        cataloger: 'match',
        path,
        message:
          'logger 1.2.0: an advisory range bound was left out: GHSA-bad-bound fixed 1.2(patched): invalid Packagist version "1.2(patched)": not a version Composer accepts',
        packageId: logger.id,
      },
    ]);
  });

  it('an installed version Composer refuses keeps the package: ranges are skipped with a warning, exact versions still match', () => {
    const odd = pkg('composer', 'logger', 'feature-foo', { namespace: 'acme', path });
    const other = pkg('composer', 'mailer', '2.0.0', { namespace: 'acme', path });
    const records = [
      record('GHSA-range', 'acme/logger', [{ introduced: '0' }, { fixed: '9.0.0' }]),
      record('GHSA-listed', 'acme/logger', [], ['feature-foo']),
      record('GHSA-mailer', 'acme/mailer', [{ introduced: '2.0.0' }, { fixed: '2.0.1' }]),
    ];
    const report = scan({ packages: [odd, other], warnings: [] }, records);
    assert.equal(report.packages.length, 2);
    assert.deepEqual(
      report.findings.map((f) => [f.id, f.packageId]),
      [
        ['GHSA-listed', odd.id],
        ['GHSA-mailer', other.id],
      ],
    );
    assert.equal(report.warnings.length, 1);
    assert.equal(report.warnings[0]?.packageId, odd.id);
    assert.match(
      report.warnings[0]?.message ?? '',
      /^logger feature-foo: some advisories could not be evaluated: invalid Packagist version "feature-foo"/,
    );
  });

  it('every package sharing the refused version gets its own warning (the evaluation itself is done once)', () => {
    const a = pkg('composer', 'logger', 'feature-foo', { namespace: 'acme', path: '/a/composer.lock' });
    const b = pkg('composer', 'logger', 'feature-foo', { namespace: 'acme', path: '/b/composer.lock' });
    const report = scan({ packages: [a, b], warnings: [] }, [
      record('GHSA-range', 'acme/logger', [{ introduced: '0' }, { fixed: '9.0.0' }]),
    ]);
    assert.deepEqual(
      report.warnings.map((w) => [w.packageId, w.path]),
      [
        [a.id, '/a/composer.lock'],
        [b.id, '/b/composer.lock'],
      ],
    );
  });

  it('an apk version its grammar rejects is still ordered as apk orders it: no warning, the fix applies', () => {
    const alpine = { family: 'alpine', version: '3.19.1', ecosystem: 'Alpine:v3.19' };
    const musl = pkg('apk', 'musl', '1.2.4 custom', { path: '/lib/apk/db/installed' });
    const rec: OsvRecord = {
      id: 'ALPINE-CVE-1',
      modified: '2026-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'Alpine:v3.19', name: 'musl' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.4-r3' }] }],
        },
      ],
    };
    const source: AdvisorySource = {
      candidatesFor: (_e, name) =>
        name === 'musl' ? [{ id: rec.id, affected: rec.affected ?? [], record: () => rec }] : [],
      kev: () => undefined,
      epss: () => undefined,
    };
    const { findings, warnings } = matchInventory({ os: alpine, packages: [musl], warnings: [] }, source, RULES);
    // apk_version_compare: `1.2.4 custom` turns invalid where `1.2.4-r3` has a revision → it is the smaller
    assert.deepEqual(
      findings.map((f) => [f.id, f.fixedVersions]),
      [['ALPINE-CVE-1', ['1.2.4-r3']]],
    );
    assert.deepEqual(warnings, []);
  });
});
