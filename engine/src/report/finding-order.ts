import { type Finding, SEVERITIES } from '../model/finding.js';

/** Most severe first, then by package and id: the order every human-facing format uses. */
export function bySeverityThenPackage(a: Finding, b: Finding): number {
  return (
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    (b.cvss[0]?.score ?? 0) - (a.cvss[0]?.score ?? 0) ||
    a.package.name.localeCompare(b.package.name) ||
    a.id.localeCompare(b.id)
  );
}

/** The findings a human format shows: suppressed ones only when asked. */
export function visibleFindings(findings: readonly Finding[], showSuppressed: boolean): Finding[] {
  return findings.filter((f) => showSuppressed || !f.suppressed).sort(bySeverityThenPackage);
}

export function fixText(f: Finding): string {
  if (f.fixedVersions.length) return f.fixedVersions.join(', ');
  switch (f.status) {
    case 'will-not-fix':
      return "won't fix";
    case 'fix-deferred':
      return 'fix deferred';
    default:
      return '';
  }
}
