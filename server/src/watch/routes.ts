// /api/v1/repositories/{id}/rebuild-target (admin): where a repository's rebuilds are asked for. The webhook URL and
// secret are write-only (sealed at rest); a dispatch target names its GitHub repository, which is shown.
// /api/v1/repositories/{id}/watch (admin): whether and how often the server polls the repository's registry tags
// (poll.ts); watching a registry repository the server has not stored yet creates it.

import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Caller, requireAdmin } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { recordEvent } from '../events/index.js';
import { ProblemError } from '../http/problem.js';
import { registryRules } from '../ingest/pull.js';
import { integrationKey, openSecret } from '../notify/index.js';
import { MAX_WATCH_INTERVAL_SECONDS, MIN_WATCH_INTERVAL_SECONDS, registryOf } from './poll.js';
import { type RebuildTarget, setRebuildTarget } from './rebuild.js';

function badRequest(detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', detail, { code: 'invalid_rebuild_target' });
}

async function repositoryOf(ctx: ServerContext, request: FastifyRequest): Promise<{ id: number; name: string }> {
  const raw = (request.params as { id: string }).id;
  const row =
    raw.length > 255
      ? undefined
      : await ctx.db
          .selectFrom('repositories')
          .select(['id', 'name'])
          .where((eb) => eb.or([eb('public_id', '=', raw), eb('name_lc', '=', raw.toLowerCase())]))
          .executeTakeFirst();
  if (!row) throw new ProblemError(404, 'Not Found', `no repository ${raw.slice(0, 255)}`);
  return row;
}

function parseTarget(body: unknown): RebuildTarget {
  if (typeof body !== 'object' || body === null) throw badRequest('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (b.kind === 'github-dispatch') {
    if (typeof b.repository !== 'string' || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(b.repository)) {
      throw badRequest('repository must be a GitHub owner/name');
    }
    return { kind: 'github-dispatch', repository: b.repository };
  }
  if (b.kind === 'webhook') {
    if (typeof b.url !== 'string' || !/^https?:\/\/[^\s@]+$/.test(b.url) || b.url.length > 2048) {
      throw badRequest('url must be an http(s) URL without credentials');
    }
    if (typeof b.secret !== 'string' || b.secret.length < 16 || b.secret.length > 256) {
      throw badRequest('secret must be a string of 16 to 256 characters');
    }
    return { kind: 'webhook', url: b.url, secret: b.secret };
  }
  throw badRequest('kind must be github-dispatch or webhook');
}

export function registerRebuildRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const view = async (repositoryId: number) => {
    const row = await ctx.db
      .selectFrom('rebuild_targets')
      .selectAll()
      .where('repository_id', '=', repositoryId)
      .executeTakeFirst();
    if (!row) return { configured: false, kind: null, target: null };
    const target = openSecret(integrationKey(ctx.secrets.key), 'rebuild_targets.target', row.target_enc);
    return {
      configured: true,
      kind: row.kind,
      target: row.kind === 'webhook' ? `${new URL(target).protocol}//${new URL(target).host}` : target,
    };
  };

  app.get('/api/v1/repositories/:id/rebuild-target', async (request) => {
    requireAdmin(request);
    return view((await repositoryOf(ctx, request)).id);
  });

  app.put('/api/v1/repositories/:id/rebuild-target', async (request) => {
    const caller = requireAdmin(request);
    const repository = await repositoryOf(ctx, request);
    const target = parseTarget(request.body);
    const now = ctx.now();
    // the change and its audit event in one transaction; the event names the kind and, for a dispatch, the GitHub
    // repository (shown by GET too), never the webhook URL's path or its secret (both write-only)
    await ctx.db.transaction().execute(async (trx) => {
      await setRebuildTarget(trx, ctx.secrets.key, repository.id, target, now);
      await recordEvent(trx, {
        at: now,
        type: 'rebuild_target.set',
        actor: actorOfCaller(caller),
        repositoryId: repository.id,
        requestId: request.id,
        data: {
          repository: repository.name,
          kind: target.kind,
          target:
            target.kind === 'webhook'
              ? `${new URL(target.url).protocol}//${new URL(target.url).host}`
              : target.repository,
        },
      });
    });
    return view(repository.id);
  });

  app.delete('/api/v1/repositories/:id/rebuild-target', async (request, reply) => {
    const caller = requireAdmin(request);
    const repository = await repositoryOf(ctx, request);
    await ctx.db.transaction().execute(async (trx) => {
      const removed = await trx
        .deleteFrom('rebuild_targets')
        .where('repository_id', '=', repository.id)
        .executeTakeFirst();
      // deleting a target that was not there changes nothing, so it writes nothing
      if (Number(removed.numDeletedRows) > 0) {
        await recordEvent(trx, {
          at: ctx.now(),
          type: 'rebuild_target.deleted',
          actor: actorOfCaller(caller),
          repositoryId: repository.id,
          requestId: request.id,
          data: { repository: repository.name },
        });
      }
    });
    return reply.code(204).send();
  });
}

function watchProblem(status: 400 | 404 | 422, detail: string): ProblemError {
  const title = status === 400 ? 'Bad Request' : status === 404 ? 'Not Found' : 'Unprocessable Content';
  return new ProblemError(status, title, detail, { code: 'invalid_watch' });
}

function parseInterval(body: unknown): number {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).intervalSeconds : null;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < MIN_WATCH_INTERVAL_SECONDS ||
    value > MAX_WATCH_INTERVAL_SECONDS
  ) {
    throw watchProblem(
      400,
      `intervalSeconds must be an integer from ${MIN_WATCH_INTERVAL_SECONDS} to ${MAX_WATCH_INTERVAL_SECONDS}`,
    );
  }
  return value;
}

