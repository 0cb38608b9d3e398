import type { Package } from '../model/package.js';

/** Which package ids each package depends on, from `dependsOn` names resolved within the same package type. */
export function resolveDependencies(packages: readonly Package[]): Map<string, string[]> {
  const byName = new Map<string, Package[]>();
  for (const pkg of packages) {
    const key = `${pkg.type}\0${pkg.name}`;
    const list = byName.get(key);
    if (list) list.push(pkg);
    else byName.set(key, [pkg]);
  }
  const graph = new Map<string, string[]>();
  for (const pkg of packages) {
    const targets = new Set<string>();
    for (const name of pkg.dependsOn ?? []) {
      const candidates = byName.get(`${pkg.type}\0${name}`);
      if (!candidates) continue;
      const chosen = closest(pkg, candidates);
      if (chosen && chosen.id !== pkg.id) targets.add(chosen.id);
    }
    graph.set(pkg.id, [...targets].sort());
  }
  return graph;
}

/**
 * Several packages can share a name (npm's nested node_modules): the one installed nearest the dependent
 * (longest common location prefix) is the one its package manager resolves.
 */
function closest(from: Package, candidates: readonly Package[]): Package | undefined {
  if (candidates.length === 1) return candidates[0];
  const origin = from.locations[0]?.path ?? '';
  let best: Package | undefined;
  let bestScore = -1;
  for (const candidate of candidates) {
    const score = commonPrefix(origin, candidate.locations[0]?.path ?? '');
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Packages nothing else depends on, plus any only reachable through a cycle: the root's direct children. */
export function topLevel(packages: readonly Package[], graph: ReadonlyMap<string, readonly string[]>): string[] {
  const dependedOn = new Set<string>();
  for (const targets of graph.values()) for (const t of targets) dependedOn.add(t);
  const roots = packages.filter((p) => !dependedOn.has(p.id)).map((p) => p.id);
  const reached = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop() as string;
    if (reached.has(id)) continue;
    reached.add(id);
    for (const next of graph.get(id) ?? []) stack.push(next);
  }
  for (const pkg of packages) {
    if (reached.has(pkg.id)) continue;
    // A cycle with no way in: root adopts one member, which reaches the rest.
    roots.push(pkg.id);
    const walk = [pkg.id];
    while (walk.length) {
      const id = walk.pop() as string;
      if (reached.has(id)) continue;
      reached.add(id);
      for (const next of graph.get(id) ?? []) walk.push(next);
    }
  }
  return roots;
}
