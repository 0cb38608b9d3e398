// GET /api/v1/repositories and /api/v1/repositories/{id} (scope read): tag history and the current digest per track.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { listRepositories, repositoryDetail } from '../queries/repositories.js';
import { notFound, pageRequest, queryOf, readScope, readTimed, stringParam } from './read-common.js';

export function registerRepositoryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/repositories', async (request) => {
    const scope = await readScope(request, ctx);
    const query = queryOf(request);
    const name = stringParam(query, 'name', 255);
    return readTimed(ctx, (db) =>
      listRepositories(db, scope, name !== undefined ? { name } : {}, pageRequest(query, ctx)),
    );
  });

  app.get<{ Params: { id: string } }>('/api/v1/repositories/:id', async (request) => {
    const scope = await readScope(request, ctx);
    const id = request.params.id;
    const detail = id.length <= 255 ? await readTimed(ctx, (db) => repositoryDetail(db, scope, id)) : undefined;
    if (!detail) throw notFound(`repository ${id.slice(0, 255)}`);
    return detail;
  });
}
