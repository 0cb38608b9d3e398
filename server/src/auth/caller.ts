// Who is calling and what they may touch. Pure: the rows come from auth/store.ts, the decision is made here.
//
// A caller holds grants: (repository pattern, scopes) pairs. A session user gets one grant per team grant, with the
// scopes of their role in that team, so a viewer in one team and a triager in another can triage only the second
// team's repositories. A token gets its owner's grants narrowed to the token's own pattern and scopes. An admin is
// not narrowed by grants, but an admin token still is by its pattern.
import { repositoryPatternCovers, repositoryPatternMatches } from './patterns.js';
import { type Scope, scopesOfRole, sortedScopes, type TeamRole } from './scopes.js';

export interface Grant {
  pattern: string;
  scopes: ReadonlySet<Scope>;
}

export interface Caller {
  kind: 'user' | 'token' | 'system';
  /** users.id, api_tokens.id, or 0 for the system. */
  id: number;
  name: string;
  /** Every scope the caller holds on at least one repository. */
  scopes: ReadonlySet<Scope>;
  /** Every repository pattern the caller may read (the union of its grants' patterns). */
  repositoryPatterns: readonly string[];
  isAdmin: boolean;
  /** The grants themselves: which scopes hold on which repositories. */
  grants: readonly Grant[];
  /** For a token caller: the token's public id (for the audit log); for a user: the user id as text. */
  publicId?: string;
}

export interface TeamMembership {
  role: TeamRole;
  patterns: readonly string[];
}

function callerOf(
  base: Pick<Caller, 'kind' | 'id' | 'name' | 'isAdmin' | 'publicId'>,
  grants: readonly Grant[],
  extraScopes: Iterable<Scope> = [],
): Caller {
  const scopes = new Set<Scope>(extraScopes);
  for (const g of grants) for (const s of g.scopes) scopes.add(s);
  const patterns = [...new Set(grants.map((g) => g.pattern))];
  return { ...base, scopes, repositoryPatterns: patterns, grants };
}

export function userCaller(
  user: { id: number; login: string; isAdmin: boolean },
  memberships: readonly TeamMembership[],
): Caller {
  if (user.isAdmin) {
    const all = new Set<Scope>(['ingest', 'read', 'triage', 'admin']);
    return callerOf({ kind: 'user', id: user.id, name: user.login, isAdmin: true }, [{ pattern: '*', scopes: all }]);
  }
  const grants = memberships.flatMap((m) => m.patterns.map((pattern) => ({ pattern, scopes: scopesOfRole(m.role) })));
  return callerOf({ kind: 'user', id: user.id, name: user.login, isAdmin: false }, grants);
}

/**
 * A token's grants: each of its owner's grants intersected with the token's pattern and scopes. The intersection of
 * two globs is not always one glob, so this keeps the token's pattern where an owner grant covers it, and an owner
 * grant where the token's pattern covers it: both lie inside the true intersection, so the result never grants more.
 */
export function tokenCaller(
  token: { id: number; publicId: string; name: string; scopes: readonly Scope[]; repositoryPattern: string },
  owner: Caller,
): Caller {
  const tokenScopes = new Set(token.scopes);
  const isAdmin = owner.isAdmin && tokenScopes.has('admin');
  const grants: Grant[] = [];
  for (const g of owner.grants) {
    const scopes = new Set(sortedScopes([...g.scopes].filter((s) => tokenScopes.has(s))));
    if (scopes.size === 0) continue;
    if (repositoryPatternCovers(g.pattern, token.repositoryPattern))
      grants.push({ pattern: token.repositoryPattern, scopes });
    else if (repositoryPatternCovers(token.repositoryPattern, g.pattern)) grants.push({ pattern: g.pattern, scopes });
  }
  return callerOf(
    { kind: 'token', id: token.id, name: token.name, isAdmin, publicId: token.publicId },
    dedupeGrants(grants),
    isAdmin ? ['admin'] : [],
  );
}

function dedupeGrants(grants: readonly Grant[]): Grant[] {
  const byPattern = new Map<string, Set<Scope>>();
  for (const g of grants) {
    const set = byPattern.get(g.pattern) ?? new Set<Scope>();
    for (const s of g.scopes) set.add(s);
    byPattern.set(g.pattern, set);
  }
  return [...byPattern].map(([pattern, scopes]) => ({ pattern, scopes }));
}

/** The in-process caller of background jobs. */
export const SYSTEM_CALLER: Caller = {
  kind: 'system',
  id: 0,
  name: 'system',
  scopes: new Set<Scope>(['ingest', 'read', 'triage', 'admin']),
  repositoryPatterns: ['*'],
  isAdmin: true,
  grants: [{ pattern: '*', scopes: new Set<Scope>(['ingest', 'read', 'triage', 'admin']) }],
};

/**
 * Whether the caller may touch repository `repositoryName`: with `scope` when given, with any scope it holds there
 * otherwise (an ingest-only token may ingest into a repository it cannot read). A route answers 404 when this is
 * false for an existing id, never 403, so that existence does not leak across teams.
 */
export function callerMayAccess(caller: Caller, repositoryName: string, scope?: Scope): boolean {
  return caller.grants.some(
    (g) =>
      (scope === undefined ? g.scopes.size > 0 : g.scopes.has(scope)) &&
      repositoryPatternMatches(g.pattern, repositoryName),
  );
}

/** Whether every repository `pattern` names lies inside the caller's grants for all of `scopes` (token minting). */
export function callerCoversPattern(caller: Caller, pattern: string, scopes: readonly Scope[]): boolean {
  return scopes.every((s) => caller.grants.some((g) => g.scopes.has(s) && repositoryPatternCovers(g.pattern, pattern)));
}

/** The owner side of a team-owned token: the team's grants with every non-admin scope (the token narrows them). */
export function teamOwner(team: { id: number; name: string }, patterns: readonly string[]): Caller {
  const scopes = new Set<Scope>(['ingest', 'read', 'triage']);
  return callerOf(
    { kind: 'system', id: team.id, name: `team:${team.name}`, isAdmin: false },
    patterns.map((pattern) => ({ pattern, scopes })),
  );
}

/**
 * The caller as seen by an operation that needs `scope`: only the grants that hold it. `requireScope` returns this,
 * so that a later `callerMayAccess(caller, name)` in that handler cannot succeed through a grant of another scope
 * (a viewer of one team who maintains another must not ingest into the first).
 */
export function narrowToScope(caller: Caller, scope: Scope): Caller {
  if (caller.isAdmin) return caller;
  const grants = caller.grants.filter((g) => g.scopes.has(scope));
  return { ...caller, grants, repositoryPatterns: [...new Set(grants.map((g) => g.pattern))] };
}
