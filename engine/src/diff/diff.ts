import { type Finding, SEVERITIES } from '../model/finding.js';
import type { Package } from '../model/package.js';
import type { Report, SeverityCounts } from '../model/report.js';
import { gapWords } from '../report/coverage-words.js';

export interface PackageChange {
  name: string;
  type: string;
  from: string;
  to: string;
}

export interface PackageRef {
  name: string;
  type: string;
  version: string;
  purl: string;
}

export interface ReportDiff {
  old: { ref: string; digest?: string; createdAt: string };
  new: { ref: string; digest?: string; createdAt: string };
  packages: { added: PackageRef[]; removed: PackageRef[]; changed: PackageChange[] };
  findings: { new: Finding[]; fixed: Finding[]; unchanged: number };
  /** New minus old, per severity (unsuppressed findings). */
  severityDelta: SeverityCounts;
  /** Decided by the most severe level whose count changed: fewer is better. */
  direction: 'better' | 'worse' | 'stable';
  /**
   * Present when either report left packages unchecked (its `coverage` gaps): the comparison may miss findings,
   * so "better" or "stable" is not established. One line per gap, `old: …` or `new: …`.
   */
  incomplete?: { reasons: string[] };
}

/**
 * Compares two reports of (usually) two versions of one image. Packages are matched by type and name; findings by
 * vulnerability id and package name (not version), so an upgrade that leaves a CVE open is "unchanged".
 */
export function diffReports(oldReport: Report, newReport: Report): ReportDiff {
  const oldFindings = oldReport.findings.filter((f) => !f.suppressed);
  const newFindings = newReport.findings.filter((f) => !f.suppressed);
  const oldKeys = new Set(oldFindings.flatMap(findingKeys));
  const newKeys = new Set(newFindings.flatMap(findingKeys));
  const added = newFindings.filter((f) => !findingKeys(f).some((k) => oldKeys.has(k)));
  const fixed = oldFindings.filter((f) => !findingKeys(f).some((k) => newKeys.has(k)));
  const severityDelta = deltaBySeverity(oldFindings, newFindings);
  const side = (r: Report) => ({
    ref: r.target.ref,
    createdAt: r.createdAt,
    ...(r.target.digest ? { digest: r.target.digest } : {}),
  });
  const diff: ReportDiff = {
    old: side(oldReport),
    new: side(newReport),
    packages: diffPackages(oldReport.packages, newReport.packages),
    findings: { new: added, fixed, unchanged: newFindings.length - added.length },
    severityDelta,
    direction: severityDirection(severityDelta),
  };
  const reasons = [
    ...(oldReport.coverage?.gaps ?? []).map((gap) => `old: ${gapWords(gap)}`),
    ...(newReport.coverage?.gaps ?? []).map((gap) => `new: ${gapWords(gap)}`),
  ];
  if (reasons.length) diff.incomplete = { reasons };
  return diff;
}

/** A finding is known by its id and every alias, each paired with the package: DSA vs CVE naming is not a change. */
function findingKeys(f: Finding): string[] {
  return [f.id, ...f.aliases].map((id) => `${id}\0${f.package.type}\0${f.package.name}`);
}

function diffPackages(oldPkgs: readonly Package[], newPkgs: readonly Package[]): ReportDiff['packages'] {
  const group = (pkgs: readonly Package[]) => {
    const map = new Map<string, Map<string, Package>>();
    for (const p of pkgs) {
      const key = `${p.type}\0${p.name}`;
      const versions = map.get(key) ?? new Map<string, Package>();
      versions.set(p.version, p);
      map.set(key, versions);
    }
    return map;
  };
  const before = group(oldPkgs);
  const after = group(newPkgs);
  const result: ReportDiff['packages'] = { added: [], removed: [], changed: [] };
  const ref = (p: Package): PackageRef => ({ name: p.name, type: p.type, version: p.version, purl: p.purl });
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const was = before.get(key) ?? new Map<string, Package>();
    const is = after.get(key) ?? new Map<string, Package>();
    const gone = [...was.keys()].filter((v) => !is.has(v));
    const came = [...is.keys()].filter((v) => !was.has(v));
    // One version replaced by one version is an upgrade (or downgrade); anything else is adds and removes.
    if (gone.length === 1 && came.length === 1) {
      const p = is.get(came[0]!)!;
      result.changed.push({ name: p.name, type: p.type, from: gone[0]!, to: came[0]! });
      continue;
    }
    for (const v of gone) result.removed.push(ref(was.get(v)!));
    for (const v of came) result.added.push(ref(is.get(v)!));
  }
  const byName = (a: { type: string; name: string }, b: { type: string; name: string }) =>
    a.type.localeCompare(b.type) || a.name.localeCompare(b.name);
  result.added.sort(byName);
  result.removed.sort(byName);
  result.changed.sort(byName);
  return result;
}

function deltaBySeverity(oldFindings: readonly Finding[], newFindings: readonly Finding[]): SeverityCounts {
  const count = (list: readonly Finding[], s: string) => list.filter((f) => f.severity === s).length;
  const d = (s: string) => count(newFindings, s) - count(oldFindings, s);
  return { critical: d('CRITICAL'), high: d('HIGH'), medium: d('MEDIUM'), low: d('LOW'), unknown: d('UNKNOWN') };
}

/**
 * The diff's verdict on a change in counts, shared with the weekly summary: the most severe level whose count
 * changed decides, fewer being better; no change at any level is stable.
 */
export function severityDirection(delta: SeverityCounts): ReportDiff['direction'] {
  for (const s of SEVERITIES) {
    const n = delta[s.toLowerCase() as keyof SeverityCounts];
    if (n > 0) return 'worse';
    if (n < 0) return 'better';
  }
  return 'stable';
}
