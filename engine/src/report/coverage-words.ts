import type { CoverageGap, Report } from '../model/report.js';

/**
 * What each format says about the report's coverage gaps (docs/report.md `coverage`): a report that left packages
 * unchecked must say so where its reader looks, never look clean.
 */

/** One gap in words: `Debian:12: no vulnerability data (142 packages)`. */
export function gapWords(gap: CoverageGap): string {
  const count = gap.packageIds?.length;
  const packages = count === undefined ? '' : ` (${count} ${count === 1 ? 'package' : 'packages'})`;
  return `${gap.scope}${gap.path ? ` ${gap.path}` : ''}: ${gap.message}${packages}`;
}

/** `NOT CHECKED: …` lines, one per gap; none for a complete report. */
export function notCheckedLines(report: Report): string[] {
  return (report.coverage?.gaps ?? []).map((gap) => `NOT CHECKED: ${gapWords(gap)}`);
}

/** Packages left unchecked by any gap (a package in two gaps counts once). */
export function uncheckedPackageCount(report: Report): number {
  const ids = new Set<string>();
  for (const gap of report.coverage?.gaps ?? []) for (const id of gap.packageIds ?? []) ids.add(id);
  return ids.size;
}
