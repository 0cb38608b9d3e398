// /api/v1/repositories/{id}/rebuild-target (admin): where a repository's rebuilds are asked for. The webhook URL and
// secret are write-only (sealed at rest); a dispatch target names its GitHub repository, which is shown.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireAdmin } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { ProblemError } from '../http/problem.js';
import { integrationKey, openSecret } from '../notify/index.js';
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
    requireAdmin(request);
    const repository = await repositoryOf(ctx, request);
    await setRebuildTarget(ctx.db, ctx.secrets.key, repository.id, parseTarget(request.body), ctx.now());
    return view(repository.id);
  });

  app.delete('/api/v1/repositories/:id/rebuild-target', async (request, reply) => {
    requireAdmin(request);
    const repository = await repositoryOf(ctx, request);
    await ctx.db.deleteFrom('rebuild_targets').where('repository_id', '=', repository.id).execute();
    return reply.code(204).send();
  });
}
