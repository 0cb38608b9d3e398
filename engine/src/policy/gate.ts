import type { Severity } from '../model/finding.js';
import type { CoverageGap, GateVerdict, Report } from '../model/report.js';
import { summarize } from '../report/build.js';
import { plural } from '../report/words.js';
import { compareWithBaseline } from './baseline.js';
import { evaluatePolicy } from './evaluate.js';
import { applyExceptions } from './exceptions.js';
import { findingsFailingOn } from './filters.js';
import type { Policy } from './policy-file.js';
import { applyVex, type VexStatement } from './vex-apply.js';

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

export interface GateOptions {
  failOn?: Severity;
  baseline?: Report;
  baselineSeverity: Severity;
}

/** One verdict over every gate the user asked for; the report carries it so every format can say it first. */
export function decideGates(report: Report, options: GateOptions): GateVerdict {
  const reasons: string[] = [];
  const notes: string[] = [];
  if (options.failOn) {
    const failing = findingsFailingOn(report.findings, options.failOn);
    if (failing.length > 0)
      reasons.push(`${plural(failing.length, 'finding')} at or above ${options.failOn.toLowerCase()}`);
  }
  for (const v of report.policy?.violations ?? []) {
    if (v.action === 'fail') reasons.push(`policy rule ${v.rule}: ${v.message}`);
  }
  if (options.baseline) {
    const verdict = compareWithBaseline(options.baseline, report, options.baselineSeverity);
    for (const reason of verdict.reasons) (verdict.pass ? notes : reasons).push(`baseline: ${reason}`);
    for (const note of verdict.notes) notes.push(`baseline: ${note}`);
  }
  // What was not looked at cannot pass: an unchecked package may hold exactly the finding the gate is for.
  for (const gap of report.coverage?.gaps ?? []) reasons.push(`not checked: ${coverageGapLine(gap)}`);
  return { pass: reasons.length === 0, reasons, notes };
}

/** A coverage gap as one line: `Debian:12: no vulnerability data (3 packages)`. */
export function coverageGapLine(gap: CoverageGap): string {
  const count = gap.packageIds?.length;
  const packages = count === undefined ? '' : ` (${plural(count, 'package')})`;
  return `${gap.scope}${gap.path ? ` ${gap.path}` : ''}: ${gap.message}${packages}`;
}
