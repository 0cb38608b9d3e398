import { thrownValueText } from '../errors/lading-error.js';
import { isOsPackageType } from '../model/ecosystems.js';
import type { Finding, FindingStatus, Severity } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { OsInfo } from '../model/os.js';
import type { OsvAffected, OsvRecord } from '../model/osv.js';
import type { Package } from '../model/package.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { baseEcosystem, normalizePackageName, suseRelease } from '../vulndb/names.js';
import type { AdvisoryCandidate, EpssScore, KevEntry } from '../vulndb/store.js';
import { distroSeverity, unfixedStatus } from './distro-status.js';
import { groupHits, type Hit, type HitGroup } from './group-hits.js';
import { moduleStreamMatches } from './module-stream.js';
import { type PackageQuery, queryFor } from './package-query.js';
import { cvssScores, ghsaSeverity, severityFromCvss, type VectorScorer } from './severity.js';

/** What the matcher reads: the store, or anything shaped like it (tests, benchmarks). */
export interface AdvisorySource {
  /** Records naming the package, one per id; `affected` holds only that package's entries. */
  candidatesFor(ecosystem: string, name: string): AdvisoryCandidate[];
  kev(cve: string): KevEntry | undefined;
  epss(cve: string): EpssScore | undefined;
  /** Optional hint: the CVEs about to be asked for, so a store can read their EPSS scores in a few queries. */
  prefetchEpss?(cves: Iterable<string>): void;
}

/** The versions/ API and the CVSS scorer, passed in so this file stays pure. */
export interface MatchRules {
  compare(ecosystem: string, a: string, b: string): number;
  evaluate(
    affected: OsvAffected,
    version: string,
  ): { affected: boolean; fixedVersions: string[]; invalid?: string; skipped?: string[] };
  scoreVector: VectorScorer;
}

const DESCRIPTION_LIMIT = 2000;

/** The OSV ecosystems (base names, as published) an inventory needs. */
export function neededEcosystems(inventory: Inventory): Set<string> {
  const needed = new Set<string>();
  for (const pkg of inventory.packages) {
    const query = queryFor(pkg, inventory.os);
    if (typeof query !== 'string') needed.add(baseEcosystem(query.ecosystem));
  }
  return needed;
}

/**
 * The OSV ecosystems with their release (`Debian:12`, `Alpine:v3.19`, `npm`: what coverage is judged on), each
 * with the ids of the packages that need it, sorted by ecosystem.
 */
