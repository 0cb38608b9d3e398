import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countsText,
  dateToUtc,
  filterText,
  formatAge,
  formatTime,
  listOf,
  shortDigest,
  sortRows,
  thresholdState,
  worstSeverity,
} from '../src/format.js';
import { matchRoute } from '../src/router.js';

describe('dashboard formatting', () => {
  it('shortens digests and prints times in UTC', () => {
    assert.equal(shortDigest(`sha256:${'ab'.repeat(32)}`), 'abababababab');
    assert.equal(formatTime('2026-11-23T06:00:04Z'), '2026-11-23 06:00 UTC');
    assert.equal(formatTime(null), '—');
    assert.equal(formatTime('garbage'), '—');
  });

  it('gives ages in the largest whole unit', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    assert.equal(formatAge('2026-12-06T11:59:30Z', now), 'just now');
    assert.equal(formatAge('2026-12-06T11:48:00Z', now), '12 min');
    assert.equal(formatAge('2026-12-05T12:00:00Z', now), '24 h');
    assert.equal(formatAge('2026-12-01T12:00:00Z', now), '5 d');
  });

  it('says severity in words, so colour never carries it alone', () => {
    const counts = { critical: 2, high: 0, medium: 5, low: 0, unknown: 1 };
    assert.equal(countsText(counts), '2 critical, 5 medium, 1 unknown');
    assert.equal(countsText({ critical: 0, high: 0, medium: 0, low: 0, unknown: 0 }), 'no open findings');
    assert.equal(worstSeverity(counts), 'critical');
  });

  it('colours by thresholds', () => {
    assert.equal(thresholdState(0, { warn: 1, fail: 5 }), 'ok');
    assert.equal(thresholdState(1, { warn: 1, fail: 5 }), 'warn');
    assert.equal(thresholdState(5, { warn: 1, fail: 5 }), 'bad');
  });

  it('sorts stably with nulls last in both directions', () => {
    const rows = [{ k: 2 }, { k: null }, { k: 1 }, { k: 2 }];
    assert.deepEqual(
      sortRows(rows, (r) => r.k, 'ascending').map((r) => r.k),
      [1, 2, 2, null],
    );
    assert.deepEqual(
      sortRows(rows, (r) => r.k, 'descending').map((r) => r.k),
      [2, 2, 1, null],
    );
  });

  it('routes paths to pages and decodes parameters', () => {
    assert.deepEqual(matchRoute('/'), { page: 'overview', params: {} });
    assert.deepEqual(matchRoute(`/images/sha256:${'0'.repeat(64)}`), {
      page: 'image',
      params: { digest: `sha256:${'0'.repeat(64)}` },
    });
    assert.deepEqual(matchRoute('/vulns/CVE-2024-3094'), { page: 'vulnerability', params: { id: 'CVE-2024-3094' } });
    assert.equal(matchRoute('/nope/x/y').page, 'not-found');
  });
});

describe('settings form helpers', () => {
  it('reads a typed list: lines or commas, trimmed, empty entries and repeats dropped', () => {
    assert.deepEqual(listOf(' ghcr.io/acme/* ,\nrefs/tags/*\n\n, ghcr.io/acme/* '), ['ghcr.io/acme/*', 'refs/tags/*']);
    assert.deepEqual(listOf(''), []);
  });

  it("says a notification rule's filter in words", () => {
    assert.equal(filterText({}), 'everything');
    assert.equal(
      filterText({ minSeverity: 'high', kevOnly: true, repositories: ['a', 'b'], teams: ['edge'] }),
      'high or worse; KEV only; repositories a, b; teams edge',
    );
    assert.equal(filterText({ eventTypes: ['finding.new'], kevOnly: false }), 'events finding.new');
  });

  it('turns a date input into the UTC time the API takes, refusing anything else', () => {
    assert.equal(dateToUtc('2027-03-01'), '2027-03-01T00:00:00.000Z');
    assert.equal(dateToUtc(''), undefined);
    assert.equal(dateToUtc('2027-13-45'), undefined);
    assert.equal(dateToUtc('01/03/2027'), undefined);
  });
});
