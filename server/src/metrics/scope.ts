// Which repositories a metrics scope covers: the fleet, a team's repositories or one repository, always
// intersected with what the caller may read (an id outside it is not found, so existence does not leak).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ReadScope } from '../queries/scope.js';

/** A scope as the API names it (`fleet`, `team:<id or name>`, `repository:<public id or name>`), resolved. */
export interface MetricsScope {
  /** The stored key (`metrics_daily.scope`, `summaries.scope`): `fleet`, `team:<id>` or `repo:<id>`. */
  readonly key: string;
  /** The name shown to people: `fleet`, the team's name or the repository's. */
  readonly label: string;
  /** The non-archived repositories it covers. */
  readonly repositoryIds: readonly number[];
}

export class ScopeNotFound extends Error {}
export class ScopeUnreadable extends Error {}

/** Every stored scope key for the daily job: the fleet, each team with repositories, each repository. */
export async function allScopes(db: Kysely<Database>): Promise<MetricsScope[]> {
  const repos = await db
    .selectFrom('repositories')
    .select(['id', 'name', 'team_id'])
    .where('archived_at', 'is', null)
    .orderBy('id')
    .execute();
  const teams = await db.selectFrom('teams').select(['id', 'name']).orderBy('id').execute();
  const scopes: MetricsScope[] = [{ key: 'fleet', label: 'fleet', repositoryIds: repos.map((r) => r.id) }];
  for (const team of teams) {
    const ids = repos.filter((r) => r.team_id === team.id).map((r) => r.id);
    if (ids.length > 0) scopes.push({ key: `team:${team.id}`, label: team.name, repositoryIds: ids });
  }
  for (const r of repos) scopes.push({ key: `repo:${r.id}`, label: r.name, repositoryIds: [r.id] });
  return scopes;
}

/**
 * Resolves the API's `scope` parameter. `whole` demands that the caller reads every repository of the scope (a
 * stored series or summary covers all of them); otherwise the scope is narrowed to what the caller reads.
 */
export async function resolveScope(
  db: Kysely<Database>,
  param: string,
  readScope: ReadScope,
  whole: boolean,
): Promise<MetricsScope> {
  const all = await allScopes(db);
  let found: MetricsScope | undefined;
  if (param === 'fleet') found = all[0];
  else if (param.startsWith('team:')) {
    const ref = param.slice(5);
    const team = await db
      .selectFrom('teams')
      .select(['id'])
      .where(/^[0-9]+$/.test(ref) ? 'id' : 'name', '=', /^[0-9]+$/.test(ref) ? Number(ref) : ref)
      .executeTakeFirst();
    found = team
      ? (all.find((s) => s.key === `team:${team.id}`) ?? { key: `team:${team.id}`, label: ref, repositoryIds: [] })
      : undefined;
  } else if (param.startsWith('repository:') || param.startsWith('repo:')) {
    const ref = param.slice(param.indexOf(':') + 1);
    const repo = await db
      .selectFrom('repositories')
      .select(['id'])
      .where('archived_at', 'is', null)
      .where((eb) => eb.or([eb('public_id', '=', ref), eb('name', '=', ref)]))
      .executeTakeFirst();
    found = repo ? all.find((s) => s.key === `repo:${repo.id}`) : undefined;
  } else {
    throw new ScopeUnreadable('scope is fleet, team:<id> or repository:<id>');
  }
  if (!found) throw new ScopeNotFound(`no scope ${param}`);
  if (readScope.all) return found;
  const readable = new Set(readScope.repositoryIds);
  const visible = found.repositoryIds.filter((id) => readable.has(id));
  if (found.key !== 'fleet' && visible.length === 0) throw new ScopeNotFound(`no scope ${param}`);
  if (whole && visible.length !== found.repositoryIds.length) {
    if (found.key === 'fleet') throw new ScopeNotFound('the fleet series covers repositories this caller cannot read');
    throw new ScopeNotFound(`no scope ${param}`);
  }
  return { ...found, repositoryIds: visible };
}
