import { diffReports } from '../diff/diff.js';
import type { Severity } from '../model/finding.js';
import type { Report } from '../model/report.js';
import { atOrAbove } from './filters.js';

export interface BaselineVerdict {
  pass: boolean;
  /** One line each: why it failed, or why it passed. */
  reasons: string[];
}

/**
 * The blocking rule against a baseline: fail when any CRITICAL finding is new, or when the number of findings at or
 * above `threshold` rises; pass when it stays or falls (fixes pay for nothing else, they are simply allowed).
 */
export function compareWithBaseline(baseline: Report, current: Report, threshold: Severity): BaselineVerdict {
  const diff = diffReports(baseline, current);
  const reasons: string[] = [];
  const newCritical = diff.findings.new.filter((f) => f.severity === 'CRITICAL');
  for (const f of newCritical) reasons.push(`new CRITICAL ${f.id} in ${f.package.name} ${f.package.version}`);
  const count = (r: Report) => r.findings.filter((f) => !f.suppressed && atOrAbove(f.severity, threshold)).length;
  const before = count(baseline);
  const after = count(current);
  const label = threshold === 'UNKNOWN' ? 'all' : `${threshold.toLowerCase()} or above`;
  if (after > before) reasons.push(`findings at ${label} rose from ${before} to ${after}`);
  const pass = reasons.length === 0;
  if (pass) {
    reasons.push(
      after < before
        ? `findings at ${label} fell from ${before} to ${after} (${diff.findings.fixed.length} fixed, ${diff.findings.new.length} new)`
        : `findings at ${label} stayed at ${after}, no new critical`,
    );
  }
  return { pass, reasons };
}
