import { SEVERITIES } from '../model/finding.js';
import type { SeverityCounts } from '../model/report.js';
import type { ReportDiff } from './diff.js';

/** `diff --fail-on-worse`: the verdict the diff gives, as a gate. */
export interface DiffGate {
  pass: boolean;
  reasons: string[];
}

/**
 * Fails exactly when the diff's verdict is WORSE, so the gate and the word printed above the table never disagree:
 * the most severe level whose count of unsuppressed findings changed went up (`ReportDiff.direction`); and, like
 * every gate, when the comparison is incomplete (either side left packages unchecked).
 */
export function diffGate(diff: ReportDiff): DiffGate {
  // A comparison that left packages unchecked cannot show the new image is not worse.
  const unchecked = (diff.incomplete?.reasons ?? []).map((r) => `diff: not checked: ${r}`);
  if (diff.direction !== 'worse') return { pass: unchecked.length === 0, reasons: unchecked };
  const rose = SEVERITIES.map(
    (s) => [s.toLowerCase(), diff.severityDelta[s.toLowerCase() as keyof SeverityCounts]] as const,
  )
    .filter(([, n]) => n !== 0)
    .map(([s, n]) => `${s} ${n > 0 ? `+${n}` : n}`);
  return {
    pass: false,
    reasons: [`diff: ${diff.new.ref} is worse than ${diff.old.ref} (${rose.join(', ')})`, ...unchecked],
  };
}
