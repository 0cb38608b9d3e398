// Debian dependency fields (`Depends`, `Pre-Depends`): comma-separated clauses of `|` alternatives, each
// `name[:arch] [(op version)]`, checked against the packages the image will hold after the patch.
import { compareVersions } from '../versions/index.js';

export interface Relation {
  name: string;
  op?: string;
  version?: string;
}

export function parseRelations(value: string | undefined): Relation[][] {
  if (!value) return [];
  return value
    .split(',')
    .map((clause) =>
      clause
        .split('|')
        .map((alt) => alt.trim())
        .filter((alt) => alt !== '')
        .map((alt) => {
          const m = /^([^\s(:[]+)(?::\S+)?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?/.exec(alt);
          const rel: Relation = { name: m?.[1] ?? alt };
          if (m?.[2] && m[3]) {
            rel.op = m[2];
            rel.version = m[3];
          }
          return rel;
        }),
    )
    .filter((c) => c.length > 0);
}

export function satisfiesOp(ecosystem: string, have: string, op: string, want: string): boolean {
  const c = compareVersions(ecosystem, have, want);
  switch (op) {
    case '<<':
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
    case '>':
      return c > 0;
    default:
      return false;
  }
}

/** Whether `rel` holds given package → version and virtual package → provided versions ('' = unversioned). */
export function holds(
  rel: Relation,
  versions: ReadonlyMap<string, string>,
  provides: ReadonlyMap<string, string[]>,
): boolean {
  const have = versions.get(rel.name);
  if (have !== undefined && (!rel.op || !rel.version || satisfiesOp('Debian', have, rel.op, rel.version))) return true;
  for (const provided of provides.get(rel.name) ?? []) {
    if (!rel.op || !rel.version) return true;
    if (provided !== '' && satisfiesOp('Debian', provided, rel.op, rel.version)) return true;
  }
  return false;
}

export function formatRelation(clause: Relation[]): string {
  return clause.map((r) => (r.op ? `${r.name} (${r.op} ${r.version})` : r.name)).join(' | ');
}
