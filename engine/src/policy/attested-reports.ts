import { type AttestationSubject, reportSubjectMismatch } from '../attest/report-binding.js';
import { LadingError } from '../errors/lading-error.js';
import type { GateVerdict, Report } from '../model/report.js';
import { REPORT_SCHEMA_VERSION } from '../model/report.js';
import { plural } from '../report/words.js';
import { assess } from '../scan/assess.js';
import type { Policy } from './policy-file.js';

/** The predicate type Lading gives a scan report it attests (`lading attest --type lading-report`). */
export const LADING_REPORT_PREDICATE_TYPE = 'https://lading.dev/attestations/report/v1';

/** A statement as verify-attestation hands it over: only the predicate matters here. */
export interface AttestedStatement {
  predicateType: string;
  predicate: unknown;
}

/**
 * `verify-attestation --policy`: the policy is evaluated on every verified attestation that carries a Lading scan
 * report, so admission can demand "signed, and the signed scan passes our gates". No such attestation is a "no".
 * Each report must first be a report of `subject`, the image verified (its digest, or one of its platform manifests'
 * for an index): a signed report of another image, attached to this one, proves nothing about it and is refused
 * (VERIFY_FAILED, exit 1) before any gate is judged.
 */
export function checkAttestedReports(
  statements: readonly AttestedStatement[],
  policy: Policy,
  now: Date,
  subject: AttestationSubject,
): GateVerdict {
  const reports = statements.map((s) => s.predicate).filter(isLadingReport);
  if (reports.length === 0) {
    throw new LadingError(
      'GATE_FAILED',
      'no verified attestation carries a Lading scan report to check the policy against (attest one with the lading-report predicate type)',
    );
  }
  for (const report of reports) {
    const mismatch = reportSubjectMismatch(report, subject);
    if (mismatch) throw new LadingError('VERIFY_FAILED', `verification failed: ${mismatch}`);
  }
  const reasons: string[] = [];
  for (const report of reports) {
    // The same verdict `lading scan --policy` gives, judged now (exceptions may have expired since the scan).
    const { gate } = assess(report, { policy, now });
    for (const reason of gate?.reasons ?? []) reasons.push(`${report.target.ref} (${report.createdAt}): ${reason}`);
  }
  return { pass: reasons.length === 0, reasons, notes: [`${plural(reports.length, 'attested report')} checked`] };
}

function isLadingReport(value: unknown): value is Report {
  const r = value as Partial<Report> | null;
  return (
    !!r &&
    typeof r === 'object' &&
    r.tool?.name === 'lading' &&
    typeof r.schemaVersion === 'number' &&
    r.schemaVersion <= REPORT_SCHEMA_VERSION &&
    Array.isArray(r.findings) &&
    Array.isArray(r.packages) &&
    !!r.target
  );
}
