// GET /api/v1/system/vulndb: how fresh the vulnerability data is (vulndata/freshness.ts), for anyone who reads
// findings (read scope, administrators): a finding is only as current as the advisories it was matched against.
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { vulndbFreshness } from '../vulndata/freshness.js';
import { vulndbDirOf } from '../vulndata/jobs.js';

export function registerVulndbStatusRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/system/vulndb', async (request) => {
    requireScope(request, 'read');
    return vulndbFreshness(ctx, vulndbDirOf(ctx));
  });
}