export function neededReleases(inventory: Inventory): Map<string, string[]> {
  const needed = new Map<string, string[]>();
  for (const pkg of inventory.packages) {
    const query = queryFor(pkg, inventory.os);
    if (typeof query === 'string') continue;
    const ids = needed.get(query.ecosystem);
    if (ids) ids.push(pkg.id);
    else needed.set(query.ecosystem, [pkg.id]);
  }
  return new Map([...needed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Why the OS is unknown when the inventory names none; an SBOM reader's caller says what the SBOM lacked. */
export const NO_OS_RELEASE = 'no os-release';

/**
 * The OS packages no advisory can be chosen for, because the OS release maps to no OSV ecosystem (an unknown
 * distribution, a release whose version cannot be told, no OS at all): with the scope naming what is unknown
 * (`os: unknown (no os-release)`, `os: gentoo 2.14`, `os: debian (release unknown)`). Undefined when every package
 * has an ecosystem. Language packages always have one (the ecosystem table gives each type its OSV name).
 */
export function unidentifiedOsPackages(
  inventory: Inventory,
  unknownOsReason: string = NO_OS_RELEASE,
): { scope: string; packageIds: string[] } | undefined {
  const packageIds: string[] = [];
  for (const pkg of inventory.packages) {
    if (typeof queryFor(pkg, inventory.os) === 'string') packageIds.push(pkg.id);
  }
  if (packageIds.length === 0) return undefined;
  return { scope: unknownOsScope(inventory.os, unknownOsReason), packageIds };
}

function unknownOsScope(os: OsInfo | undefined, unknownOsReason: string): string {
  if (!os?.family) return `os: unknown (${unknownOsReason})`;
  return os.version ? `os: ${os.family} ${os.version}` : `os: ${os.family} (release unknown)`;
}

/**
 * Matches every package that has an OSV ecosystem. Packages without one are skipped silently here: the callers
 * (find-vulnerabilities.ts) report them as coverage gaps (`unidentifiedOsPackages`), never as a clean result.
 */
export function matchInventory(
  inventory: Inventory,
  source: AdvisorySource,
  rules: MatchRules,
): { findings: Finding[]; warnings: ScanWarning[] } {
  const findings: Finding[] = [];
  const warnings: ScanWarning[] = [];
  // Per query key, the findings built (and the version problem met) for the first package; later packages with
  // that key copy them, and each gets its own warning.
  const memo = new Map<string, { findings: Finding[]; problem?: string }>();
  const scores = new Map<OsvRecord, Finding['cvss']>();
  for (const pkg of inventory.packages) {
    const query = queryFor(pkg, inventory.os);
    if (typeof query === 'string') continue;
    // Binaries of one source at one version (libc6, libc-bin, libc-l10n) get the same answer: evaluate once.
    const key = [
      pkg.type,
      query.ecosystem,
      query.version,
      pkg.metadata?.['rpm.modularitylabel'] ?? '',
      ...query.names,
    ].join('\u0000');
    let built = memo.get(key);
    if (built) {
      for (const finding of built.findings) findings.push(forPackage(finding, pkg));
    } else {
      const { hits, problem } = hitsFor(pkg, query, source, rules);
      built = { findings: groupHits(hits).map((group) => toFinding(pkg, query, group, rules, scores)) };
      if (problem) built.problem = problem;
      memo.set(key, built);
      for (const finding of built.findings) findings.push(finding);
    }
    if (built.problem) warnings.push(versionWarning(pkg, query, built.problem));
  }
  // KEV and EPSS last, for all CVEs at once: one query per few hundred CVEs instead of one each
  const cves = new Set<string>();
  for (const built of memo.values()) {
    for (const finding of built.findings)
      for (const id of [finding.id, ...finding.aliases]) if (id.startsWith('CVE-')) cves.add(id);
  }
  source.prefetchEpss?.(cves);
  for (const finding of findings) enrich(finding, source);
  findings.sort((a, b) => cmp(a.packageId, b.packageId) || cmp(a.id, b.id));
  return { findings, warnings };
}

function hitsFor(
  pkg: Package,
  query: PackageQuery,
  source: AdvisorySource,
  rules: MatchRules,
): { hits: Hit[]; problem?: string } {
  const hits: Hit[] = [];
  const seen = new Set<string>();
  let versionProblem: string | undefined;
  let eventProblem: string | undefined;
  for (const name of query.names) {
    const key = normalizePackageName(query.ecosystem, name);
    for (const candidate of source.candidatesFor(query.ecosystem, name)) {
      if (seen.has(candidate.id)) continue;
      seen.add(candidate.id);
      let hit: Hit | undefined;
      for (const affected of candidate.affected) {
        const pkgRef = affected.package;
        if (!pkgRef || !sameEcosystem(pkgRef.ecosystem, query.ecosystem)) continue;
        if (normalizePackageName(pkgRef.ecosystem, pkgRef.name) !== key) continue;
        if (!moduleStreamMatches(pkg, affected)) continue;
        let verdict: ReturnType<MatchRules['evaluate']>;
        try {
          verdict = rules.evaluate(affected, query.version);
        } catch (err) {
          versionProblem ??= thrownValueText(err);
          continue;
        }
        if (verdict.invalid) versionProblem ??= verdict.invalid;
        // a range bound the scheme refuses is left out; the rest of the range still decides, but say so
        if (verdict.skipped?.length) eventProblem ??= `${candidate.id} ${verdict.skipped[0]}`;
        if (!verdict.affected) continue;
        // only now is the record text read and parsed: most candidates miss, and theirs is never needed
        const record = hit?.record ?? candidate.record();
        if (record.withdrawn) break;
        // AlmaLinux and Rocky name the module stream only in the title, which needs the record
        if (!moduleStreamMatches(pkg, affected, record)) continue;
        if (!hit) hit = { record, affected, fixedVersions: [], status: 'affected' };
        for (const fixed of verdict.fixedVersions) hit.fixedVersions.push(fixed);
        if (verdict.fixedVersions.length === 0 && hit.status === 'affected') {
          hit.status = unfixedStatus(affected, record);
        }
        if (isOsPackageType(pkg.type)) hit.distroSeverity ??= distroSeverity(affected, record);
      }
      if (hit) hits.push(hit);
    }
  }
  if (versionProblem) return { hits, problem: `some advisories could not be evaluated: ${versionProblem}` };
  if (eventProblem) return { hits, problem: `an advisory range bound was left out: ${eventProblem}` };
  return { hits };
}

/**
 * A version the scheme refuses (the installed one, or an advisory's range bound) never drops the package or stops
 * the scan: the package's other advisories are still evaluated, and the report says which package was affected.
 */
function versionWarning(pkg: Package, query: PackageQuery, problem: string): ScanWarning {
  // the versions quoted come from the image or the advisory: scanWarning keeps them to one line
  const warning = scanWarning('match', `${pkg.name} ${query.version}: ${problem}`, pkg.locations[0]?.path);
  warning.packageId = pkg.id;
  return warning;
}

/**
 * OS releases must match exactly (`Debian:12` data says nothing about Debian 11). Red Hat publishes per
 * repository (`…:9::baseos`, `…:9::appstream`) while an image only tells its release, so product and major
 * version decide there. SUSE files a package under the module or product that ships it (`SUSE:Linux Enterprise
 * Module for Basesystem 15 SP5`, `…Server 15 SP5-LTSS`) while an image names its product, so the service pack
 * decides. Language ecosystems have no release part.
 */
function sameEcosystem(advisory: string, wanted: string): boolean {
  if (advisory === wanted) return true;
  const base = baseEcosystem(wanted);
  if (base !== baseEcosystem(advisory)) return false;
  if (base === 'Red Hat') {
    const [, productA, versionA] = advisory.split(':');
    const [, productW, versionW] = wanted.split(':');
    return productA === productW && (versionA ?? '').split('.')[0] === (versionW ?? '').split('.')[0];
  }
  if (base === 'SUSE') {
    const release = suseRelease(wanted);
    return release !== undefined && release === suseRelease(advisory);
  }
  return !wanted.includes(':') && !advisory.includes(':');
}

function toFinding(
  pkg: Package,
  query: PackageQuery,
  group: HitGroup,
  rules: MatchRules,
  scores: Map<OsvRecord, Finding['cvss']>,
): Finding {
  const lead = group.hits[0]!;
  const record = lead.record;
  const fixedVersions = sortVersions(
    query.ecosystem,
    group.hits.flatMap((h) => h.fixedVersions),
    rules,
  );
  const cvss = dedupeCvss(
    group.hits.flatMap((h) => {
      let scored = scores.get(h.record);
      if (!scored) {
        scored = cvssScores(h.record, rules.scoreVector);
        scores.set(h.record, scored);
      }
      return scored;
    }),
  );
  const { severity, severitySource } = pickSeverity(group, cvss);
  const finding: Finding = {
    id: group.id,
    aliases: [...group.aliases],
    packageId: pkg.id,
    package: { name: pkg.name, version: pkg.version, type: pkg.type, purl: pkg.purl },
    severity,
    cvss,
    status: fixedVersions.length > 0 ? 'fixed' : unfixedOf(group),
    fixedVersions,
    kev: false,
    advisory: {
      id: record.id,
      source: 'osv',
      url: `https://osv.dev/vulnerability/${encodeURIComponent(record.id)}`,
      modified: record.modified,
      ...(lead.affected.package?.ecosystem ? { ecosystem: lead.affected.package.ecosystem } : {}),
    },
  };
  if (severitySource) finding.severitySource = severitySource;
  const withText = group.hits.find((h) => h.record.summary || h.record.details)?.record;
  if (withText?.summary) finding.title = withText.summary;
  if (withText?.details) finding.description = truncate(withText.details, DESCRIPTION_LIMIT);
  const references = [...new Set(group.hits.flatMap((h) => (h.record.references ?? []).map((r) => r.url)))];
  if (references.length) finding.references = references.slice(0, 20);
  const published = group.hits.map((h) => h.record.published).find((p) => p);
  if (published) finding.published = published;
  const layer = pkg.locations[0]?.layer;
  if (layer) finding.layer = layer;
  return finding;
}

/**
 * Another binary of the same source and version: the same vulnerability data, this package's identity.
 * Arrays are copied so no two findings share one a later stage might edit.
 */
function forPackage(template: Finding, pkg: Package): Finding {
  const finding: Finding = {
    ...template,
    aliases: [...template.aliases],
    packageId: pkg.id,
    package: { name: pkg.name, version: pkg.version, type: pkg.type, purl: pkg.purl },
    cvss: [...template.cvss],
    fixedVersions: [...template.fixedVersions],
    advisory: { ...template.advisory },
  };
  if (template.references) finding.references = [...template.references];
  const layer = pkg.locations[0]?.layer;
  if (layer) finding.layer = layer;
  else delete finding.layer;
  return finding;
}

function unfixedOf(group: HitGroup): FindingStatus {
  const statuses = new Set(group.hits.map((h) => h.status));
  if (statuses.has('will-not-fix')) return 'will-not-fix';
  if (statuses.has('fix-deferred')) return 'fix-deferred';
  return 'affected';
}

/** The distro's rating first (it knows its build), then CVSS, then GitHub's label. */
function pickSeverity(group: HitGroup, cvss: Finding['cvss']): { severity: Severity; severitySource?: string } {
  const distro = group.hits.map((h) => h.distroSeverity).find((s) => s);
  if (distro) return { severity: distro, severitySource: 'distro' };
  const fromCvss = severityFromCvss(cvss);
  if (fromCvss && fromCvss !== 'UNKNOWN') return { severity: fromCvss, severitySource: 'cvss' };
  const ghsa = group.hits.map((h) => ghsaSeverity(h.record)).find((s) => s);
  if (ghsa) return { severity: ghsa, severitySource: 'ghsa' };
  return { severity: 'UNKNOWN' };
}

/** KEV and EPSS are keyed by CVE: a DEBIAN-CVE or GHSA finding inherits them through its aliases. */
function enrich(finding: Finding, source: AdvisorySource): void {
  for (const id of [finding.id, ...finding.aliases]) {
    if (!id.startsWith('CVE-')) continue;
    if (source.kev(id)) finding.kev = true;
    const epss = source.epss(id);
    if (epss && (finding.epss === undefined || epss.score > finding.epss)) {
      finding.epss = epss.score;
      if (epss.percentile !== undefined) finding.epssPercentile = epss.percentile;
    }
  }
}

function dedupeCvss(scores: Finding['cvss']): Finding['cvss'] {
  const seen = new Set<string>();
  return scores.filter((s) => {
    if (seen.has(s.vector)) return false;
    seen.add(s.vector);
    return true;
  });
}

function sortVersions(ecosystem: string, versions: string[], rules: MatchRules): string[] {
  const unique = [...new Set(versions.filter((v) => v))];
  return unique.sort((a, b) => {
    try {
      return rules.compare(ecosystem, a, b);
    } catch {
      return cmp(a, b);
    }
  });
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
