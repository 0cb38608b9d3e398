// GET /api/v1/repositories/{id}/events (scope read): a repository's audit log, oldest first. (One image's log is
// /images/{digest}/events, in images.ts.)
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { listRepositoryEvents } from '../queries/repositories.js';
import { notFound, pageRequest, queryOf, readScope, readTimed } from './read-common.js';

export function registerEventRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { id: string } }>('/api/v1/repositories/:id/events', async (request) => {
    const scope = await readScope(request, ctx);
    const id = request.params.id;
    const page =
      id.length <= 255
        ? await readTimed(ctx, (db) => listRepositoryEvents(db, scope, id, pageRequest(queryOf(request), ctx)))
        : undefined;
    if (!page) throw notFound(`repository ${id.slice(0, 255)}`);
    return page;
  });
}
