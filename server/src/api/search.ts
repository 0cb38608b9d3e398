// GET /api/v1/search?q= (scope read): the first ten vulnerabilities, images, repositories and packages that match.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { search } from '../queries/packages.js';
import { badParameter, queryOf, readScope, readTimed, stringParam } from './read-common.js';

export function registerSearchRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/search', async (request) => {
    const scope = await readScope(request, ctx);
    const q = stringParam(queryOf(request), 'q', 200);
    if (q === undefined || q.length < 2) throw badParameter('q', 'at least 2 characters to search for');
    return readTimed(ctx, (db) => search(db, scope, q));
  });
}
