// The Debian/Ubuntu plan: for each vulnerable source package, the binaries installed from it, the candidate each
// has in the image's (verified) repositories, what unpacking it would involve, and the verdict.
import { LadingError } from '../errors/lading-error.js';
import { compareVersions } from '../versions/index.js';
import { type AptCandidate, aptCandidates, aptSources, fetchDeb } from './apt.js';
import { field } from './control.js';
import { type DebPackage, readDeb } from './deb.js';
import { formatRelation, holds, parseRelations } from './deps.js';
import { type InstalledDeb, installedDebs } from './dpkg-db.js';
import { newPlanEntry, resolveDependencies } from './plan-dependencies.js';
import type { RootView } from './rootfs.js';
import type { FixableFinding, PatchBinary, PatchPlanEntry } from './types.js';

export interface DebPlanOptions {
  now: Date;
  mirror?: string;
  keyrings?: Buffer[];
  architecture: string;
  maxPackageBytes: number;
  signal?: AbortSignal;
}

export interface DebPlan {
  repositories: string[];
  entries: PatchPlanEntry[];
  /** Downloaded and verified `.deb` files by URL (the apply step reuses them). */
  downloads: Map<string, { bytes: Buffer; deb: DebPackage }>;
  installed: InstalledDeb[];
}

const ECOSYSTEM = 'Debian';

function cmp(a: string, b: string): number {
  return compareVersions(ECOSYSTEM, a, b);
}

/** The lowest fixed version above `installed` (a finding lists one per affected branch). */
function fixAbove(installed: string, fixedVersions: string[]): string | undefined {
  return [...fixedVersions].sort(cmp).find((v) => cmp(v, installed) > 0);
}

