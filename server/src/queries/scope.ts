// What a caller may read, resolved once per request into repository ids that every query takes (SERVER.md section
// 2, "Authorization"): an image or repository outside them is simply not found (404), so existence never leaks.
import type { Kysely } from 'kysely';
import { type Caller, callerMayAccess } from '../auth/caller.js';
import type { Database } from '../db/schema.js';

/** Every repository (an admin, or a pattern of `*`), or exactly these repository ids. */
export type ReadScope = { readonly all: true } | { readonly all: false; readonly repositoryIds: readonly number[] };

export const EVERYTHING: ReadScope = { all: true };

/**
 * The repositories `caller` may read (its grants that hold the read scope: an ingest-only token reads nothing).
 * Patterns are globs (auth/patterns.ts); they are matched here in code, over the
 * repository names, because a glob with `*` anywhere is not a prefix range an index could serve, and the number of
 * repositories (hundreds, not millions) makes one scan of their names cheap.
 */
export async function readScopeOf(db: Kysely<Database>, caller: Caller): Promise<ReadScope> {
  if (caller.isAdmin || caller.grants.some((g) => g.pattern === '*' && g.scopes.has('read'))) return EVERYTHING;
  if (!caller.grants.some((g) => g.scopes.has('read'))) return { all: false, repositoryIds: [] };
  const rows = await db.selectFrom('repositories').select(['id', 'name']).execute();
  return {
    all: false,
    repositoryIds: rows.filter((r) => callerMayAccess(caller, r.name, 'read')).map((r) => r.id),
  };
}

/** Whether `scope` holds the repository. */
export function scopeHolds(scope: ReadScope, repositoryId: number): boolean {
  return scope.all || scope.repositoryIds.includes(repositoryId);
}
