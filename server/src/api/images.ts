// GET /api/v1/images and one image's detail, findings, packages, layers, evidence, events and artifacts (scope
// read). An image outside the caller's repositories answers 404, exactly like one that does not exist.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import {
  EVIDENCE_STATES,
  FINDING_STATUSES,
  fleetOverview,
  IMAGE_SORTS,
  imageDetail,
  imageEvidence,
  listFindings,
  listImageArtifacts,
  listImageEvents,
  listImages,
  listLayers,
  listPackages,
} from '../queries/images.js';
import {
  boolParam,
  digestValue,
  enumParam,
  notFound,
  pageRequest,
  queryOf,
  readScope,
  readTimed,
  severityQuery,
  stringParam,
} from './read-common.js';

type DigestParams = { Params: { digest: string } };

export function registerImageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/overview', async (request) => {
    const scope = await readScope(request, ctx);
    return readTimed(ctx, (db) => fleetOverview(db, scope, ctx.now()));
  });

  app.get('/api/v1/images', async (request) => {
    const scope = await readScope(request, ctx);
    const query = queryOf(request);
    const q = stringParam(query, 'q');
    const repository = stringParam(query, 'repository', 255);
    const current = boolParam(query, 'current');
    const minSeverity = severityQuery(query, 'minSeverity');
    const kev = boolParam(query, 'kev');
    const evidence = enumParam(query, 'evidence', EVIDENCE_STATES);
    return readTimed(ctx, (db) =>
      listImages(
        db,
        scope,
        {
          ...(q !== undefined ? { q } : {}),
          ...(repository !== undefined ? { repository } : {}),
          ...(current !== undefined ? { current } : {}),
          ...(minSeverity ? { minSeverity } : {}),
          ...(kev !== undefined ? { kev } : {}),
          ...(evidence ? { evidence } : {}),
        },
        { ...pageRequest(query, ctx), sort: enumParam(query, 'sort', IMAGE_SORTS) ?? '-ingestedAt' },
      ),
    );
  });

  app.get<DigestParams>('/api/v1/images/:digest', async (request) => {
    const scope = await readScope(request, ctx);
    const digest = digestValue('digest', request.params.digest);
    return (await readTimed(ctx, (db) => imageDetail(db, scope, digest))) ?? notFoundImage(digest);
  });

  app.get<DigestParams>('/api/v1/images/:digest/findings', async (request) => {
    const scope = await readScope(request, ctx);
    const digest = digestValue('digest', request.params.digest);
    const query = queryOf(request);
    const status = enumParam(query, 'status', FINDING_STATUSES);
    const severity = severityQuery(query, 'severity');
    const q = stringParam(query, 'q');
    const filters = {
      ...(status ? { status } : {}),
      ...(severity ? { severity } : {}),
      ...(q !== undefined ? { q } : {}),
    };
    return (
      (await readTimed(ctx, (db) => listFindings(db, scope, digest, filters, pageRequest(query, ctx)))) ??
      notFoundImage(digest)
    );
  });

  app.get<DigestParams>('/api/v1/images/:digest/packages', async (request) => {
    const scope = await readScope(request, ctx);
    const digest = digestValue('digest', request.params.digest);
    return (
      (await readTimed(ctx, (db) => listPackages(db, scope, digest, pageRequest(queryOf(request), ctx)))) ??
      notFoundImage(digest)
    );
  });

  app.get<DigestParams>('/api/v1/images/:digest/layers', async (request) => {
    const scope = await readScope(request, ctx);
    const digest = digestValue('digest', request.params.digest);
    return (await readTimed(ctx, (db) => listLayers(db, scope, digest))) ?? notFoundImage(digest);
  });

  app.get<DigestParams>('/api/v1/images/:digest/evidence', async (request) => {
    const scope = await readScope(request, ctx);
    const digest = digestValue('digest', request.params.digest);
    return (await readTimed(ctx, (db) => imageEvidence(db, scope, digest))) ?? notFoundImage(digest);
  });

  app.get<DigestParams>('/api/v1/images/:digest/events', async (request) => {
    const scope = await readScope(request, ctx);
    const digest = digestValue('digest', request.params.digest);
    return (
      (await readTimed(ctx, (db) => listImageEvents(db, scope, digest, pageRequest(queryOf(request), ctx)))) ??
      notFoundImage(digest)
    );
  });

  app.get<DigestParams>('/api/v1/images/:digest/artifacts', async (request) => {
    const scope = await readScope(request, ctx);
    const digest = digestValue('digest', request.params.digest);
    return (await readTimed(ctx, (db) => listImageArtifacts(db, scope, digest))) ?? notFoundImage(digest);
  });
}

function notFoundImage(digest: string): never {
  throw notFound(`image ${digest}`);
}
