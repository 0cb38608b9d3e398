// What the read routes share: the caller's read scope, query parameters checked into plain values (a bad one is a
// 400 problem naming it), page requests, and the blob store that holds the stored documents.
import type { FastifyRequest } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { requireScope } from '../auth/index.js';
import type { BlobStore } from '../blobs/index.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { pageLimit } from '../http/pagination.js';
import { ProblemError } from '../http/problem.js';
import type { PageRequest } from '../queries/keyset.js';
import { type ReadScope, readScopeOf } from '../queries/scope.js';
import { type SeverityName, severityParam } from '../queries/text.js';

export type Query = Record<string, string | string[] | undefined>;

/** The read scope of the request's caller (401/403 without the read scope). */
export async function readScope(request: FastifyRequest, ctx: ServerContext): Promise<ReadScope> {
  const caller = requireScope(request, 'read');
  return readScopeOf(ctx.db, caller);
}

export function badParameter(name: string, detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', `${name}: ${detail}`, { code: 'bad_parameter', parameter: name });
}

export function queryOf(request: FastifyRequest): Query {
  return (request.query ?? {}) as Query;
}

/** A single-valued parameter (given twice is a 400), trimmed; undefined when absent or empty. */
export function stringParam(query: Query, name: string, maxLength = 200): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badParameter(name, 'given more than once');
  if (value === undefined || value.trim() === '') return undefined;
  if (value.length > maxLength) throw badParameter(name, `longer than ${maxLength} characters`);
  return value.trim();
}

export function boolParam(query: Query, name: string): boolean | undefined {
  const value = stringParam(query, name);
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw badParameter(name, `${JSON.stringify(value)} is not true or false`);
}

export function enumParam<T extends string>(query: Query, name: string, allowed: readonly T[]): T | undefined {
  const value = stringParam(query, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw badParameter(name, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function severityQuery(query: Query, name: string): SeverityName | undefined {
  const value = stringParam(query, name);
  if (value === undefined) return undefined;
  const severity = severityParam(value);
  if (!severity) throw badParameter(name, `${JSON.stringify(value)} is not critical, high, medium, low or unknown`);
  return severity;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** An image digest from a path or query value: `sha256:` and 64 lower-case hex digits. */
export function digestValue(name: string, value: string | undefined): string {
  if (value === undefined || !DIGEST.test(value)) throw badParameter(name, 'not an image digest (sha256:<64 hex>)');
  return value;
}

export function pageRequest(query: Query, ctx: Pick<ServerContext, 'secrets'>): PageRequest {
  const token = stringParam(query, 'page_token', 2048);
  return {
    limit: pageLimit(stringParam(query, 'limit')),
    tokenKey: ctx.secrets.pageTokenKey,
    ...(token !== undefined ? { pageToken: token } : {}),
  };
}

export function notFound(what: string): ProblemError {
  return new ProblemError(404, 'Not Found', `${what} not found`, { code: 'not_found' });
}

/** The blob store of the context (the one ingest writes to). */
export function blobStoreOf(ctx: ServerContext): BlobStore {
  return ctx.blobs;
}

/** A stored blob read whole, refusing one larger than `maxBytes` (reports are read to be parsed). */
export async function readBlob(blobs: BlobStore, sha256: string, maxBytes: number): Promise<Buffer> {
  const stream = await blobs.open(sha256);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new ProblemError(
        422,
        'Unprocessable Content',
        `stored document sha256:${sha256} is larger than ${maxBytes} bytes`,
        {
          code: 'document_too_large',
        },
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** How long one read statement may run on PostgreSQL before the request answers 503 (SERVER.md section 2). */
export const READ_STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Runs a read's queries on PostgreSQL in one transaction under `SET LOCAL statement_timeout`, so a query that runs
 * away answers 503 (a problem document) instead of holding a connection; on SQLite (one in-process connection,
 * no statement timeout) it runs them as they are.
 */
export async function readTimed<T>(
  ctx: Pick<ServerContext, 'db' | 'dialect'>,
  run: (db: Kysely<Database>) => Promise<T>,
  timeoutMs: number = READ_STATEMENT_TIMEOUT_MS,
): Promise<T> {
  if (ctx.dialect !== 'postgres') return run(ctx.db);
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      await sql`select set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx);
      return run(trx);
    });
  } catch (err) {
    // 57014: query_canceled (the statement timeout fired)
    if ((err as { code?: unknown }).code === '57014') {
      throw new ProblemError(503, 'Service Unavailable', `the query took longer than ${timeoutMs} ms`, {
        code: 'query_timeout',
      });
    }
    throw err;
  }
}
