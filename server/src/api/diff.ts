// GET /api/v1/diff?from=sha256:…|previous&to=sha256:… (scope read): the engine's own diff and renderer (`lading diff
// FROM TO -o json`) over the server's findings of the two images (queries/diff-input.ts: as matched by the server,
// after re-analysis and exceptions), not the reports CI pushed; byte-identical to the CLI's when the findings agree.
// The built reports and the answer are cached under hashes of the rows they are made of (queries/report-cache.ts).

import type { Report } from '@lading/engine/model';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { ProblemError } from '../http/problem.js';
import { diffJson } from '../queries/compare.js';
import { type JudgedReport, NoServerReportError, serverReport } from '../queries/diff-input.js';
import { reportCachesOf } from '../queries/report-cache.js';
import { previousImageOf, visibleImageId } from '../queries/reports.js';
import type { ReadScope } from '../queries/scope.js';
import { blobStoreOf, digestValue, notFound, queryOf, readBlob, readScope, stringParam } from './read-common.js';

/** The largest stored report read back (the CLI's own limit for a report it reads). */
export const MAX_STORED_REPORT_BYTES = 128 * 1024 * 1024;

export function registerDiffRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/diff', async (request, reply) => {
    const scope = await readScope(request, ctx);
    const query = queryOf(request);
    const to = digestValue('to', stringParam(query, 'to'));
    const fromParam = stringParam(query, 'from') ?? 'previous';
    const newer = await imageOrNotFound(ctx, scope, to);
    const older =
      fromParam === 'previous'
        ? await previousOrProblem(ctx, scope, newer, to)
        : await imageOrNotFound(ctx, scope, digestValue('from', fromParam));
    const [before, after] = await Promise.all([storedReport(ctx, older), storedReport(ctx, newer)]);
    return reply.type('application/json; charset=utf-8').send(diffAnswer(ctx, before, after));
  });
}

export async function imageOrNotFound(ctx: ServerContext, scope: ReadScope, digest: string) {
  const id = await visibleImageId(ctx.db, scope, digest);
  if (id === undefined) throw notFound(`image ${digest}`);
  return { id, digest };
}

/** The image before `image` on its repository track, or a 422 saying there is none. */
export async function previousOrProblem(
  ctx: ServerContext,
  scope: ReadScope,
  image: { id: number },
  digest: string,
): Promise<{ id: number; digest: string }> {
  const previous = await previousImageOf(ctx.db, scope, image.id);
  if (!previous) {
    throw new ProblemError(
      422,
      'Unprocessable Content',
      `image ${digest} has no earlier image on its repository track`,
      {
        code: 'no_previous_image',
      },
    );
  }
  return previous;
}

/**
 * The engine's diff of two judged reports as the bytes `lading diff -o json` writes, cached under both reports'
 * fingerprints (queries/report-cache.ts): a pure function of the two reports, so an equal pair of fingerprints
 * is an equal answer.
 */
function diffAnswer(ctx: ServerContext, before: JudgedReport, after: JudgedReport): Buffer {
  const diffs = reportCachesOf<Report>(ctx.db).diffs;
  const key = `${before.fingerprint}:${after.fingerprint}`;
  const cached = diffs.get(key);
  if (cached) return cached;
  const bytes = Buffer.from(diffJson(before.report, after.report), 'utf8');
  diffs.set(key, bytes, bytes.byteLength);
  return bytes;
}

/** The report the server judges for the image (its inventory with the server's findings); 422 when it has none. */
export async function storedReport(ctx: ServerContext, image: { id: number; digest: string }): Promise<JudgedReport> {
  try {
    return await serverReport(
      ctx.db,
      ctx.dialect,
      (sha256) => readBlob(blobStoreOf(ctx), sha256, MAX_STORED_REPORT_BYTES),
      image,
    );
  } catch (err) {
    if (err instanceof NoServerReportError) {
      throw new ProblemError(422, 'Unprocessable Content', err.message, { code: err.code });
    }
    throw err;
  }
}
