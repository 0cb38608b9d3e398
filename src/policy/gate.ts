import type { Report } from '../model/report.js';
import { summarize } from '../report/build.js';
import { evaluatePolicy } from './evaluate.js';
import { applyExceptions } from './exceptions.js';
import type { Policy } from './policy-file.js';
import { applyVex, type VexStatement } from './vex.js';

export interface GateInputs {
  vex: VexStatement[];
  policy?: Policy;
  now: Date;
}

/**
 * Suppressions first (VEX, then policy exceptions), then the policy's rules on what remains. Suppressed findings
 * stay in the report, marked, and leave every count and gate.
 */
export function applySuppressionsAndPolicy(report: Report, inputs: GateInputs): Report {
  let findings = inputs.vex.length ? applyVex(report.findings, inputs.vex, report.target) : report.findings;
  let expired: ReturnType<typeof applyExceptions>['expired'] = [];
  if (inputs.policy) {
    const outcome = applyExceptions(findings, inputs.policy.exceptions, inputs.now);
    findings = outcome.findings;
    expired = outcome.expired;
  }
  const next: Report = { ...report, findings, summary: summarize(report.packages.length, findings) };
  if (inputs.policy) {
    const verdict = evaluatePolicy(next, inputs.policy);
    if (expired.length) {
      verdict.expiredExceptions = expired.map((e) => ({
        id: e.vulnerability ?? e.purl ?? e.package ?? '?',
        reason: e.reason,
        expires: e.expires ?? '',
      }));
    }
    next.policy = verdict;
  }
  return next;
}
