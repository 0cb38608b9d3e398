import type { FindingStatus, Severity } from '../model/finding.js';
import type { OsvAffected, OsvRecord } from '../model/osv.js';

/** One record that says a package is affected. */
export interface Hit {
  record: OsvRecord;
  affected: OsvAffected;
  fixedVersions: string[];
  status: FindingStatus;
  distroSeverity?: Severity;
}

/** The hits that describe one vulnerability: one finding. */
export interface HitGroup {
  id: string;
  aliases: string[];
  hits: Hit[];
}

interface Working {
  hits: Hit[];
  ids: Set<string>;
  extra: Set<string>;
  preferred?: string;
}

const isCve = (id: string) => id.startsWith('CVE-');

/**
 * Ubuntu's USNs name their CVE records (`UBUNTU-CVE-2016-0634`) as upstream rather than the CVE itself, so the
 * distro prefix is dropped to find the finding of that CVE.
 */
const upstreamCve = (id: string) => /^(?:UBUNTU|DEBIAN|ALPINE)-(CVE-\d+-\d+)$/.exec(id)?.[1] ?? id;

/**
 * Folds a package's hits into vulnerabilities. `aliases` are the same vulnerability (symmetric, transitive):
 * merged. `upstream` is where a distro record came from (DEBIAN-CVE-X → CVE-X, a DSA → its CVEs): such a
 * record joins the finding of that CVE when there is one, or becomes the CVE's finding when it names exactly
 * one; a DSA over several CVEs with no per-CVE record stays its own finding. `related` never merges.
 */
export function groupHits(hits: Hit[]): HitGroup[] {
  const groups = unionByAliases(hits);
  const byCve = new Map<string, Working>();
  const primary: Working[] = [];
  const derived: Working[] = [];
  for (const group of groups) {
    const hasUpstream = group.hits.some((h) => (h.record.upstream ?? []).length > 0);
    if ([...group.ids].some(isCve) || !hasUpstream) {
      primary.push(group);
      for (const id of group.ids) if (isCve(id)) byCve.set(id, group);
    } else {
      derived.push(group);
    }
  }
  const upstreamOf = (g: Working) =>
    [...new Set(g.hits.flatMap((h) => (h.record.upstream ?? []).map(upstreamCve)))].sort();
  derived.sort((a, b) => upstreamOf(a).length - upstreamOf(b).length || cmp(firstId(a), firstId(b)));
  for (const group of derived) {
    const upstream = upstreamOf(group);
    const targets = [...new Set(upstream.map((id) => byCve.get(id)).filter((g): g is Working => !!g))];
    if (targets.length > 0) {
      for (const target of targets) {
        for (const hit of group.hits) target.hits.push(hit);
        for (const id of group.ids) target.extra.add(id);
      }
      continue;
    }
    const cves = upstream.filter(isCve);
    if (cves.length === 1) {
      group.preferred = cves[0]!;
      byCve.set(cves[0]!, group);
    }
    primary.push(group);
  }
  return primary.map(finish);
}

function unionByAliases(hits: Hit[]): Working[] {
  const parent = hits.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const owner = new Map<string, number>();
  hits.forEach((hit, i) => {
    for (const id of [hit.record.id, ...(hit.record.aliases ?? [])]) {
      const other = owner.get(id);
      if (other === undefined) owner.set(id, i);
      else parent[find(i)] = find(other);
    }
  });
  const byRoot = new Map<number, Working>();
  hits.forEach((hit, i) => {
    const root = find(i);
    let group = byRoot.get(root);
    if (!group) {
      group = { hits: [], ids: new Set(), extra: new Set() };
      byRoot.set(root, group);
    }
    group.hits.push(hit);
    group.ids.add(hit.record.id);
    for (const alias of hit.record.aliases ?? []) group.ids.add(alias);
  });
  return [...byRoot.values()];
}

function finish(group: Working): HitGroup {
  const cves = [...group.ids].filter(isCve).sort();
  const id = group.preferred ?? cves[0] ?? firstId(group);
  const all = new Set([...group.ids, ...group.extra]);
  all.delete(id);
  return { id, aliases: [...all].sort(), hits: group.hits };
}

function firstId(group: Working): string {
  return group.hits[0]?.record.id ?? '';
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
