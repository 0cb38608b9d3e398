// /api/v1/tokens: mint (the token is shown once), list (prefix only, never the secret) and revoke API tokens.
// Who may mint what: a signed-in user mints tokens for themselves (at most 90 days, at most their own grants); a
// team maintainer or an admin mints team tokens (at most 365 days, at most the team's grants, never admin); an admin
// token may mint for a named user or team. Other tokens cannot mint tokens, so a leaked CI token cannot extend itself.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { teamOwner } from '../auth/caller.js';
import { type AuthHost, type Caller, callerCoversPattern, requireScope } from '../auth/index.js';
import {
  type ApiTokenView,
  callerOfUser,
  findApiTokenView,
  findTeam,
  findUserById,
  findUserByLogin,
  insertApiToken,
  listApiTokens,
  membershipsOf,
  revokeApiToken,
  teamGrantPatterns,
} from '../auth/store.js';
import { validateTokenRequest } from '../auth/tokens.js';
import { actorOf, recordEvent } from '../events/record.js';
import { ProblemError } from '../http/problem.js';

const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 50;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

async function tokenView(host: AuthHost, t: ApiTokenView, now: number) {
  const team = t.ownerTeamId !== null ? await findTeam(host.db, t.ownerTeamId) : undefined;
  const user = t.ownerUserId !== null ? await findUserById(host.db, t.ownerUserId) : undefined;
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    scopes: t.scopes,
    repositoryPattern: t.repositoryPattern,
    owner: team ? { team: team.name } : { user: user?.login ?? null },
    state: t.revokedAt !== null ? 'revoked' : now >= t.expiresAt ? 'expired' : 'active',
    expiresAt: iso(t.expiresAt),
    createdAt: iso(t.createdAt),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
  };
}

/** Which tokens a caller may see and revoke: an admin all; a user their own and those of teams they maintain. */
type Visibility = { all: true } | { all: false; userId: number | null; teamIds: readonly number[] };

async function visibility(host: AuthHost, caller: Caller): Promise<Visibility> {
  if (caller.isAdmin) return { all: true };
  if (caller.kind !== 'user') return { all: false, userId: null, teamIds: [] };
  const memberships = await membershipsOf(host.db, caller.id);
  return {
    all: false,
    userId: caller.id,
    teamIds: memberships.filter((m) => m.role === 'maintainer').map((m) => m.teamId),
  };
}

function mayManage(v: Visibility, t: ApiTokenView): boolean {
  if (v.all) return true;
  return (
    (v.userId !== null && t.ownerUserId === v.userId) || (t.ownerTeamId !== null && v.teamIds.includes(t.ownerTeamId))
  );
}

function readPageToken(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const m = /^t(\d{1,15})$/.exec(text);
  if (!m)
    throw new ProblemError(400, 'Bad Request', 'page_token is not a token this server issued', { field: 'page_token' });
  return Number(m[1]);
}

