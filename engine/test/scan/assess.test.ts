// assess(): the verdict as a pure function of a report and plain inputs, tested on report fixtures (no process).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coverageOf, type Report } from '../../src/model/report.js';
import type { Policy } from '../../src/policy/policy-file.js';
import type { VexStatement } from '../../src/policy/vex-apply.js';
import { assess } from '../../src/scan/assess.js';
import { finding, pkg, report } from '../helpers/reports.js';

const NOW = new Date('2026-11-22T00:00:00Z');

const ssl = pkg('apk', 'libssl3', '3.1.4-r0');
const zlib = pkg('apk', 'zlib', '1.2.13-r0');
const high = finding(ssl, 'CVE-2024-0727', 'HIGH', { fixedVersions: ['3.1.4-r5'] });
const medium = finding(ssl, 'CVE-2023-6129', 'MEDIUM');
const critical = finding(zlib, 'CVE-2023-45853', 'CRITICAL');
const scanned = report('registry.example.com/app:1', [ssl, zlib], [high, medium, critical]);

const vexOnCritical: VexStatement = {
  vulnerabilities: ['CVE-2023-45853'],
  products: [],
  status: 'not_affected',
  justification: 'vulnerable_code_not_in_execute_path',
  source: 'app.openvex.json',
};

function policyOf(rules: Policy['rules'], exceptions: Policy['exceptions'] = []): Policy {
  return { version: 1, rules, exceptions };
}

