// GET /api/v1/artifacts/{sha256}: a stored document's original bytes, byte-identical to what was uploaded (the
// provenance and signatures refer to those bytes), as an attachment that browsers never sniff or render.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { downloadableArtifact } from '../queries/reports.js';
import { badParameter, blobStoreOf, notFound, readScope } from './read-common.js';

export function registerArtifactRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { sha256: string } }>('/api/v1/artifacts/:sha256', async (request, reply) => {
    const scope = await readScope(request, ctx);
    const sha256 = request.params.sha256.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw badParameter('sha256', 'not a SHA-256 (64 lower-case hex digits)');
    const artifact = await downloadableArtifact(ctx.db, scope, sha256);
    if (!artifact) throw notFound(`artifact ${sha256}`);
    const body = await blobStoreOf(ctx).open(sha256);
    return reply
      .header('content-type', artifact.mediaType)
      .header('content-length', String(artifact.size))
      .header('content-disposition', `attachment; filename="${sha256}"`)
      .header('x-content-type-options', 'nosniff')
      .header('digest', `sha-256=${Buffer.from(sha256, 'hex').toString('base64')}`)
      .send(body);
  });
}
