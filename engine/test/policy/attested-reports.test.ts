import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LadingError } from '../../src/errors/lading-error.js';
import { checkAttestedReports, LADING_REPORT_PREDICATE_TYPE } from '../../src/policy/attested-reports.js';
import type { Policy } from '../../src/policy/policy-file.js';
import { finding, pkg, report } from '../helpers/reports.js';

const libc = pkg('deb', 'libc6', '2.36-9+deb12u1');
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const base = report(
  'registry.example.com/app:1.0',
  [libc],
  [finding(libc, 'CVE-2023-4911', 'HIGH', { kev: true, fixedVersions: ['2.36-9+deb12u3'] })],
);
const scanned = { ...base, target: { ...base.target, digest: DIGEST } };
const subject = { name: 'registry.example.com/app', digest: DIGEST };
const noKev: Policy = {
  version: 1,
  rules: [{ id: 'no-kev', type: 'vulnerabilities', kev: true, action: 'fail' }],
  exceptions: [],
};
const now = new Date('2026-11-22T00:00:00Z');

describe('verify-attestation --policy', () => {
  it('fails when an attested report breaks a fail rule, naming the rule and finding', () => {
    const verdict = checkAttestedReports(
      [{ predicateType: LADING_REPORT_PREDICATE_TYPE, predicate: scanned }],
      noKev,
      now,
      subject,
    );
    assert.equal(verdict.pass, false);
    assert.match(verdict.reasons[0]!, /registry\.example\.com\/app:1\.0 .*policy rule no-kev: CVE-2023-4911/);
  });

  it('passes when the attested report satisfies the policy or an exception covers it', () => {
    const excepted: Policy = { ...noKev, exceptions: [{ vulnerability: 'CVE-2023-4911', reason: 'patched in place' }] };
    const verdict = checkAttestedReports([{ predicateType: 'x', predicate: scanned }], excepted, now, subject);
    assert.equal(verdict.pass, true);
    assert.deepEqual(verdict.notes, ['1 attested report checked']);
  });

  it('is a "no" (exit 1) when no attestation carries a Lading report', () => {
    assert.throws(
      () =>
        checkAttestedReports(
          [{ predicateType: 'https://slsa.dev/provenance/v1', predicate: { builder: {} } }],
          noKev,
          now,
          subject,
        ),
      (err: unknown) =>
        err instanceof LadingError && err.exitCode === 1 && /no verified attestation carries/.test(err.message),
    );
  });

  it('refuses (exit 1) a signed report of another image before judging any gate, even a passing one', () => {
    const lenient: Policy = { version: 1, rules: [], exceptions: [] };
    const foreign = { ...scanned, target: { ...scanned.target, ref: 'registry.example.com/other:2', digest: OTHER } };
    assert.throws(
      () =>
        checkAttestedReports(
          [{ predicateType: LADING_REPORT_PREDICATE_TYPE, predicate: foreign }],
          lenient,
          now,
          subject,
        ),
      (err: unknown) =>
        err instanceof LadingError &&
        err.code === 'VERIFY_FAILED' &&
        err.exitCode === 1 &&
        err.message ===
          `verification failed: the Lading report is of another image (registry.example.com/other:2 @ ${OTHER}), not registry.example.com/app@${DIGEST}`,
    );
    const noDigest = base;
    assert.throws(
      () =>
        checkAttestedReports(
          [{ predicateType: LADING_REPORT_PREDICATE_TYPE, predicate: noDigest }],
          lenient,
          now,
          subject,
        ),
      /verification failed: the Lading report names no image digest/,
    );
    // A report of one platform's manifest binds to the index that lists it.
    const index = { name: 'registry.example.com/app', digest: OTHER, platformDigests: [DIGEST] };
    assert.equal(checkAttestedReports([{ predicateType: 'x', predicate: scanned }], lenient, now, index).pass, true);
  });
});
