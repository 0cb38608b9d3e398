// The database side of authentication: users, teams, grants, API tokens and sessions. Each function takes the Kysely
// handle and plain values; the decisions (formats, lifetimes, grants) live in the pure modules beside this one.
import { type Kysely, sql } from 'kysely';
import { decodeJson, encodeJson, isPostgres } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { jsonArrayAgg, jsonObject } from '../queries/json.js';
import { type Caller, type TeamMembership, teamOwner, tokenCaller, userCaller } from './caller.js';
import type { AuthKeys } from './keys.js';
import { hashPassword } from './passwords.js';
import { isScope, type Scope, type TeamRole } from './scopes.js';
import {
  csrfTokenFor,
  newSessionId,
  SESSION_IDLE_MS,
  SESSION_TOUCH_INTERVAL_MS,
  sessionIdHash,
  sessionIsLive,
  sessionTimesAtLogin,
} from './sessions.js';
import { generateApiToken, parseApiToken, tokenSecretHmac, tokenSecretMatches } from './tokens.js';

type Db = Kysely<Database>;

/** last_used_at is written at most once a minute per token, so that a busy CI token does not write on every call. */
const TOKEN_TOUCH_INTERVAL_MS = 60_000;

// ---- users and teams ----

export interface UserRow {
  id: number;
  login: string;
  displayName: string;
  email: string;
  isAdmin: boolean;
  disabledAt: number | null;
  createdAt: number;
}

function userOf(r: {
  id: number;
  login: string;
  display_name: string;
  email: string;
  is_admin: number;
  disabled_at: number | null;
  created_at: number;
}): UserRow {
  return {
    id: r.id,
    login: r.login,
    displayName: r.display_name,
    email: r.email,
    isAdmin: Number(r.is_admin) === 1,
    disabledAt: r.disabled_at,
    createdAt: r.created_at,
  };
}

const USER_COLUMNS = ['id', 'login', 'display_name', 'email', 'is_admin', 'disabled_at', 'created_at'] as const;

export async function insertUser(
  db: Db,
  input: { login: string; displayName?: string; email?: string; password?: string; isAdmin?: boolean },
  now: number,
): Promise<UserRow> {
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const row = await db
    .insertInto('users')
    .values({
      login: input.login,
      display_name: input.displayName ?? input.login,
      email: input.email ?? '',
      password_hash: passwordHash,
      oidc_issuer: null,
      oidc_subject: null,
      is_admin: input.isAdmin ? 1 : 0,
      disabled_at: null,
      created_at: now,
    })
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow();
  return userOf(row);
}

export async function findUserByLogin(
  db: Db,
  login: string,
): Promise<(UserRow & { passwordHash: string | null }) | undefined> {
  const row = await db
    .selectFrom('users')
    .select([...USER_COLUMNS, 'password_hash'])
    .where('login', '=', login)
    .executeTakeFirst();
  return row ? { ...userOf(row), passwordHash: row.password_hash } : undefined;
}

/** Users by login (then id), at most `limit` of them, after the `after` key when given (keyset pages). */
export async function listUsers(db: Db, limit: number, after?: { login: string; id: number }): Promise<UserRow[]> {
  let q = db.selectFrom('users').select(USER_COLUMNS);
  if (after) {
    q = q.where((eb) =>
      eb.or([eb('login', '>', after.login), eb.and([eb('login', '=', after.login), eb('id', '>', after.id)])]),
    );
  }
  const rows = await q.orderBy('login').orderBy('id').limit(limit).execute();
  return rows.map(userOf);
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  const row = await db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? userOf(row) : undefined;
}

/** Sets a new password and ends every session of the user (SERVER.md section 7: "a password change ends all sessions"). */
export async function setPassword(db: Db, userId: number, password: string): Promise<void> {
  const hash = await hashPassword(password);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
    await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
  });
}

