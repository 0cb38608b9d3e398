// /api/v1/auth (login, logout, me) and the minimal identity admin endpoints (users, teams, grants, members).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuthHost, requireAdmin, requireScope, SESSION_COOKIE } from '../auth/index.js';
import { MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../auth/passwords.js';
import { repositoryPatternProblem } from '../auth/patterns.js';
import { loginTooMany } from '../auth/rate-limits.js';
import { isTeamRole, sortedScopes } from '../auth/scopes.js';
import { csrfTokenFor, originIsSameOrigin, readCookie, SESSION_MAX_AGE_MS, sessionCookie } from '../auth/sessions.js';
import {
  deleteSession,
  findUserById,
  findUserByLogin,
  insertGrant,
  insertSession,
  insertTeam,
  insertUser,
  listUsers,
  type UserRow,
  upsertMember,
} from '../auth/store.js';
import { actorOf, recordEvent } from '../events/record.js';
import { ProblemError } from '../http/problem.js';
import { cappedCount, cappedTotal, decodeCursor, listHash, pageOf } from '../queries/keyset.js';
import { pageRequest, queryOf } from './read-common.js';

const LOGIN_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;
const TEAM_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/**
 * A stored hash verified when the login is unknown, so that an unknown name costs the same scrypt time as a wrong
 * password and response times do not tell which names exist. (Its password is unguessable and irrelevant.)
 */
const DUMMY_HASH = '$scrypt$ln=16,r=8,p=1$bGFkaW5nLWR1bW15LXNhbHQ=$q2S0g0D2b8R3kq4b0m4w4x8bQqD1mJbV0yq3Qd1K2Fo=';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function userView(u: UserRow) {
  return {
    login: u.login,
    displayName: u.displayName,
    email: u.email,
    isAdmin: u.isAdmin,
    disabled: u.disabledAt !== null,
    createdAt: iso(u.createdAt),
  };
}

function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) {
    throw new ProblemError(400, 'Bad Request', 'the request body must be a JSON object');
  }
  return b as Record<string, unknown>;
}

