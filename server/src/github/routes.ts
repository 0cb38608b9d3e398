// /api/v1/integrations/github (admin): the GitHub integration's base URL and token (write-only), and a manual sync
// of one repository's issues.
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { actorOf, recordEvent } from '../events/record.js';
import { ProblemError } from '../http/problem.js';
import { requestJob } from '../jobs/requested.js';
import { apiUrlOf, saveGithubSettings } from './settings.js';
import { GITHUB_SYNC, queueGithubSync } from './sync.js';

function badRequest(detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', detail, { code: 'invalid_integration' });
}

export function registerGithubRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/integrations/github', async (request) => {
    requireAdmin(request);
    const apiUrl = await apiUrlOf(ctx.db);
    return { configured: apiUrl !== null, apiUrl };
  });

  app.put('/api/v1/integrations/github', async (request) => {
    const caller = requireAdmin(request);
    const b = request.body as { apiUrl?: unknown; token?: unknown } | null;
    if (typeof b !== 'object' || b === null) throw badRequest('the body must be a JSON object');
    const apiUrl = b.apiUrl ?? 'https://api.github.com';
    if (typeof apiUrl !== 'string' || !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(apiUrl) || apiUrl.length > 500) {
      throw badRequest('apiUrl must be an http(s) URL (https://api.github.com, or https://<ghes>/api/v3)');
    }
    if (typeof b.token !== 'string' || b.token.length < 8 || b.token.length > 500) {
      throw badRequest('token must be a GitHub token (8 to 500 characters)');
    }
    const token = b.token;
    const now = ctx.now();
    await ctx.db.transaction().execute(async (trx) => {
      const previous = await apiUrlOf(trx);
      await saveGithubSettings(trx, ctx.secrets.key, { apiUrl: apiUrl.replace(/\/+$/, ''), token }, now);
      // a setting change is audited with the URL; the token is write-only and never recorded
      await recordEvent(trx, {
        at: now,
        type: 'integration.github_changed',
        actor: actorOf(caller),
        requestId: request.id,
        data: { apiUrl: apiUrl.replace(/\/+$/, ''), previousApiUrl: previous, tokenChanged: true },
      });
    });
    return { configured: true, apiUrl: apiUrl.replace(/\/+$/, '') };
  });

  app.post('/api/v1/integrations/github/sync/:repositoryId', async (request, reply) => {
    const caller = requireAdmin(request);
    const raw = (request.params as { repositoryId: string }).repositoryId;
    const repository = await ctx.db
      .selectFrom('repositories')
      .select('id')
      .where('public_id', '=', raw)
      .executeTakeFirst();
    if (!repository) throw new ProblemError(404, 'Not Found', `no repository ${raw.slice(0, 60)}`);
    const now = ctx.now();
    const queued = await requestJob(
      ctx.db,
      now,
      { caller, requestId: request.id, repositoryId: repository.id },
      GITHUB_SYNC,
      (trx) => queueGithubSync(trx, now, repository.id),
    );
    if (!queued) throw badRequest('the GitHub integration is not configured');
    ctx.jobSignals.enqueued();
    return reply.code(202).send({ queued: true });
  });
}
