// GET /api/v1/packages?purl=&version= (scope read): the packages of a purl and the images that hold each.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { searchPackages } from '../queries/packages.js';
import { badParameter, pageRequest, queryOf, readScope, readTimed, stringParam } from './read-common.js';

export function registerPackageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/packages', async (request) => {
    const scope = await readScope(request, ctx);
    const query = queryOf(request);
    const purl = stringParam(query, 'purl', 1000);
    if (purl === undefined || !purl.startsWith('pkg:'))
      throw badParameter('purl', 'a package URL (pkg:type/…) is required');
    const version = stringParam(query, 'version', 200);
    return readTimed(ctx, (db) =>
      searchPackages(db, scope, { purl, ...(version !== undefined ? { version } : {}) }, pageRequest(query, ctx)),
    );
  });
}