function invalid(field: string, reason: string): ProblemError {
  return new ProblemError(422, 'Unprocessable Content', `${field}: ${reason}`, { field });
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export async function registerAuthRoutes(
  app: FastifyInstance,
  host: AuthHost & { secrets: { pageTokenKey: Uint8Array } },
): Promise<void> {
  const { keys, loginAttempts, publicOrigins } = app.auth;

  app.post('/api/v1/auth/login', async (request, reply) => {
    const b = body(request);
    const { login, password } = b;
    if (typeof login !== 'string' || login.length === 0 || login.length > 100)
      throw invalid('login', 'a login name is required');
    if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
      throw invalid('password', 'a password is required');
    }
    // Login CSRF: a browser always sends Origin on a POST; a foreign one must not log the victim into our server.
    if (
      request.headers.origin !== undefined &&
      !originIsSameOrigin(request.headers.origin, request.headers.host, request.protocol, publicOrigins)
    ) {
      throw new ProblemError(403, 'Forbidden', "a login must come from this server's own origin (Origin header)");
    }
    const wait = loginAttempts.take(login, host.now());
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      throw loginTooMany(wait);
    }
    const user = await findUserByLogin(host.db, login);
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok || user.passwordHash === null || user.disabledAt !== null) {
      throw new ProblemError(401, 'Unauthorized', 'the login name or password is wrong');
    }
    // A fresh session id at every login; a session the browser already had is ended, never reused (no fixation).
    const previous = readCookie(request.headers.cookie, SESSION_COOKIE);
    const now = host.now();
    const session = await host.db.transaction().execute(async (trx) => {
      if (previous !== undefined) await deleteSession(trx, keys, previous);
      const started = await insertSession(
        trx,
        keys,
        user,
        { ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null },
        now,
      );
      // the audit log names who signed in and from where; never the password or the session id
      await recordEvent(trx, {
        at: now,
        type: 'auth.login',
        actor: { kind: 'user', id: user.id },
        requestId: request.id,
        data: { login: user.login, ip: request.ip ?? null },
      });
      return started;
    });
    reply.header('set-cookie', sessionCookie(session.sessionId, SESSION_MAX_AGE_MS / 1000));
    reply.header('cache-control', 'no-store');
    return { user: userView(user), csrfToken: session.csrfToken, expiresAt: iso(session.expiresAt) };
  });

  app.post('/api/v1/auth/logout', async (request, reply) => {
    // A cookie-authenticated logout passes the same CSRF checks as any unsafe request; without a session it is a no-op.
    if (request.authRefusal?.status === 403) requireScope(request, 'read');
    const sessionId = request.sessionId;
    const caller = request.caller;
    if (sessionId !== undefined) {
      const now = host.now();
      await host.db.transaction().execute(async (trx) => {
        await deleteSession(trx, keys, sessionId);
        if (caller)
          await recordEvent(trx, {
            at: now,
            type: 'auth.logout',
            actor: actorOf(caller),
            requestId: request.id,
            data: { login: caller.name },
          });
      });
    }
    reply.header('set-cookie', sessionCookie('', 0));
    return reply.code(204).send();
  });

  app.get('/api/v1/auth/me', async (request, reply) => {
    const caller = requireScope(request, 'read');
    reply.header('cache-control', 'no-store');
    const user = caller.kind === 'user' ? await findUserById(host.db, caller.id) : undefined;
    return {
      kind: caller.kind,
      name: caller.name,
      isAdmin: caller.isAdmin,
      scopes: sortedScopes(caller.scopes),
      grants: caller.grants.map((g) => ({ repositoryPattern: g.pattern, scopes: sortedScopes(g.scopes) })),
      ...(user ? { user: userView(user) } : {}),
      ...(request.sessionId !== undefined ? { csrfToken: csrfTokenFor(keys.csrfKey, request.sessionId) } : {}),
    };
  });

  app.post('/api/v1/users', async (request, reply) => {
    const caller = requireAdmin(request);
    const b = body(request);
    if (typeof b.login !== 'string' || !LOGIN_SHAPE.test(b.login)) {
      throw invalid('login', 'must be 1-100 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
    }
    if (b.password !== undefined) {
      const problem = passwordProblem(b.password);
      if (problem) throw invalid('password', problem);
    }
    for (const field of ['displayName', 'email'] as const) {
      const v = b[field];
      if (v !== undefined && (typeof v !== 'string' || v.length > 200))
        throw invalid(field, 'must be a string of at most 200 characters');
    }
    if (b.isAdmin !== undefined && typeof b.isAdmin !== 'boolean') throw invalid('isAdmin', 'must be true or false');
    const login = b.login;
    try {
      const now = host.now();
      const user = await host.db.transaction().execute(async (trx) => {
        const made = await insertUser(
          trx,
          {
            login,
            ...(typeof b.password === 'string' ? { password: b.password } : {}),
            ...(typeof b.displayName === 'string' ? { displayName: b.displayName } : {}),
            ...(typeof b.email === 'string' ? { email: b.email } : {}),
            isAdmin: b.isAdmin === true,
          },
          now,
        );
        await recordEvent(trx, {
          at: now,
          type: 'user.created',
          actor: actorOf(caller),
          requestId: request.id,
          data: { login: made.login, isAdmin: made.isAdmin, hasPassword: typeof b.password === 'string' },
        });
        return made;
      });
      return reply.code(201).send(userView(user));
    } catch (error) {
      if (isUniqueViolation(error)) throw new ProblemError(409, 'Conflict', `a user named ${b.login} already exists`);
      throw error;
    }
  });

  // The lists behind the dashboard's "Users and teams" settings (admin): keyset pages like every other list.
  app.get('/api/v1/users', async (request) => {
    requireAdmin(request);
    const page = pageRequest(queryOf(request), host);
    const hash = listHash('login', {});
    const cursor = decodeCursor(page, hash);
    const after = cursor ? { login: String(cursor.value), id: cursor.id } : undefined;
    const rows = await listUsers(host.db, page.limit + 1, after);
    const total = cappedTotal(await cappedCount(host.db, host.db.selectFrom('users').select('id')));
    return pageOf(rows, page, hash, (u) => ({ value: u.login, id: u.id }), userView, total);
  });

  app.get('/api/v1/teams', async (request) => {
    requireAdmin(request);
    const page = pageRequest(queryOf(request), host);
    const hash = listHash('name', {});
    const cursor = decodeCursor(page, hash);
    let q = host.db.selectFrom('teams').select(['id', 'name', 'created_at']);
    if (cursor) {
      const name = String(cursor.value);
      q = q.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', cursor.id)])]));
    }
    const rows = await q
      .orderBy('name')
      .orderBy('id')
      .limit(page.limit + 1)
      .execute();
    const teams = rows.slice(0, page.limit);
    const ids = teams.map((t) => t.id);
    const members =
      ids.length === 0
        ? []
        : await host.db
            .selectFrom('team_members')
            .innerJoin('users', 'users.id', 'team_members.user_id')
            .select(['team_members.team_id', 'users.login', 'team_members.role'])
            .where('team_members.team_id', 'in', ids)
            .orderBy('users.login')
            .execute();
    const grants =
      ids.length === 0
        ? []
        : await host.db
            .selectFrom('team_grants')
            .select(['team_id', 'repository_pattern'])
            .where('team_id', 'in', ids)
            .orderBy('repository_pattern')
            .execute();
    const total = cappedTotal(await cappedCount(host.db, host.db.selectFrom('teams').select('id')));
    return pageOf(
      rows,
      page,
      hash,
      (t) => ({ value: t.name, id: t.id }),
      (t) => ({
        name: t.name,
        createdAt: iso(t.created_at),
        members: members.filter((m) => m.team_id === t.id).map((m) => ({ login: m.login, role: m.role })),
        repositoryPatterns: grants.filter((g) => g.team_id === t.id).map((g) => g.repository_pattern),
      }),
      total,
    );
  });

  app.post('/api/v1/teams', async (request, reply) => {
    const caller = requireAdmin(request);
    const { name } = body(request);
    if (typeof name !== 'string' || !TEAM_SHAPE.test(name)) {
      throw invalid('name', 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    try {
      const now = host.now();
      const team = await host.db.transaction().execute(async (trx) => {
        const made = await insertTeam(trx, name, now);
        await recordEvent(trx, {
          at: now,
          type: 'team.created',
          actor: actorOf(caller),
          requestId: request.id,
          data: { team: made.name },
        });
        return made;
      });
      return reply.code(201).send({ name: team.name, createdAt: iso(team.createdAt) });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ProblemError(409, 'Conflict', `a team named ${name} already exists`);
      throw error;
    }
  });

  async function teamNamed(name: string) {
    const row = await host.db.selectFrom('teams').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
    if (!row) throw new ProblemError(404, 'Not Found', `no team named ${name}`);
    return row;
  }

  app.post<{ Params: { team: string } }>('/api/v1/teams/:team/grants', async (request, reply) => {
    const caller = requireAdmin(request);
    const team = await teamNamed(request.params.team);
    const { repositoryPattern } = body(request);
    if (typeof repositoryPattern !== 'string')
      throw invalid('repositoryPattern', 'a repository pattern such as ghcr.io/acme/* is required');
    const problem = repositoryPatternProblem(repositoryPattern);
    if (problem) throw invalid('repositoryPattern', problem);
    const pattern = repositoryPattern.toLowerCase();
    const now = host.now();
    await host.db.transaction().execute(async (trx) => {
      // a grant that already exists changes nothing, so it writes no event
      if (!(await insertGrant(trx, team.id, pattern, now))) return;
      await recordEvent(trx, {
        at: now,
        type: 'team.grant_added',
        actor: actorOf(caller),
        requestId: request.id,
        data: { team: team.name, repositoryPattern: pattern },
      });
    });
    return reply.code(201).send({ team: team.name, repositoryPattern: pattern });
  });

  app.post<{ Params: { team: string } }>('/api/v1/teams/:team/members', async (request, reply: FastifyReply) => {
    const caller = requireAdmin(request);
    const team = await teamNamed(request.params.team);
    const { login, role } = body(request);
    if (typeof login !== 'string') throw invalid('login', 'a login name is required');
    if (!isTeamRole(role)) throw invalid('role', 'must be viewer, triager or maintainer');
    const user = await findUserByLogin(host.db, login);
    if (!user) throw new ProblemError(404, 'Not Found', `no user named ${login}`);
    const now = host.now();
    await host.db.transaction().execute(async (trx) => {
      const previousRole = await upsertMember(trx, team.id, user.id, role, now);
      if (previousRole === role) return;
      await recordEvent(trx, {
        at: now,
        type: 'team.member_set',
        actor: actorOf(caller),
        requestId: request.id,
        data: { team: team.name, login: user.login, role, previousRole },
      });
    });
    return reply.code(201).send({ team: team.name, login: user.login, role });
  });
}
