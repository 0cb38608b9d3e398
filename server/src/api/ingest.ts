// Ingest (SERVER.md section 2): POST /api/v1/ingest takes a pushed multipart bundle; POST /api/v1/ingest/pull asks
// the server to read the evidence from the registry itself. Both answer 202 only after ONE transaction committed
// the artifacts rows and the ingest job, and 200 with the same job for a replay.
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { callerMayAccess, requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { ProblemError } from '../http/problem.js';
import { acceptBundle, type IngestAnswer } from '../ingest/accept.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../ingest/limits.js';
import { validateMetadata } from '../ingest/metadata.js';
import { receiveBundle } from '../ingest/multipart.js';
import { parseCollect, parsePullReference, pullEvidence, registryRules } from '../ingest/pull.js';
import { IngestRefusal } from '../ingest/refusal.js';
import { blobStoreOf } from '../ingest/store.js';
import { jobCreator } from './jobs.js';

export interface IngestRouteOptions {
  /** The bundle limits; tests lower them. */
  readonly limits?: IngestLimits;
}

/** The ingest routes with the default limits (the entry in app.ts's ROUTE_MODULES). */
export function registerIngestRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  return ingestRoutes()(app, ctx);
}

/** The ingest routes with chosen limits (tests register this in place of registerIngestRoutes). */
export function ingestRoutes(options: IngestRouteOptions = {}) {
  const limits = options.limits ?? DEFAULT_INGEST_LIMITS;
  return async (app: FastifyInstance, ctx: ServerContext): Promise<void> => {
    const blobs = blobStoreOf(ctx);
    // @fastify/multipart in its own encapsulated scope: only the push route parses multipart bodies.
    await app.register(async (scope) => {
      await scope.register(multipart);
      scope.post('/api/v1/ingest', async (request, reply) => {
        const caller = requireScope(request, 'ingest');
        let bundle: Awaited<ReturnType<typeof receiveBundle>>;
        try {
          bundle = await receiveBundle(request, blobs, limits, (metadata) => {
            if (!callerMayAccess(caller, metadata.repository)) {
              throw new ProblemError(
                403,
                'Forbidden',
                `this token may not ingest into ${metadata.repository} (outside its repository pattern)`,
                { code: 'repository_forbidden', part: 'metadata' },
              );
            }
          });
        } catch (err) {
          throw err instanceof IngestRefusal ? problemOf(err) : err;
        }
        const answer = await acceptBundle(ctx.db, { ...bundle, now: ctx.now(), createdBy: jobCreator(caller) });
        return sendAnswer(ctx, reply, answer);
      });
    });

    app.post<{ Body: unknown }>('/api/v1/ingest/pull', async (request, reply) => {
      const caller = requireScope(request, 'ingest');
      const body = (request.body ?? {}) as Record<string, unknown>;
      try {
        const ref = parsePullReference(body['image']);
        const repository = `${ref.registry}/${ref.repository}`;
        if (!callerMayAccess(caller, repository)) {
          throw new ProblemError(
            403,
            'Forbidden',
            `this token may not ingest into ${repository} (outside its repository pattern)`,
            {
              code: 'repository_forbidden',
            },
          );
        }
        const metadata = validateMetadata({
          repository,
          digest: ref.digest,
          ...(body['tags'] !== undefined ? { tags: body['tags'] } : {}),
          ...(body['ci'] !== undefined ? { ci: body['ci'] } : {}),
        });
        const collect = parseCollect(body['collect']);
        const parts = await pullEvidence(
          {
            metadata,
            registry: ref.registry,
            repository: ref.repository,
            rules: await registryRules(ctx.db),
            collect,
          },
          blobs,
          limits,
        );
        const answer = await acceptBundle(ctx.db, {
          metadata,
          parts,
          now: ctx.now(),
          createdBy: jobCreator(caller),
          source: 'pull',
        });
        return sendAnswer(ctx, reply, answer);
      } catch (err) {
        throw err instanceof IngestRefusal ? problemOf(err) : err;
      }
    });
  };
}

function sendAnswer(
  ctx: ServerContext,
  reply: import('fastify').FastifyReply,
  answer: IngestAnswer,
): import('fastify').FastifyReply {
  if (answer.status === 202) {
    // the transaction committed: wake this process's runner now rather than at its next poll
    ctx.jobSignals.enqueued();
    reply.header('location', answer.body.job.url);
  }
  return reply.code(answer.status).send(answer.body);
}

export function problemOf(refusal: IngestRefusal): ProblemError {
  return new ProblemError(refusal.status, refusal.title, refusal.detail, {
    code: codeOf(refusal.status),
    ...(refusal.part ? { part: refusal.part } : {}),
  });
}

function codeOf(status: IngestRefusal['status']): string {
  switch (status) {
    case 400:
      return 'malformed_bundle';
    case 403:
      return 'pull_forbidden';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'invalid_part';
  }
}
