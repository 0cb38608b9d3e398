import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffReports } from '../../src/diff/diff.js';
import { renderDiff } from '../../src/diff/render.js';
import { finding, pkg, report } from '../helpers/reports.js';

// Facts: Alpine 3.18.4 → 3.18.5 upgraded openssl 3.1.3-r0 → 3.1.4-r1 (CVE-2023-5678 fixed in 3.1.4-r1) and
// libcrypto3 with it; busybox 1.36.1-r5 kept CVE-2023-42366 open.
const oldSsl = pkg('apk', 'libssl3', '3.1.3-r0', { source: { name: 'openssl' } });
const newSsl = pkg('apk', 'libssl3', '3.1.4-r1', { source: { name: 'openssl' } });
const busybox = pkg('apk', 'busybox', '1.36.1-r5');
const oldReport = report(
  'alpine:3.18.4',
  [oldSsl, busybox, pkg('apk', 'ssl_client', '1.36.1-r5')],
  [
    finding(oldSsl, 'CVE-2023-5678', 'MEDIUM', { fixedVersions: ['3.1.4-r1'] }),
    finding(busybox, 'CVE-2023-42366', 'MEDIUM'),
  ],
);
const newReport = report(
  'alpine:3.18.5',
  [newSsl, busybox, pkg('apk', 'zlib', '1.3-r2')],
  [
    finding(busybox, 'CVE-2023-42366', 'MEDIUM'),
    finding(newSsl, 'CVE-2023-6129', 'HIGH', { fixedVersions: ['3.1.4-r3'] }),
  ],
);

describe('diffReports', () => {
  it('lists added, removed and changed packages', () => {
    const d = diffReports(oldReport, newReport);
    assert.deepEqual(d.packages.changed, [{ name: 'libssl3', type: 'apk', from: '3.1.3-r0', to: '3.1.4-r1' }]);
    assert.deepEqual(
      d.packages.added.map((p) => p.name),
      ['zlib'],
    );
    assert.deepEqual(
      d.packages.removed.map((p) => p.name),
      ['ssl_client'],
    );
  });

  it('matches findings by id and package name, not version', () => {
    const d = diffReports(oldReport, newReport);
    assert.deepEqual(
      d.findings.new.map((f) => f.id),
      ['CVE-2023-6129'],
    );
    assert.deepEqual(
      d.findings.fixed.map((f) => f.id),
      ['CVE-2023-5678'],
    );
    assert.equal(d.findings.unchanged, 1);
    assert.deepEqual(d.severityDelta, { critical: 0, high: 1, medium: -1, low: 0, unknown: 0 });
    assert.equal(d.direction, 'worse');
  });

  it('is better in the other direction and stable against itself', () => {
    assert.equal(diffReports(newReport, oldReport).direction, 'better');
    const same = diffReports(oldReport, oldReport);
    assert.equal(same.direction, 'stable');
    assert.equal(same.findings.new.length + same.findings.fixed.length, 0);
  });

  it('treats a DSA and its CVE alias as the same finding', () => {
    const deb = pkg('deb', 'libssl3', '3.0.11-1~deb12u1', { source: { name: 'openssl' } });
    const a = report('x', [deb], [finding(deb, 'CVE-2023-5363', 'HIGH', { aliases: ['DSA-5532-1'] })]);
    const b = report('y', [deb], [finding(deb, 'DSA-5532-1', 'HIGH')]);
    assert.equal(diffReports(a, b).findings.new.length, 0);
  });

  it('renders json, table and markdown', () => {
    const d = diffReports(oldReport, newReport);
    const json = JSON.parse(renderDiff(d, 'json'));
    assert.equal(json.direction, 'worse');
    assert.ok(Array.isArray(json.packages.added) && Array.isArray(json.findings.new));
    assert.equal(typeof json.findings.unchanged, 'number');
    assert.match(renderDiff(d, 'table'), /WORSE[\s\S]*\+ HIGH\s+CVE-2023-6129/);
    const md = renderDiff(d, 'markdown');
    assert.match(md.split('\n')[2] ?? '', /Worse/);
    assert.match(md, /#### New findings[\s\S]*CVE-2023-6129[\s\S]*#### Fixed[\s\S]*CVE-2023-5678/);
    assert.match(md, /<details><summary>3 package change/);
  });
});

describe('an incomplete comparison', () => {
  it('says so in JSON and table, and fails the diff gate even when the verdict is not worse', async () => {
    const { diffGate } = await import('../../src/diff/gate.js');
    const gap = {
      kind: 'no-data' as const,
      scope: 'Alpine:v3.18',
      message: 'no vulnerability data',
      packageIds: [busybox.id],
    };
    const unchecked = { ...newReport, findings: [], coverage: { complete: false, gaps: [gap] } };
    const d = diffReports(oldReport, unchecked);
    assert.equal(d.direction, 'better', 'fewer findings, because fewer were looked at');
    assert.deepEqual(d.incomplete, { reasons: ['new: Alpine:v3.18: no vulnerability data (1 package)'] });
    assert.match(
      renderDiff(d, 'table'),
      /^alpine:3\.18\.4 → alpine:3\.18\.5: BETTER \(INCOMPLETE: not every package was checked\)\nNOT CHECKED new: Alpine:v3\.18/,
    );
    assert.deepEqual(diffGate(d), {
      pass: false,
      reasons: ['diff: not checked: new: Alpine:v3.18: no vulnerability data (1 package)'],
    });
    const complete = diffReports(oldReport, newReport);
    assert.equal(complete.incomplete, undefined, 'a complete comparison has no such field');
    assert.equal(JSON.stringify(complete).includes('incomplete'), false);
  });
});
