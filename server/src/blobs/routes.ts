// POST /api/v1/system/blobs/gc (admin): queue a blob collection now (it also runs daily at 04:30 UTC).
import type { FastifyInstance } from 'fastify';
import { requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { enqueueRequested } from '../jobs/requested.js';
import { BLOBS_GC, BLOBS_GC_DEDUPE_KEY } from './jobs.js';

export function registerBlobRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/system/blobs/gc', async (request, reply) => {
    const caller = requireScope(request, 'admin');
    const job = await enqueueRequested(
      ctx.db,
      ctx.now(),
      { caller, requestId: request.id },
      {
        kind: BLOBS_GC,
        payload: {},
        dedupeKey: BLOBS_GC_DEDUPE_KEY,
        createdBy: `${caller.kind}:${caller.id}`,
      },
    );
    ctx.jobSignals.enqueued();
    return reply
      .code(202)
      .header('location', `/api/v1/jobs/${job.publicId}`)
      .send({ job: job.publicId, url: `/api/v1/jobs/${job.publicId}`, created: job.created });
  });
}
