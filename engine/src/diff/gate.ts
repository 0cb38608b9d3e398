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
 * the most severe level whose count of unsuppressed findings changed went up (`ReportDiff.direction`).
 */
export function diffGate(diff: ReportDiff): DiffGate {
  if (diff.direction !== 'worse') return { pass: true, reasons: [] };
  const rose = SEVERITIES.map(
    (s) => [s.toLowerCase(), diff.severityDelta[s.toLowerCase() as keyof SeverityCounts]] as const,
  )
    .filter(([, n]) => n !== 0)
    .map(([s, n]) => `${s} ${n > 0 ? `+${n}` : n}`);
  return {
    pass: false,
    reasons: [`diff: ${diff.new.ref} is worse than ${diff.old.ref} (${rose.join(', ')})`],
  };
}
