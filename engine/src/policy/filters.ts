import { LadingError } from '../errors/lading-error.js';
import { type Finding, SEVERITIES, type Severity } from '../model/finding.js';

export function parseSeverity(value: string): Severity {
  const upper = value.trim().toUpperCase();
  if (!(SEVERITIES as readonly string[]).includes(upper)) {
    throw new LadingError('USAGE', `unknown severity "${value}" (choose from ${SEVERITIES.join(', ').toLowerCase()})`);
  }
  return upper as Severity;
}

export function parseSeverityList(value: string): Severity[] {
  return value
    .split(',')
    .filter((s) => s.trim())
    .map(parseSeverity);
}

/** Lower is more severe: CRITICAL is 0. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  // UNKNOWN counts only when the threshold itself is UNKNOWN: an unrated finding must not fail a HIGH gate.
  if (severity === 'UNKNOWN') return threshold === 'UNKNOWN';
  return severityRank(severity) <= severityRank(threshold);
}

export interface FindingFilters {
  severities?: Severity[];
  ignoreUnfixed?: boolean;
}

/** `--severity` and `--ignore-unfixed`: what the user asked not to see leaves the report. */
export function filterFindings(findings: readonly Finding[], filters: FindingFilters): Finding[] {
  return findings.filter((f) => {
    if (filters.severities && !filters.severities.includes(f.severity)) return false;
    if (filters.ignoreUnfixed && f.fixedVersions.length === 0) return false;
    return true;
  });
}

/** `--fail-on`: the unsuppressed findings at or above the threshold. */
export function findingsFailingOn(findings: readonly Finding[], threshold: Severity): Finding[] {
  return findings.filter((f) => !f.suppressed && atOrAbove(f.severity, threshold));
}