export async function insertTeam(
  db: Db,
  name: string,
  now: number,
): Promise<{ id: number; name: string; createdAt: number }> {
  const row = await db
    .insertInto('teams')
    .values({ name, created_at: now })
    .returning(['id', 'name', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

export async function findTeam(
  db: Db,
  id: number,
): Promise<{ id: number; name: string; createdAt: number } | undefined> {
  const row = await db.selectFrom('teams').select(['id', 'name', 'created_at']).where('id', '=', id).executeTakeFirst();
  return row ? { id: row.id, name: row.name, createdAt: row.created_at } : undefined;
}

/** Adds a grant; an existing identical grant is kept as it is (idempotent). True when a grant was added. */
export async function insertGrant(db: Db, teamId: number, pattern: string, now: number): Promise<boolean> {
  const result = await db
    .insertInto('team_grants')
    .values({ team_id: teamId, repository_pattern: pattern, created_at: now })
    .onConflict((oc) => oc.columns(['team_id', 'repository_pattern']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** Adds a member or changes their role; returns the role they had before (null for a new member). */
export async function upsertMember(
  db: Db,
  teamId: number,
  userId: number,
  role: TeamRole,
  now: number,
): Promise<TeamRole | null> {
  const before = await db
    .selectFrom('team_members')
    .select('role')
    .where('team_id', '=', teamId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  await db
    .insertInto('team_members')
    .values({ team_id: teamId, user_id: userId, role, created_at: now })
    .onConflict((oc) => oc.columns(['team_id', 'user_id']).doUpdateSet({ role }))
    .execute();
  return before ? (before.role as TeamRole) : null;
}

export async function teamGrantPatterns(db: Db, teamId: number): Promise<string[]> {
  const rows = await db.selectFrom('team_grants').select('repository_pattern').where('team_id', '=', teamId).execute();
  return rows.map((r) => r.repository_pattern);
}

/** A user's membership of one team joined with one of the team's grants (null when it has none). */
interface MembershipRow {
  team_id: number;
  role: TeamRole;
  repository_pattern: string | null;
}

export async function membershipsOf(db: Db, userId: number): Promise<(TeamMembership & { teamId: number })[]> {
  const rows = await db
    .selectFrom('team_members')
    .leftJoin('team_grants', 'team_grants.team_id', 'team_members.team_id')
    .select(['team_members.team_id', 'team_members.role', 'team_grants.repository_pattern'])
    .where('team_members.user_id', '=', userId)
    .execute();
  return groupMemberships(rows);
}

/** One membership per team, with the team's grant patterns. */
function groupMemberships(rows: readonly MembershipRow[]): (TeamMembership & { teamId: number })[] {
  const byTeam = new Map<number, TeamMembership & { teamId: number; patterns: string[] }>();
  for (const r of rows) {
    const m = byTeam.get(r.team_id) ?? { teamId: r.team_id, role: r.role, patterns: [] };
    if (r.repository_pattern !== null) m.patterns.push(r.repository_pattern);
    byTeam.set(r.team_id, m);
  }
  return [...byTeam.values()];
}

/** The caller a user is, from their current admin flag and team grants. */
export async function callerOfUser(db: Db, user: UserRow): Promise<Caller> {
  return userCaller(user, await membershipsOf(db, user.id));
}

// ---- API tokens ----

export interface NewApiToken {
  name: string;
  scopes: readonly Scope[];
  repositoryPattern: string;
  expiresAt: number;
  ownerTeamId?: number | null;
  ownerUserId?: number | null;
  createdBy?: number | null;
}

/** Stores a new token (its secret only as an HMAC) and returns the whole credential, which is never shown again. */
export async function insertApiToken(
  db: Db,
  keys: AuthKeys,
  input: NewApiToken,
  now: number,
): Promise<{ id: number; publicId: string; token: string }> {
  const generated = generateApiToken();
  const row = await db
    .insertInto('api_tokens')
    .values({
      public_id: generated.publicId,
      secret_hmac: tokenSecretHmac(keys.tokenPepper, generated.secret),
      name: input.name,
      owner_team_id: input.ownerTeamId ?? null,
      owner_user_id: input.ownerUserId ?? null,
      scopes: encodeJson(input.scopes),
      repository_pattern: input.repositoryPattern,
      expires_at: input.expiresAt,
      created_by: input.createdBy ?? null,
      last_used_at: null,
      last_used_ip: null,
      revoked_at: null,
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, publicId: generated.publicId, token: generated.token };
}

export interface ApiTokenView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  repositoryPattern: string;
  ownerTeamId: number | null;
  ownerUserId: number | null;
  createdBy: number | null;
  expiresAt: number;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  rowId: number;
}

function scopesOf(json: string): Scope[] {
  const value = decodeJson<unknown>(json);
  return Array.isArray(value) ? value.filter(isScope) : [];
}

const TOKEN_COLUMNS = [
  'id',
  'public_id',
  'name',
  'scopes',
  'repository_pattern',
  'owner_team_id',
  'owner_user_id',
  'created_by',
  'expires_at',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const;

function tokenViewOf(r: {
  id: number;
  public_id: string;
  name: string;
  scopes: string;
  repository_pattern: string;
  owner_team_id: number | null;
  owner_user_id: number | null;
  created_by: number | null;
  expires_at: number;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}): ApiTokenView {
  return {
    id: r.public_id,
    rowId: r.id,
    name: r.name,
    prefix: `lading_${r.public_id}_`,
    scopes: scopesOf(r.scopes),
    repositoryPattern: r.repository_pattern,
    ownerTeamId: r.owner_team_id,
    ownerUserId: r.owner_user_id,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

/** Tokens visible to a listing: all of them (`teamIds: 'all'`), or those owned by the user or by the given teams. */
export async function listApiTokens(
  db: Db,
  visible: { all: true } | { all: false; userId: number | null; teamIds: readonly number[] },
  page: { afterRowId: number | null; limit: number },
): Promise<ApiTokenView[]> {
  let q = db.selectFrom('api_tokens').select(TOKEN_COLUMNS).orderBy('id').limit(page.limit);
  if (page.afterRowId !== null) q = q.where('id', '>', page.afterRowId);
  if (!visible.all) {
    const { userId, teamIds } = visible;
    if (userId === null && teamIds.length === 0) return [];
    q = q.where((eb) =>
      eb.or([
        ...(userId !== null ? [eb('owner_user_id', '=', userId)] : []),
        ...(teamIds.length > 0 ? [eb('owner_team_id', 'in', teamIds)] : []),
      ]),
    );
  }
  return (await q.execute()).map(tokenViewOf);
}

export async function findApiTokenView(db: Db, publicId: string): Promise<ApiTokenView | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .select(TOKEN_COLUMNS)
    .where('public_id', '=', publicId)
    .executeTakeFirst();
  return row ? tokenViewOf(row) : undefined;
}

/** Revokes a token; true when this call revoked it (false when it already was). */
export async function revokeApiToken(db: Db, rowId: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', rowId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Why a presented credential was refused: one line for the problem document's detail. */
export type AuthRefusal = { status: 401 | 403; detail: string };

/**
 * The caller a Bearer token stands for, or why it is refused. Every refusal of an unknown, wrong, expired or revoked
 * token is a 401; the detail says which only where that leaks nothing (an unknown id and a wrong secret read the same).
 */
export async function authenticateToken(
  db: Db,
  keys: AuthKeys,
  presented: string,
  ip: string | null,
  now: number,
): Promise<Caller | AuthRefusal> {
  const invalid: AuthRefusal = { status: 401, detail: 'the API token is not valid' };
  const parts = parseApiToken(presented);
  if (!parts)
    return { status: 401, detail: 'the Authorization header does not carry a Lading API token (lading_<id>_<secret>)' };
  // ONE statement: the token, its owner (user or team) and the owner's grants (a user's team memberships with their
  // grants, or a team's grants) as JSON columns. Every API call with a token runs it, and each round trip to the
  // database costs the HTTP thread CPU (docs/performance.md, "Server: ingest"): it was three.
  const pg = isPostgres(db);
  const row = await db
    .selectFrom('api_tokens as t')
    .leftJoin('users as u', 'u.id', 't.owner_user_id')
    .leftJoin('teams as tm', 'tm.id', 't.owner_team_id')
    .select([
      't.id',
      't.public_id',
      't.name',
      't.scopes',
      't.repository_pattern',
      't.owner_team_id',
      't.owner_user_id',
      't.expires_at',
      't.last_used_at',
      't.revoked_at',
      't.secret_hmac',
      't.last_used_ip',
      'u.id as user_id',
      'u.login as user_login',
      'u.display_name as user_display_name',
      'u.email as user_email',
      'u.is_admin as user_is_admin',
      'u.disabled_at as user_disabled_at',
      'u.created_at as user_created_at',
      'tm.id as team_id',
      'tm.name as team_name',
    ])
    .select((eb) => [
      eb
        .selectFrom('team_grants as g')
        .select(jsonArrayAgg(pg, sql.ref('g.repository_pattern'), sql`g.repository_pattern`).as('patterns'))
        .whereRef('g.team_id', '=', 't.owner_team_id')
        .as('team_patterns'),
      eb
        .selectFrom('team_members as m')
        .leftJoin('team_grants as mg', 'mg.team_id', 'm.team_id')
        .select(
          jsonArrayAgg(
            pg,
            jsonObject(pg, {
              team_id: sql.ref('m.team_id'),
              role: sql.ref('m.role'),
              repository_pattern: sql.ref('mg.repository_pattern'),
            }),
            sql`m.team_id, mg.repository_pattern`,
          ).as('memberships'),
        )
        .whereRef('m.user_id', '=', 't.owner_user_id')
        .as('user_memberships'),
    ])
    .where('t.public_id', '=', parts.publicId)
    .executeTakeFirst();
  if (!row) {
    // Spend the same HMAC either way so an unknown id is not faster to refuse than a wrong secret.
    tokenSecretMatches(keys.tokenPepper, parts.secret, '0'.repeat(64));
    return invalid;
  }
  if (!tokenSecretMatches(keys.tokenPepper, parts.secret, row.secret_hmac)) return invalid;
  if (row.revoked_at !== null) return { status: 401, detail: 'the API token has been revoked' };
  if (now >= row.expires_at) return { status: 401, detail: 'the API token has expired' };
  let owner: Caller;
  if (row.owner_user_id !== null) {
    if (row.user_id === null || row.user_disabled_at !== null)
      return { status: 401, detail: "the API token's owner is disabled" };
    const user = userOf({
      id: row.user_id,
      login: row.user_login as string,
      display_name: row.user_display_name as string,
      email: row.user_email as string,
      is_admin: row.user_is_admin as number,
      disabled_at: row.user_disabled_at,
      created_at: row.user_created_at as number,
    });
    const memberships = decodeJson<MembershipRow[]>(row.user_memberships) ?? [];
    owner = userCaller(user, groupMemberships(memberships));
  } else if (row.owner_team_id !== null) {
    if (row.team_id === null) return invalid;
    owner = teamOwner(
      { id: row.team_id, name: row.team_name as string },
      decodeJson<string[]>(row.team_patterns) ?? [],
    );
  } else {
    return invalid;
  }
  if (row.last_used_at === null || now - row.last_used_at >= TOKEN_TOUCH_INTERVAL_MS || row.last_used_ip !== ip) {
    await db.updateTable('api_tokens').set({ last_used_at: now, last_used_ip: ip }).where('id', '=', row.id).execute();
  }
  return tokenCaller(
    {
      id: row.id,
      publicId: row.public_id,
      name: row.name,
      scopes: scopesOf(row.scopes),
      repositoryPattern: row.repository_pattern,
    },
    owner,
  );
}

// ---- sessions ----

/** Starts a session: a fresh id (never one the client offered, so fixation is impossible), stored only as a hash. */
export async function insertSession(
  db: Db,
  keys: AuthKeys,
  user: { id: number },
  client: { ip: string | null; userAgent: string | null },
  now: number,
): Promise<{ sessionId: string; csrfToken: string; expiresAt: number }> {
  const sessionId = newSessionId();
  const csrfToken = csrfTokenFor(keys.csrfKey, sessionId);
  const times = sessionTimesAtLogin(now);
  await db
    .insertInto('sessions')
    .values({
      id_hash: sessionIdHash(keys.sessionPepper, sessionId),
      user_id: user.id,
      csrf_hash: tokenSecretHmac(keys.csrfKey, csrfToken),
      expires_at: times.expiresAt,
      idle_expires_at: now + SESSION_IDLE_MS,
      last_seen_at: now,
      ip: client.ip,
      user_agent: client.userAgent ? client.userAgent.slice(0, 256) : null,
      created_at: now,
    })
    .execute();
  return { sessionId, csrfToken, expiresAt: times.expiresAt };
}

/** The user behind a live session (touching its idle clock), or undefined; an expired row is deleted on sight. */
export async function authenticateSession(
  db: Db,
  keys: AuthKeys,
  sessionId: string,
  now: number,
): Promise<{ user: UserRow; caller: Caller } | undefined> {
  const idHash = sessionIdHash(keys.sessionPepper, sessionId);
  const row = await db
    .selectFrom('sessions')
    .select(['user_id', 'expires_at', 'last_seen_at', 'created_at'])
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return undefined;
  if (!sessionIsLive({ createdAt: row.created_at, lastSeenAt: row.last_seen_at, expiresAt: row.expires_at }, now)) {
    await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    return undefined;
  }
  const user = await findUserById(db, row.user_id);
  if (!user || user.disabledAt !== null) return undefined;
  if (now - row.last_seen_at >= SESSION_TOUCH_INTERVAL_MS) {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: now, idle_expires_at: Math.min(now + SESSION_IDLE_MS, row.expires_at) })
      .where('id_hash', '=', idHash)
      .execute();
  }
  return { user, caller: await callerOfUser(db, user) };
}

export async function deleteSession(db: Db, keys: AuthKeys, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', sessionIdHash(keys.sessionPepper, sessionId)).execute();
}

/** Removes sessions past their absolute or idle end (called by housekeeping). */
export async function deleteExpiredSessions(db: Db, now: number): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('idle_expires_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
