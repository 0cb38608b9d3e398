// GET /api/v1/events (the SIEM pull: NDJSON, Lading or OCSF, resumable from an event id) and the audit exports of one
// repository or one image (JSON or CSV), all with the read scope and only about repositories the caller may read.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { ProblemError } from '../http/problem.js';
import { findImage } from '../queries/images.js';
import { readScopeOf, scopeHolds } from '../queries/scope.js';
import { csvHeader, csvRecord, EVENT_FORMATS, type EventRow, ladingEvent, ocsfEvent } from './format.js';
import { type EventQuery, readEvents, SETTLE_MS } from './stream.js';

export const DEFAULT_EVENT_LIMIT = 1_000;
export const MAX_EVENT_LIMIT = 100_000;
const MAX_TYPES = 20;
const TYPE_PATTERN = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*\.?$/;
const AUDIT_FORMATS = ['json', 'csv'] as const;

type Query = Record<string, string | string[] | undefined>;

export function registerEventRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/events', async (request, reply) => {
    const caller = requireScope(request, 'read');
    const query = (request.query ?? {}) as Query;
    const after = wholeNumber(query, 'after', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const limit = wholeNumber(query, 'limit', 1, MAX_EVENT_LIMIT) ?? DEFAULT_EVENT_LIMIT;
    const format = oneOf(query, 'format', EVENT_FORMATS) ?? 'lading';
    const types = typeList(query);
    const scope = await readScopeOf(ctx.db, caller);
    const events = readEvents(ctx.db, {
      after,
      limit,
      ...(types.length > 0 ? { types } : {}),
      repositoryIds: scope.all ? 'all' : scope.repositoryIds,
      unscoped: caller.isAdmin,
      ...settled(ctx),
    });
    const line: (row: EventRow) => unknown = format === 'ocsf' ? ocsfEvent : ladingEvent;
    return send(
      reply,
      'application/x-ndjson',
      lines(events, (row) => `${JSON.stringify(line(row))}\n`),
    );
  });

  app.get<{ Params: { id: string } }>('/api/v1/repositories/:id/audit', async (request, reply) => {
    const caller = requireScope(request, 'read');
    const scope = await readScopeOf(ctx.db, caller);
    const id = request.params.id;
    const format = oneOf((request.query ?? {}) as Query, 'format', AUDIT_FORMATS) ?? 'json';
    const repository =
      id.length <= 255
        ? await ctx.db
            .selectFrom('repositories')
            .select(['id', 'public_id', 'name'])
            .where((eb) => eb.or([eb('public_id', '=', id), eb('name_lc', '=', id.toLowerCase())]))
            .executeTakeFirst()
        : undefined;
    if (!repository || !scopeHolds(scope, repository.id)) throw notFound(`repository ${id.slice(0, 255)}`);
    const subject = { repository: repository.name };
    const query: EventQuery = {
      after: 0,
      limit: Number.MAX_SAFE_INTEGER,
      repositoryId: repository.id,
      repositoryIds: 'all',
      unscoped: false,
    };
    return audit(reply, ctx, format, subject, query, `audit-${repository.public_id}`);
  });

  app.get<{ Params: { digest: string } }>('/api/v1/images/:digest/audit', async (request, reply) => {
    const caller = requireScope(request, 'read');
    const scope = await readScopeOf(ctx.db, caller);
    const digest = request.params.digest;
    const format = oneOf((request.query ?? {}) as Query, 'format', AUDIT_FORMATS) ?? 'json';
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw new ProblemError(400, 'Bad Request', 'digest: expected sha256:<64 lowercase hex digits>', {
        code: 'bad_parameter',
        parameter: 'digest',
      });
    }
    const image = await findImage(ctx.db, scope, digest);
    if (!image) throw notFound(`image ${digest}`);
    const query: EventQuery = {
      after: 0,
      limit: Number.MAX_SAFE_INTEGER,
      imageId: Number(image.id),
      // the image's events about repositories the caller may read (an image may sit in several)
      repositoryIds: scope.all ? 'all' : scope.repositoryIds,
      unscoped: caller.isAdmin,
    };
    return audit(reply, ctx, format, { image: digest }, query, `audit-${digest.slice(7, 19)}`);
  });
}

function audit(
  reply: FastifyReply,
  ctx: ServerContext,
  format: (typeof AUDIT_FORMATS)[number],
  subject: Record<string, string>,
  query: EventQuery,
  filename: string,
): FastifyReply {
  reply.header('content-disposition', `attachment; filename="${filename}.${format}"`);
  const events = readEvents(ctx.db, query);
  if (format === 'csv')
    return send(reply, 'text/csv; charset=utf-8', withHeader(csvHeader(), lines(events, csvRecord)));
  // one JSON document, streamed: {"<subject>": …, "events": [ … ]}
  const head = `${JSON.stringify(subject).slice(0, -1)},"events":[`;
  let first = true;
  const body = lines(events, (row) => {
    const text = `${first ? '' : ','}${JSON.stringify(ladingEvent(row))}`;
    first = false;
    return text;
  });
  return send(reply, 'application/json', withHeader(head, body, ']}\n'));
}

function send(reply: FastifyReply, contentType: string, body: AsyncIterable<string>): FastifyReply {
  reply.type(contentType);
  reply.header('cache-control', 'no-store');
  return reply.send(Readable.from(body));
}

async function* lines(rows: AsyncIterable<EventRow>, text: (row: EventRow) => string): AsyncGenerator<string> {
  // several rows per chunk written: one write per row is slow over 100,000 rows
  let buffer = '';
  for await (const row of rows) {
    buffer += text(row);
    if (buffer.length >= 64 * 1024) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

async function* withHeader(head: string, body: AsyncIterable<string>, tail = ''): AsyncGenerator<string> {
  yield head;
  yield* body;
  if (tail) yield tail;
}

/** On PostgreSQL, ids are taken before commit: leave the newest events until any commit below them has landed. */
function settled(ctx: ServerContext): { until?: number } {
  return ctx.dialect === 'postgres' ? { until: ctx.now() - SETTLE_MS } : {};
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw bad(name, 'give it once');
  return value === undefined || value === '' ? undefined : value;
}

function wholeNumber(query: Query, name: string, min: number, max: number): number | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(name, `a whole number from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(query: Query, name: string, allowed: readonly T[]): T | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw bad(name, `one of ${allowed.join(', ')}`);
  return value as T;
}

/** `types=a.b,c.` — exact type names, or prefixes ending with a dot. */
function typeList(query: Query): string[] {
  const value = single(query, 'types');
  if (value === undefined) return [];
  const types = value.split(',').map((t) => t.trim());
  if (types.length > MAX_TYPES) throw bad('types', `at most ${MAX_TYPES} names`);
  for (const t of types) {
    if (t.length > 64 || !TYPE_PATTERN.test(t))
      throw bad('types', 'event type names (a.b) or prefixes (a.), comma-separated');
  }
  return types;
}

function bad(name: string, detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', `${name}: ${detail}`, { code: 'bad_parameter', parameter: name });
}

function notFound(what: string): ProblemError {
  return new ProblemError(404, 'Not Found', `${what} not found`, { code: 'not_found' });
}