/** The audit actor of an API caller (the system's own calls have no id). */
function actorOfCaller(caller: Caller): { kind: 'user' | 'token' | 'system'; id: number | null } {
  return { kind: caller.kind, id: caller.kind === 'system' ? null : caller.id };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export function registerWatchRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const view = async (repository: { id: number; name: string }) => {
    const watch = await ctx.db
      .selectFrom('repository_watches')
      .selectAll()
      .where('repository_id', '=', repository.id)
      .executeTakeFirst();
    const tags = await ctx.db
      .selectFrom('registry_tags')
      .select(['tag', 'digest', 'observed_at'])
      .where('repository_id', '=', repository.id)
      .orderBy('tag')
      .execute();
    const pulls = await ctx.db
      .selectFrom('registry_pulls')
      .leftJoin('jobs', 'jobs.id', 'registry_pulls.job_id')
      .select([
        'registry_pulls.digest',
        'registry_pulls.state',
        'registry_pulls.attempts',
        'registry_pulls.last_error',
        'registry_pulls.updated_at',
        'jobs.public_id',
      ])
      .where('registry_pulls.repository_id', '=', repository.id)
      .orderBy('registry_pulls.id', 'desc')
      .limit(100)
      .execute();
    return {
      repository: repository.name,
      watched: watch !== undefined,
      intervalSeconds: watch ? Number(watch.interval_seconds) : null,
      nextPollAt: iso(watch ? Number(watch.next_poll_at) : null),
      lastPolledAt: iso(watch?.last_polled_at ?? null),
      lastError: watch?.last_error ?? null,
      tags: tags.map((t) => ({ tag: t.tag, digest: t.digest, observedAt: iso(Number(t.observed_at)) })),
      pulls: pulls.map((p) => ({
        digest: p.digest,
        state: p.state,
        job: p.public_id ?? null,
        attempts: Number(p.attempts),
        lastError: p.last_error,
        updatedAt: iso(Number(p.updated_at)),
      })),
    };
  };

  app.get('/api/v1/repositories/:id/watch', async (request) => {
    requireAdmin(request);
    return view(await repositoryOf(ctx, request));
  });

  app.put('/api/v1/repositories/:id/watch', async (request) => {
    const caller = requireAdmin(request);
    const interval = parseInterval(request.body);
    const raw = (request.params as { id: string }).id;
    const allowlisted = async (name: string): Promise<void> => {
      const ref = registryOf(name);
      if (!ref) throw watchProblem(422, `${name} does not name a registry repository (host[:port]/path)`);
      if (!(await registryRules(ctx.db)).some((r) => r.host === ref.registry)) {
        throw watchProblem(422, `registry ${ref.registry} is not on this server's pull allowlist (ingest.registries)`);
      }
    };
    const repository = await repositoryOf(ctx, request).catch(async (error: unknown) => {
      // a registry repository not stored yet: watching it is how its first images arrive (created only once it is
      // known to be a watchable one, so a refused request leaves nothing behind)
      if (!(error instanceof ProblemError) || error.status !== 404 || raw.length > 255 || !registryOf(raw)) throw error;
      await allowlisted(raw);
      await ctx.db
        .insertInto('repositories')
        .values({
          // the same shape as the ingest's repository ids
          public_id: `repo_${randomBytes(10).toString('hex')}`,
          name: raw,
          name_lc: raw.toLowerCase(),
          team_id: null,
          source_repo: null,
          archived_at: null,
          purge_after: null,
          created_at: ctx.now(),
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      return repositoryOf(ctx, request);
    });
    await allowlisted(repository.name);
    const now = ctx.now();
    const existing = await ctx.db
      .selectFrom('repository_watches')
      .select('last_polled_at')
      .where('repository_id', '=', repository.id)
      .executeTakeFirst();
    // a new watch polls at the next tick; a changed interval counts from the last poll
    const lastPolled = existing?.last_polled_at ?? null;
    const nextPollAt = lastPolled === null ? now : Number(lastPolled) + interval * 1000;
    // the change and its audit event in one transaction (a setting change is an event like any other)
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('repository_watches')
        .values({
          repository_id: repository.id,
          interval_seconds: interval,
          next_poll_at: nextPollAt,
          last_polled_at: null,
          last_error: null,
          updated_at: now,
          created_at: now,
        })
        .onConflict((oc) =>
          oc
            .column('repository_id')
            .doUpdateSet({ interval_seconds: interval, next_poll_at: nextPollAt, updated_at: now }),
        )
        .execute();
      await recordEvent(trx, {
        at: now,
        type: existing ? 'watch.updated' : 'watch.created',
        actor: actorOfCaller(caller),
        repositoryId: repository.id,
        data: { repository: repository.name, intervalSeconds: interval },
      });
    });
    return view(repository);
  });

  app.delete('/api/v1/repositories/:id/watch', async (request, reply) => {
    const caller = requireAdmin(request);
    const repository = await repositoryOf(ctx, request);
    // the tag history and the stored images stay; only the polling and its bookkeeping go
    await ctx.db.transaction().execute(async (trx) => {
      const removed = await trx
        .deleteFrom('repository_watches')
        .where('repository_id', '=', repository.id)
        .executeTakeFirst();
      if (Number(removed.numDeletedRows) > 0) {
        await recordEvent(trx, {
          at: ctx.now(),
          type: 'watch.deleted',
          actor: actorOfCaller(caller),
          repositoryId: repository.id,
          data: { repository: repository.name },
        });
      }
      await trx.deleteFrom('registry_tags').where('repository_id', '=', repository.id).execute();
      await trx.deleteFrom('registry_pulls').where('repository_id', '=', repository.id).execute();
    });
    return reply.code(204).send();
  });
}
