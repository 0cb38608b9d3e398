// Liveness, readiness and the API description: the routes a load balancer, an orchestrator or a client generator
// call without credentials.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { ServerContext } from '../context.js';
import { pendingMigrations } from '../db/migrate.js';
import { ProblemError } from '../http/problem.js';

export const OPENAPI_PATH = new URL('../../openapi/lading.yaml', import.meta.url);

export function registerSystemRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // Liveness: the process answers. It touches nothing else, so a slow database never gets the process restarted.
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Readiness: the database answers and carries every migration this build knows.
  app.get('/readyz', async () => {
    try {
      await sql`select 1`.execute(ctx.db);
    } catch (error) {
      ctx.log.warn('readiness: database unreachable', { error: String(error) });
      throw new ProblemError(503, 'Service Unavailable', 'the database does not answer', {
        code: 'database_unavailable',
      });
    }
    const pending = await pendingMigrations(ctx.db, ctx.dialect);
    if (pending.length > 0) {
      throw new ProblemError(503, 'Service Unavailable', `the database lacks migrations ${pending.join(', ')}`, {
        code: 'migrations_pending',
      });
    }
    return { status: 'ok', checks: { database: 'ok', migrations: 'ok' } };
  });

  // The one OpenAPI document, as committed (read once: it is part of the build).
  let spec: string | undefined;
  app.get('/api/v1/openapi.yaml', async (_request, reply) => {
    spec ??= readFileSync(OPENAPI_PATH, 'utf8');
    return reply.type('application/yaml; charset=utf-8').send(spec);
  });
}
