// GET /api/v1/vulnerabilities/{id} (any alias: CVE, GHSA, DSA…) and /vulnerabilities/{id}/images?current= — "which
// of our images have CVE-X" (scope read; only images in the caller's repositories are counted or listed).
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { vulnerabilityDetail, vulnerabilityImages } from '../queries/vulnerabilities.js';
import { boolParam, notFound, pageRequest, queryOf, readScope, readTimed } from './read-common.js';

const VULN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{1,99}$/;

export function registerVulnerabilityRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { id: string } }>('/api/v1/vulnerabilities/:id', async (request) => {
    const scope = await readScope(request, ctx);
    const id = request.params.id;
    const detail = VULN_ID.test(id) ? await readTimed(ctx, (db) => vulnerabilityDetail(db, scope, id)) : undefined;
    if (!detail) throw notFound(`vulnerability ${id.slice(0, 100)}`);
    return detail;
  });

  app.get<{ Params: { id: string } }>('/api/v1/vulnerabilities/:id/images', async (request) => {
    const scope = await readScope(request, ctx);
    const query = queryOf(request);
    const id = request.params.id;
    const current = boolParam(query, 'current');
    const page = VULN_ID.test(id)
      ? await readTimed(ctx, (db) =>
          vulnerabilityImages(db, scope, id, current !== undefined ? { current } : {}, pageRequest(query, ctx)),
        )
      : undefined;
    if (!page) throw notFound(`vulnerability ${id.slice(0, 100)}`);
    return page;
  });
}
