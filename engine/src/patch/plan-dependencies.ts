// What both planners share: a new plan entry, and the dependency fixed point (plan-apk.ts, plan-deb.ts): the chosen candidates' requirements
// are checked against the image as it will be (installed versions, overridden by the candidates, plus what either
// provides); an installed package that is too old is pulled in when the repositories have a version that satisfies
// the requirement, and the check runs again until nothing more is pulled (at most 50 rounds); what still fails makes
// the entry unsatisfied-deps. The formats differ only in what is given here as rules: how a package names, versions
// and provides, what a candidate requires, and how versions compare.
import type { Relation } from './deps.js';
import type { PatchPlanEntry } from './types.js';

/** One requirement of a candidate: alternatives, any one of which satisfies it, and how the plan names it. */
export interface Requirement {
  readonly alternatives: readonly Relation[];
  readonly text: string;
}

export interface DependencyRules<I, C> {
  nameOf(installed: I): string;
  versionOf(installed: I): string;
  /** Virtual packages an installed package or a candidate provides (version undefined: unversioned). */
  providesOf(installed: I): readonly Relation[];
  candidateProvides(candidate: C): readonly Relation[];
  requirementsOf(candidate: C): readonly Requirement[];
  /** Whether `rel` holds given package → version and virtual package → provided versions ('' = unversioned). */
  holds(rel: Relation, versions: ReadonlyMap<string, string>, provides: ReadonlyMap<string, string[]>): boolean;
  /** A candidate of the installed package `old` that satisfies `rel` (which names it, with a version), if any. */
  upgradeFor(old: I, rel: Relation): C | undefined;
  /** Adds `candidate` of `old` to the chosen packages, as a dependency pulled in. */
  choose(old: I, candidate: C): void;
}

/** Resolves `chosen` (installed package name → its candidate) to a fixed point; sets `entry`'s verdict if it fails. */
export function resolveDependencies<I, C extends { readonly version: string }>(
  chosen: ReadonlyMap<string, { readonly candidate: C | undefined }>,
  installed: readonly I[],
  rules: DependencyRules<I, C>,
  entry: PatchPlanEntry,
): void {
  const byName = new Map(installed.map((p) => [rules.nameOf(p), p]));
  for (let round = 0; round < 50; round++) {
    const versions = new Map(installed.map((p) => [rules.nameOf(p), rules.versionOf(p)]));
    const provides = new Map<string, string[]>();
    const addProvides = (relations: readonly Relation[]) => {
      for (const rel of relations) provides.set(rel.name, [...(provides.get(rel.name) ?? []), rel.version ?? '']);
    };
    for (const p of installed) if (!chosen.has(rules.nameOf(p))) addProvides(rules.providesOf(p));
    for (const [name, { candidate }] of chosen) {
      if (!candidate) continue;
      versions.set(name, candidate.version);
      addProvides(rules.candidateProvides(candidate));
    }
    const unsatisfied: string[] = [];
    let pulled = false;
    for (const { candidate } of [...chosen.values()]) {
      if (!candidate) continue;
      for (const requirement of rules.requirementsOf(candidate)) {
        if (requirement.alternatives.some((rel) => rules.holds(rel, versions, provides))) continue;
        // An installed package that is too old: a newer one from the repositories may satisfy it.
        const upgrade = requirement.alternatives
          .map((rel) => {
            const old = byName.get(rel.name);
            if (!old || chosen.has(rules.nameOf(old)) || !rel.version) return undefined;
            const found = rules.upgradeFor(old, rel);
            return found ? { old, found } : undefined;
          })
          .find((u) => u !== undefined);
        if (upgrade) {
          rules.choose(upgrade.old, upgrade.found);
          pulled = true;
        } else {
          unsatisfied.push(requirement.text);
        }
      }
    }
    if (pulled) continue;
    if (unsatisfied.length > 0) {
      entry.unsatisfied = [...new Set(unsatisfied)].sort();
      entry.verdict = 'unsatisfied-deps';
      entry.reason = `needs ${entry.unsatisfied.join(', ')}, which neither the image nor the repositories provide`;
    }
    return;
  }
}

/** A source package's entry before planning: every field empty, the verdict `apply` until something says otherwise. */
export function newPlanEntry(source: string, fixedVersion: string, findingIds: Iterable<string>): PatchPlanEntry {
  return {
    source,
    fixedVersion,
    findings: [...findingIds].sort(),
    binaries: [],
    scripts: [],
    conffiles: [],
    triggers: [],
    unsatisfied: [],
    verdict: 'apply',
  };
}