export async function planDebian(
  view: RootView,
  findings: FixableFinding[],
  options: DebPlanOptions,
): Promise<DebPlan> {
  const installed = installedDebs(view);
  if (installed.length === 0) throw new LadingError('BAD_INPUT', 'the image has no dpkg database to patch');
  const byName = new Map(installed.map((d) => [d.name, d]));
  // Vulnerable source packages and the version that fixes all their findings.
  const wanted = new Map<string, { fixed: string; ids: Set<string> }>();
  for (const finding of findings) {
    const deb = byName.get(finding.package);
    if (!deb) continue;
    const fixed = fixAbove(deb.version, finding.fixedVersions);
    if (!fixed) continue;
    const entry = wanted.get(deb.source) ?? { fixed, ids: new Set<string>() };
    if (cmp(fixed, entry.fixed) > 0) entry.fixed = fixed;
    entry.ids.add(finding.id);
    wanted.set(deb.source, entry);
  }
  const repositories = aptSources(view, options.mirror).map(
    (s) => `${(options.mirror ?? s.uri).replace(/\/+$/, '')} ${s.suite}`,
  );
  const downloads = new Map<string, { bytes: Buffer; deb: DebPackage }>();
  if (wanted.size === 0) return { repositories, entries: [], downloads, installed };

  const indexOptions: Parameters<typeof aptCandidates>[1] = { now: options.now, architecture: options.architecture };
  if (options.mirror) indexOptions.mirror = options.mirror;
  if (options.keyrings) indexOptions.keyrings = options.keyrings;
  if (options.signal) indexOptions.signal = options.signal;
  const candidates = await aptCandidates(view, indexOptions);
  const offered = new Map<string, AptCandidate[]>();
  for (const c of candidates) {
    const list = offered.get(c.package) ?? [];
    list.push(c);
    offered.set(c.package, list);
  }
  const best = (deb: InstalledDeb, atLeast: string): AptCandidate | undefined =>
    (offered.get(deb.name) ?? [])
      .filter((c) => c.architecture === deb.architecture && cmp(c.version, atLeast) >= 0)
      .sort((a, b) => cmp(b.version, a.version))[0];

  const entries: PatchPlanEntry[] = [];
  for (const [source, { fixed, ids }] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const entry = newPlanEntry(source, fixed, ids);
    entries.push(entry);
    // Every installed binary of the source moves together (libc6 and libc-bin depend on each other's exact version).
    const chosen = new Map<string, { deb: InstalledDeb; candidate: AptCandidate | undefined; dependency: boolean }>();
    // A Multi-Arch: same package installed for a second architecture must move to the same version in the same
    // step, which this patch (one architecture's index) does not do: refused rather than left half-updated.
    const foreign: string[] = [];
    for (const deb of installed.filter((d) => d.source === source)) {
      if (chosen.has(deb.name) || (deb.architecture !== options.architecture && deb.architecture !== 'all')) {
        if (deb.architecture !== options.architecture && deb.architecture !== 'all') {
          foreign.push(
            `${deb.name}:${deb.architecture} (= ${fixed} or later, with ${deb.name}:${options.architecture})`,
          );
        }
        continue;
      }
      chosen.set(deb.name, { deb, candidate: best(deb, fixed), dependency: false });
    }
    const missing = [...chosen.values()].filter((c) => !c.candidate).map((c) => c.deb.name);
    if (foreign.length > 0) {
      entry.verdict = 'unsatisfied-deps';
      entry.unsatisfied = foreign;
      entry.reason = `installed for another architecture too (${foreign.join(', ')}): Lading updates one architecture`;
    } else if (missing.length > 0) {
      entry.verdict = 'candidate-not-found';
      entry.reason = `no version ≥ ${fixed} of ${missing.join(', ')} in the repositories`;
    } else {
      resolveDebDependencies(chosen, installed, best, entry);
    }
    for (const { deb, candidate, dependency } of chosen.values()) {
      const binary: PatchBinary = { name: deb.name, architecture: deb.architecture, installed: deb.version };
      if (dependency) binary.dependency = true;
      if (candidate) {
        binary.candidate = candidate.version;
        binary.url = candidate.url;
        binary.sha256 = candidate.sha256;
      }
      entry.binaries.push(binary);
    }
    const versions = entry.binaries.filter((b) => !b.dependency && b.candidate).map((b) => b.candidate as string);
    const top = versions.sort(cmp).pop();
    if (top) entry.candidateVersion = top;
    if (entry.verdict === 'candidate-not-found') continue;
    // What unpacking involves is in each package's control.tar: download (verified) and read it.
    for (const { deb, candidate } of chosen.values()) {
      if (!candidate) continue;
      let got = downloads.get(candidate.url);
      if (!got) {
        const bytes = await fetchDeb(candidate, options.maxPackageBytes, options.signal);
        got = { bytes, deb: await readDeb(bytes, candidate.url, options.maxPackageBytes, false) };
        downloads.set(candidate.url, got);
      }
      for (const s of got.deb.scripts) entry.scripts.push(`${deb.name}: ${s}`);
      for (const t of got.deb.triggers) entry.triggers.push(`${deb.name}: ${t}`);
      for (const conffile of got.deb.conffiles) entry.conffiles.push(conffile);
      if (entry.verdict === 'apply' && (got.deb.scripts.length > 0 || got.deb.unsafeTriggers.length > 0)) {
        entry.verdict = 'needs-scripts';
        entry.reason =
          got.deb.scripts.length > 0
            ? `${deb.name} ${candidate.version} has maintainer scripts (${got.deb.scripts.join(', ')}), which only dpkg can run`
            : `${deb.name} ${candidate.version} declares triggers that need running (${got.deb.unsafeTriggers.join(', ')})`;
      }
    }
  }
  return { repositories, entries, downloads, installed };
}

/**
 * Checks the chosen packages' Depends and Pre-Depends against the image as it will be, with Debian's rules for the
 * shared dependency fixed point (plan-dependencies.ts): an installed package that is too old is pulled in when the
 * repositories have a version that satisfies it, else the entry becomes unsatisfied-deps.
 */
function resolveDebDependencies(
  chosen: Map<string, { deb: InstalledDeb; candidate: AptCandidate | undefined; dependency: boolean }>,
  installed: InstalledDeb[],
  best: (deb: InstalledDeb, atLeast: string) => AptCandidate | undefined,
  entry: PatchPlanEntry,
): void {
  resolveDependencies(
    chosen,
    installed,
    {
      nameOf: (d) => d.name,
      versionOf: (d) => d.version,
      providesOf: (d) => parseRelations(field(d.stanza, 'Provides')).flat(),
      candidateProvides: (c) => parseRelations(field(c.stanza, 'Provides')).flat(),
      requirementsOf: (c) =>
        [...parseRelations(field(c.stanza, 'Pre-Depends')), ...parseRelations(field(c.stanza, 'Depends'))].map(
          (clause) => ({ alternatives: clause, text: formatRelation(clause) }),
        ),
      holds,
      upgradeFor: (deb, rel) => {
        const c = best(deb, rel.op === '>>' ? deb.version : (rel.version as string));
        return c && holds(rel, new Map([[rel.name, c.version]]), new Map()) ? c : undefined;
      },
      choose: (deb, candidate) => chosen.set(deb.name, { deb, candidate, dependency: true }),
    },
    entry,
  );
}
