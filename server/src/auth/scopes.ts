// Scopes and team roles. A token carries scopes; a user's session gets the scopes of their role in each team whose
// grants cover a repository (SERVER.md section 2, "Roles": viewer, triager (+ exceptions and VEX), maintainer
// (+ repository settings, team tokens and ingest), admin).

export const SCOPES = ['ingest', 'read', 'triage', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const TEAM_ROLES = ['viewer', 'triager', 'maintainer'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

export function isTeamRole(value: unknown): value is TeamRole {
  return typeof value === 'string' && (TEAM_ROLES as readonly string[]).includes(value);
}

export function scopesOfRole(role: TeamRole): ReadonlySet<Scope> {
  switch (role) {
    case 'viewer':
      return new Set<Scope>(['read']);
    case 'triager':
      return new Set<Scope>(['read', 'triage']);
    case 'maintainer':
      return new Set<Scope>(['read', 'triage', 'ingest']);
  }
}

/** Scopes in a stable order, for storage and answers. */
export function sortedScopes(scopes: Iterable<Scope>): Scope[] {
  const set = new Set(scopes);
  return SCOPES.filter((s) => set.has(s));
}
