import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupHits, type Hit } from '../../src/match/group-hits.js';
import type { OsvRecord } from '../../src/model/osv.js';
import { fixtureRecord } from '../vulndb/fixtures.js';

function hit(record: OsvRecord): Hit {
  return { record, affected: record.affected![0]!, fixedVersions: [], status: 'affected' };
}

function ids(hits: Hit[]): string[] {
  return groupHits(hits).map((g) => `${g.id} [${g.aliases.join(' ')}] ${g.hits.map((h) => h.record.id).join('+')}`);
}

describe('groupHits', () => {
  it('folds a DSA into the per-CVE finding of the CVE it names upstream, whatever the order', () => {
    const dsa = fixtureRecord('Debian', 'DSA-5532-1');
    const cve = fixtureRecord('Debian', 'DEBIAN-CVE-2023-5363');
    const expected = ['CVE-2023-5363 [DEBIAN-CVE-2023-5363 DSA-5532-1] DEBIAN-CVE-2023-5363+DSA-5532-1'];
    assert.deepEqual(ids([hit(cve), hit(dsa)]), expected);
    assert.deepEqual(
      ids([hit(dsa), hit(cve)]).map((s) => s.split(' ').slice(0, 2).join(' ')),
      ['CVE-2023-5363 [DEBIAN-CVE-2023-5363'],
    );
  });

  it('keeps a DSA over several CVEs as its own finding when no per-CVE record matched', () => {
    const dsa: OsvRecord = { ...fixtureRecord('Debian', 'DSA-5532-1'), upstream: ['CVE-2023-5363', 'CVE-2023-5678'] };
    assert.deepEqual(ids([hit(dsa)]), ['DSA-5532-1 [] DSA-5532-1']);
  });

  it('joins a multi-CVE DSA to each CVE finding and never merges on related', () => {
    const dsa: OsvRecord = { ...fixtureRecord('Debian', 'DSA-5532-1'), upstream: ['CVE-2023-5363', 'CVE-2023-5678'] };
    const a = fixtureRecord('Debian', 'DEBIAN-CVE-2023-5363');
    const b: OsvRecord = { ...a, id: 'DEBIAN-CVE-2023-5678', upstream: ['CVE-2023-5678'], related: ['CVE-2023-5363'] };
    assert.deepEqual(ids([hit(dsa), hit(a), hit(b)]), [
      'CVE-2023-5363 [DEBIAN-CVE-2023-5363 DSA-5532-1] DEBIAN-CVE-2023-5363+DSA-5532-1',
      'CVE-2023-5678 [DEBIAN-CVE-2023-5678 DSA-5532-1] DEBIAN-CVE-2023-5678+DSA-5532-1',
    ]);
  });

  it('merges records that alias each other (GHSA, PYSEC) under the CVE', () => {
    const ghsa = fixtureRecord('PyPI', 'GHSA-j8r2-6x86-q33q');
    const pysec = fixtureRecord('PyPI', 'PYSEC-2023-74');
    assert.deepEqual(ids([hit(pysec), hit(ghsa)]), [
      'CVE-2023-32681 [GHSA-j8r2-6x86-q33q PYSEC-2023-74] PYSEC-2023-74+GHSA-j8r2-6x86-q33q',
    ]);
  });
});
