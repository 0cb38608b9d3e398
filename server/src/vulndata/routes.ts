// POST /api/v1/system/vulndb/update (queue a data update now) and POST /api/v1/system/vulndb/import (a zip dump or
// OSV JSON records for installations without internet access, capped in size), both for administrators; each
// answers 202 with the job to follow at /api/v1/jobs/{id}.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { ProblemError } from '../http/problem.js';
import { enqueueRequested } from '../jobs/requested.js';
import {
  type ImportPayload,
  type UpdatePayload,
  uploadDirOf,
  VULNDB_DEDUPE_KEY,
  VULNDB_IMPORT,
  VULNDB_UPDATE,
} from './jobs.js';

/** The biggest upload accepted: the largest OSV ecosystem dump (Debian) zipped is well under this. */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;
const ECOSYSTEM = /^[A-Za-z][A-Za-z0-9 .:_-]{0,63}$/;

export function registerVulndataRoutes(app: FastifyInstance, ctx: ServerContext, maxImportBytes = MAX_IMPORT_BYTES) {
  app.post('/api/v1/system/vulndb/update', async (request, reply) => {
    const caller = requireScope(request, 'admin');
    const payload = updatePayload(request.body);
    const job = await enqueueRequested(
      ctx.db,
      ctx.now(),
      { caller, requestId: request.id },
      {
        kind: VULNDB_UPDATE,
        payload,
        dedupeKey: VULNDB_DEDUPE_KEY,
        createdBy: `${caller.kind}:${caller.id}`,
      },
    );
    ctx.jobSignals.enqueued();
    return reply
      .code(202)
      .header('location', `/api/v1/jobs/${job.publicId}`)
      .send({ job: job.publicId, url: `/api/v1/jobs/${job.publicId}`, created: job.created });
  });

  // the upload is streamed to a file (never held in memory); its own body parsers live in this plugin alone
  app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser(['application/zip', 'application/json'], (_request, payload, done) =>
      done(null, payload),
    );
    scoped.addContentTypeParser('*', (request, _payload, done) =>
      done(
        new ProblemError(
          415,
          'Unsupported Media Type',
          `send application/zip (an OSV dump) or application/json (OSV records), not ${String(request.headers['content-type']).slice(0, 100)}`,
          { code: 'unsupported_media_type' },
        ),
      ),
    );
    scoped.post('/api/v1/system/vulndb/import', { bodyLimit: maxImportBytes }, async (request, reply) => {
      const caller = requireScope(request, 'admin');
      const kind = /^application\/zip/i.test(request.headers['content-type'] ?? '') ? 'zip' : 'json';
      const file = await saveUpload(ctx, request, kind, maxImportBytes);
      const payload: ImportPayload = { file };
      const job = await enqueueRequested(
        ctx.db,
        ctx.now(),
        { caller, requestId: request.id },
        {
          kind: VULNDB_IMPORT,
          payload,
          createdBy: `${caller.kind}:${caller.id}`,
        },
      );
      ctx.jobSignals.enqueued();
      return reply
        .code(202)
        .header('location', `/api/v1/jobs/${job.publicId}`)
        .send({ job: job.publicId, url: `/api/v1/jobs/${job.publicId}`, created: job.created });
    });
  });
}

function updatePayload(body: unknown): UpdatePayload {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw bad('body', 'a JSON object');
  const { ecosystems, full, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw bad(unknown[0] ?? 'body', 'not a field of this request (ecosystems, full)');
  const out: UpdatePayload = {};
  if (ecosystems !== undefined) {
    if (
      !Array.isArray(ecosystems) ||
      ecosystems.length > 100 ||
      !ecosystems.every((e) => typeof e === 'string' && ECOSYSTEM.test(e))
    ) {
      throw bad('ecosystems', 'a list of OSV ecosystem names (Debian, npm, PyPI, …)');
    }
    out.ecosystems = ecosystems as string[];
  }
  if (full !== undefined) {
    if (typeof full !== 'boolean') throw bad('full', 'true or false');
    out.full = full;
  }
  return out;
}

async function saveUpload(
  ctx: ServerContext,
  request: FastifyRequest,
  kind: 'zip' | 'json',
  max: number,
): Promise<string> {
  const dir = uploadDirOf(ctx);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = `${randomBytes(16).toString('hex')}.${kind}`;
  const path = join(dir, name);
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, next) {
      size += chunk.length;
      if (size > max)
        next(
          new ProblemError(413, 'Content Too Large', `the upload is larger than ${max} bytes`, { code: 'too_large' }),
        );
      else next(null, chunk);
    },
  });
  try {
    await pipeline(request.body as NodeJS.ReadableStream, cap, createWriteStream(path, { mode: 0o600 }));
  } catch (error) {
    await rm(path, { force: true });
    if (error instanceof ProblemError) throw error;
    throw new ProblemError(400, 'Bad Request', 'the upload was cut short', { code: 'upload_incomplete' });
  }
  if (size === 0) {
    await rm(path, { force: true });
    throw bad('body', 'empty: send the dump or the records');
  }
  return name;
}

function bad(name: string, detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', `${name}: ${detail}`, { code: 'bad_parameter', parameter: name });
}