export async function registerTokenRoutes(app: FastifyInstance, host: AuthHost): Promise<void> {
  app.post('/api/v1/tokens', async (request: FastifyRequest, reply) => {
    const caller = requireScope(request, 'read');
    if (caller.kind === 'token' && !caller.isAdmin) {
      throw new ProblemError(403, 'Forbidden', 'an API token cannot mint tokens; log in, or use an admin token');
    }
    const b = request.body;
    if (b === null || typeof b !== 'object' || Array.isArray(b))
      throw new ProblemError(400, 'Bad Request', 'the request body must be a JSON object');
    const input = b as Record<string, unknown>;
    const now = host.now();
    let owner: { ownerTeamId: number } | { ownerUserId: number };
    let ownerCaller: Caller;
    let ownerKind: 'team' | 'user';
    let ownerLabel: { team: string } | { user: string };
    if (input.team !== undefined) {
      if (typeof input.team !== 'string')
        throw new ProblemError(422, 'Unprocessable Content', 'team: must be a team name', { field: 'team' });
      const team = await host.db
        .selectFrom('teams')
        .select(['id', 'name'])
        .where('name', '=', input.team)
        .executeTakeFirst();
      const maintains =
        team !== undefined &&
        caller.kind === 'user' &&
        (await membershipsOf(host.db, caller.id)).some((m) => m.teamId === team.id && m.role === 'maintainer');
      // A team the caller does not maintain is "not found", like any object outside their reach.
      if (!team || !(caller.isAdmin || maintains))
        throw new ProblemError(404, 'Not Found', `no team named ${input.team}`);
      owner = { ownerTeamId: team.id };
      ownerCaller = teamOwner(team, await teamGrantPatterns(host.db, team.id));
      ownerKind = 'team';
      ownerLabel = { team: team.name };
    } else if (input.user !== undefined) {
      if (!caller.isAdmin) throw new ProblemError(403, 'Forbidden', 'only an admin mints tokens for another user');
      if (typeof input.user !== 'string')
        throw new ProblemError(422, 'Unprocessable Content', 'user: must be a login name', { field: 'user' });
      const user = await findUserByLogin(host.db, input.user);
      if (!user) throw new ProblemError(404, 'Not Found', `no user named ${input.user}`);
      owner = { ownerUserId: user.id };
      ownerCaller = await callerOfUser(host.db, user);
      ownerKind = 'user';
      ownerLabel = { user: user.login };
    } else {
      if (caller.kind !== 'user') {
        throw new ProblemError(
          422,
          'Unprocessable Content',
          'team or user: an admin token must name the owner of the new token',
          { field: 'team' },
        );
      }
      owner = { ownerUserId: caller.id };
      ownerCaller = caller;
      ownerKind = 'user';
      ownerLabel = { user: caller.name };
    }
    const checked = validateTokenRequest(
      {
        name: input.name,
        scopes: input.scopes,
        repositoryPattern: input.repositoryPattern,
        expiresAt: input.expiresAt,
      },
      ownerKind,
      now,
    );
    if (!checked.ok)
      throw new ProblemError(422, 'Unprocessable Content', `${checked.field}: ${checked.reason}`, {
        field: checked.field,
      });
    const v = checked.value;
    if (ownerKind === 'team' && v.scopes.includes('admin')) {
      throw new ProblemError(422, 'Unprocessable Content', 'scopes: a team token cannot hold the admin scope', {
        field: 'scopes',
      });
    }
    if (!callerCoversPattern(ownerCaller, v.repositoryPattern, v.scopes)) {
      throw new ProblemError(
        403,
        'Forbidden',
        `the token's owner does not hold ${v.scopes.join(', ')} on every repository matching ${v.repositoryPattern}`,
      );
    }
    const made = await host.db.transaction().execute(async (trx) => {
      const minted = await insertApiToken(
        trx,
        app.auth.keys,
        { ...v, ...owner, createdBy: caller.kind === 'user' ? caller.id : null },
        now,
      );
      // the token's public id and what it may do; the secret is shown once to the caller and never recorded
      await recordEvent(trx, {
        at: now,
        type: 'token.created',
        actor: actorOf(caller),
        requestId: request.id,
        data: {
          token: minted.publicId,
          name: v.name,
          owner: ownerLabel,
          scopes: v.scopes,
          repositoryPattern: v.repositoryPattern,
          expiresAt: new Date(v.expiresAt).toISOString(),
        },
      });
      return minted;
    });
    const view = await findApiTokenView(host.db, made.publicId);
    reply.header('cache-control', 'no-store');
    reply.header('location', `/api/v1/tokens/${made.publicId}`);
    return reply.code(201).send({ ...(await tokenView(host, view!, now)), token: made.token });
  });

  app.get<{ Querystring: { limit?: string; page_token?: string } }>('/api/v1/tokens', async (request) => {
    const caller = requireScope(request, 'read');
    const limit = request.query.limit === undefined ? DEFAULT_LIMIT : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new ProblemError(400, 'Bad Request', `limit must be an integer from 1 to ${MAX_LIMIT}`, { field: 'limit' });
    }
    const after = readPageToken(request.query.page_token);
    const now = host.now();
    const rows = await listApiTokens(host.db, await visibility(host, caller), { afterRowId: after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const items = [];
    for (const t of page) items.push(await tokenView(host, t, now));
    const last = page[page.length - 1];
    return {
      items,
      next_page_token: rows.length > limit && last ? `t${last.rowId}` : null,
      total: { count: items.length + (rows.length > limit ? 1 : 0), type: rows.length > limit ? 'AT_LEAST' : 'EXACT' },
    };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/tokens/:id', async (request, reply) => {
    const caller = requireScope(request, 'read');
    const token = /^[0-9A-Za-z]{10}$/.test(request.params.id)
      ? await findApiTokenView(host.db, request.params.id)
      : undefined;
    if (!token || !mayManage(await visibility(host, caller), token)) {
      throw new ProblemError(404, 'Not Found', `no token ${request.params.id}`);
    }
    const now = host.now();
    await host.db.transaction().execute(async (trx) => {
      // revoking a revoked token changes nothing and writes no event
      if (!(await revokeApiToken(trx, token.rowId, now))) return;
      await recordEvent(trx, {
        at: now,
        type: 'token.revoked',
        actor: actorOf(caller),
        requestId: request.id,
        data: { token: token.id, name: token.name },
      });
    });
    return reply.code(204).send();
  });
}