describe('assess', () => {
  it('asks nothing without failOn, policy or baseline: no gate, no policy verdict, findings as given', () => {
    const out = assess(scanned, { now: NOW });
    assert.equal(out.gate, undefined);
    assert.equal(out.policy, undefined);
    assert.deepEqual(out.findings, scanned.findings);
    assert.deepEqual(out.summary, scanned.summary);
  });

  it('fails on the unsuppressed findings at or above failOn; VEX takes a finding out of the gate, not the report', () => {
    const failing = assess(scanned, { failOn: 'CRITICAL', now: NOW });
    assert.deepEqual(failing.gate, { pass: false, reasons: ['1 finding at or above critical'], notes: [] });

    const vexed = assess(scanned, { vex: [vexOnCritical], failOn: 'CRITICAL', now: NOW });
    assert.deepEqual(vexed.gate, { pass: true, reasons: [], notes: [] });
    const kept = vexed.findings.find((f) => f.id === 'CVE-2023-45853');
    assert.deepEqual(kept?.suppressed, {
      kind: 'vex',
      reason: 'not_affected: vulnerable_code_not_in_execute_path',
      source: 'app.openvex.json',
    });
    assert.equal(vexed.summary.suppressed, 1);
    assert.equal(vexed.summary.bySeverity.critical, 0);
  });

  it('judges policy exceptions on `now`: live before the expiry, reported and inert after it', () => {
    const policy = policyOf(
      [{ id: 'no-critical', type: 'vulnerabilities', severity: 'CRITICAL', action: 'fail' }],
      [{ vulnerability: 'CVE-2023-45853', reason: 'not reachable', expires: '2026-12-31' }],
    );
    const before = assess(scanned, { policy, now: NOW });
    assert.equal(before.policy?.pass, true);
    assert.deepEqual(before.gate, { pass: true, reasons: [], notes: [] });
    assert.equal(before.findings.find((f) => f.id === 'CVE-2023-45853')?.suppressed?.kind, 'policy-exception');

    const after = assess(scanned, { policy, now: new Date('2027-01-01T00:00:00Z') });
    assert.deepEqual(after.policy?.expiredExceptions, [
      { id: 'CVE-2023-45853', reason: 'not reachable', expires: '2026-12-31' },
    ]);
    assert.equal(after.gate?.pass, false);
    assert.deepEqual(after.gate?.reasons, ['policy rule no-critical: CVE-2023-45853 (CRITICAL) in zlib 1.2.13-r0']);
  });

  it('warn rules are listed in the policy verdict and never fail the gate', () => {
    const policy = policyOf([{ id: 'medium-noted', type: 'vulnerabilities', severity: 'MEDIUM', action: 'warn' }]);
    const out = assess(scanned, { policy, now: NOW });
    assert.equal(out.gate?.pass, true);
    assert.deepEqual(
      out.policy?.violations.map((v) => `${v.action} ${v.rule} ${v.findingId}`),
      ['warn medium-noted CVE-2024-0727', 'warn medium-noted CVE-2023-6129', 'warn medium-noted CVE-2023-45853'],
    );
  });

  it('gates on a baseline: a new CRITICAL fails, a fall passes with a note; the threshold defaults to HIGH', () => {
    const earlier = report('registry.example.com/app:0', [ssl, zlib], [high, medium]);
    const worse = assess(scanned, { baseline: earlier, now: NOW });
    assert.equal(worse.gate?.pass, false);
    assert.deepEqual(worse.gate?.reasons, [
      'baseline: new CRITICAL CVE-2023-45853 in zlib 1.2.13-r0',
      'baseline: findings at high or above rose from 1 to 2',
    ]);

    const better = assess(earlier, { baseline: scanned, now: NOW });
    assert.deepEqual(better.gate, {
      pass: true,
      reasons: [],
      notes: ['baseline: findings at high or above fell from 2 to 1 (1 fixed, 0 new)'],
    });
    const medium2 = finding(zlib, 'CVE-2022-37434', 'MEDIUM');
    const moreMedium = report('registry.example.com/app:2', [ssl, zlib], [high, medium, medium2]);
    assert.equal(assess(moreMedium, { baseline: earlier, now: NOW }).gate?.pass, true);
    assert.equal(assess(moreMedium, { baseline: earlier, baselineSeverity: 'MEDIUM', now: NOW }).gate?.pass, false);
  });

  it('compares a baseline of another image or OS, with a note saying so', () => {
    const alpine = { family: 'alpine', version: '3.19.1', ecosystem: 'Alpine:v3.19' };
    const current = { ...scanned, os: alpine };
    const sameImage = report('registry.example.com/app:0', [ssl, zlib], [high, medium, critical], { os: alpine });
    assert.deepEqual(assess(current, { baseline: sameImage, now: NOW }).gate?.notes, [
      'baseline: findings at high or above stayed at 2, no new critical',
    ]);
    const otherImage = report('registry.example.com/other:7', [ssl, zlib], [high, medium, critical], {
      os: { family: 'alpine', version: '3.18.4', ecosystem: 'Alpine:v3.18' },
    });
    const verdict = assess(current, { baseline: otherImage, now: NOW }).gate;
    assert.equal(verdict?.pass, true, 'a note, not a failure');
    assert.deepEqual(verdict?.notes, [
      'baseline: findings at high or above stayed at 2, no new critical',
      'baseline: baseline is of another image: registry.example.com/other:7 (this scan: registry.example.com/app:1)',
      'baseline: baseline is of another OS: alpine 3.18.4 (this scan: alpine 3.19.1)',
    ]);
    // Docker Hub's short names are the same repository as their long form; a folder has no image name to compare.
    const hub = report('alpine:3.19', [ssl], [], { os: alpine });
    const hubLong = report('docker.io/library/alpine:3.20', [ssl], [], { os: alpine });
    assert.deepEqual(assess(hubLong, { baseline: hub, now: NOW }).gate?.notes, [
      'baseline: findings at high or above stayed at 0, no new critical',
    ]);
    const folder = report('dir:/srv/rootfs', [ssl], [], { os: alpine });
    assert.equal(assess(folder, { baseline: hub, now: NOW }).gate?.notes.length, 1);
  });

  it('combines every gate into one verdict', () => {
    const policy = policyOf([{ id: 'no-zlib', type: 'packages', deny: ['zlib'], action: 'fail' }]);
    const out = assess(scanned, { failOn: 'HIGH', policy, now: NOW });
    assert.deepEqual(out.gate?.reasons, [
      '2 findings at or above high',
      'policy rule no-zlib: zlib 1.2.13-r0 (pkg:apk/alpine/zlib@1.2.13-r0) is on the deny list',
    ]);
  });

  it('recomputes the end-of-life status for `now`, whatever the report said on its own date', () => {
    const buster: Report = {
      ...scanned,
      os: { family: 'debian', version: '10', ecosystem: 'Debian:10', eolDate: '2024-06-30', eol: false },
    };
    const policy = policyOf([{ id: 'supported-os', type: 'image', forbidEol: true, action: 'fail' }]);
    const early = assess(buster, { policy, now: new Date('2024-06-30T12:00:00Z') });
    assert.equal(early.os?.eol, false);
    assert.equal(early.gate?.pass, true);
    const late = assess(buster, { policy, now: new Date('2024-07-01T00:00:00Z') });
    assert.equal(late.os?.eol, true);
    assert.deepEqual(late.gate?.reasons, ['policy rule supported-os: debian 10 is past its end of life (2024-06-30)']);
    // A release whose end of life is not known says so, rather than nothing.
    const unknown: Report = { ...scanned, os: { family: 'debian', version: '99' } };
    assert.deepEqual(assess(unknown, { now: NOW }).os, { family: 'debian', version: '99', eolStatus: 'unknown' });
  });

  it('forbidEol fails a release past its end of life (Alpine 3.10 included) and warns on an unknown one', () => {
    const policy = policyOf([{ id: 'supported-os', type: 'image', forbidEol: true, action: 'fail' }]);
    const old: Report = { ...scanned, os: { family: 'alpine', version: '3.10.9', ecosystem: 'Alpine:v3.10' } };
    const failed = assess(old, { policy, now: NOW });
    assert.equal(failed.gate?.pass, false);
    assert.deepEqual(failed.gate?.reasons, [
      'policy rule supported-os: alpine 3.10.9 is past its end of life (2021-05-01)',
    ]);
    const unknown: Report = { ...scanned, os: { family: 'alpine', version: '3.99.0', ecosystem: 'Alpine:v3.99' } };
    const warned = assess(unknown, { policy, now: NOW });
    assert.equal(warned.gate?.pass, true, 'an unknown date is not a known end of life');
    assert.deepEqual(warned.policy?.violations, [
      {
        rule: 'supported-os',
        action: 'warn',
        message: 'alpine 3.99.0: end of life unknown (no date known for this release)',
      },
    ]);
  });

  it('is pure: the input report is not changed and the same inputs give the same verdict', () => {
    const policy = policyOf(
      [{ id: 'no-high', type: 'vulnerabilities', severity: 'HIGH', action: 'fail' }],
      [{ vulnerability: 'CVE-2024-0727', reason: 'patched in place' }],
    );
    const copy = structuredClone(scanned);
    const inputs = { vex: [vexOnCritical], policy, baseline: scanned, failOn: 'MEDIUM' as const, now: NOW };
    const first = assess(scanned, inputs);
    assert.deepEqual(scanned, copy);
    assert.deepEqual(assess(structuredClone(scanned), inputs), first);
    // An assessed report can be assessed again with the same result (suppressions are not stacked).
    assert.deepEqual(assess(first, inputs), first);
  });

  it('never passes a gate on an incomplete report, even with nothing found', () => {
    const clean = report('registry.example.com/app:1', [ssl, zlib], []);
    assert.equal(assess(clean, { now: NOW, failOn: 'LOW' }).gate?.pass, true);
    const gaps = coverageOf([
      { kind: 'no-data', scope: 'Alpine:v3.19', message: 'no vulnerability data', packageIds: [ssl.id, zlib.id] },
      { kind: 'catalog-incomplete', scope: 'npm', path: '/app/package-lock.json', message: 'too many entries' },
    ]);
    const out = assess({ ...clean, ...(gaps ? { coverage: gaps } : {}) }, { now: NOW, failOn: 'CRITICAL' });
    assert.equal(out.gate?.pass, false);
    assert.deepEqual(out.gate?.reasons, [
      'not checked: Alpine:v3.19: no vulnerability data (2 packages)',
      'not checked: npm /app/package-lock.json: too many entries',
    ]);
    assert.equal(coverageOf([]), undefined);
  });
});
