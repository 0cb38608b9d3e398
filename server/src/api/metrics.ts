// Fleet metrics, trends, fix tracing and weekly summaries (scope read; POST /summaries/weekly is admin):
// GET /metrics, /trends, /fixes, /fixes.jsonl, /summaries/weekly[/latest|/{yyyy-Www}], POST /summaries/weekly.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { enqueueRequested } from '../jobs/requested.js';
import { computeMetrics, DAY_MS } from '../metrics/compute.js';
import { trendPoints } from '../metrics/daily.js';
import { allFixes, type FixFilters, listFixes } from '../metrics/fixes.js';
import { SUMMARY_WEEKLY } from '../metrics/jobs.js';
import { type MetricsScope, resolveScope, ScopeNotFound, ScopeUnreadable } from '../metrics/scope.js';
import { isoWeekName, weekOfName } from '../metrics/weekly.js';
import { type ReadScope, readScopeOf } from '../queries/scope.js';
import {
  badParameter,
  enumParam,
  notFound,
  pageRequest,
  type Query,
  queryOf,
  readScope,
  stringParam,
} from './read-common.js';

const MAX_WINDOW_DAYS = 3660;

async function scopeParam(ctx: ServerContext, query: Query, scope: ReadScope, whole: boolean): Promise<MetricsScope> {
  try {
    return await resolveScope(ctx.db, stringParam(query, 'scope') ?? 'fleet', scope, whole);
  } catch (err) {
    if (err instanceof ScopeUnreadable) throw badParameter('scope', err.message);
    if (err instanceof ScopeNotFound) throw notFound('scope');
    throw err;
  }
}

/** A time parameter: `YYYY-MM-DD` (UTC midnight) or an RFC 3339 time. */
function timeParam(query: Query, name: string): number | undefined {
  const value = stringParam(query, name, 40);
  if (value === undefined) return undefined;
  const ms = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)
    ? Date.parse(`${value}T00:00:00Z`)
    : /^[0-9]{4}-[0-9]{2}-[0-9]{2}T/.test(value)
      ? Date.parse(value)
      : Number.NaN;
  if (!Number.isFinite(ms)) throw badParameter(name, 'a date (YYYY-MM-DD) or an RFC 3339 time');
  return ms;
}

function windowParam(query: Query): number {
  const value = stringParam(query, 'window', 10) ?? '90d';
  const m = /^([0-9]{1,4})d$/.exec(value);
  const days = m ? Number(m[1]) : 0;
  if (days < 1 || days > MAX_WINDOW_DAYS) throw badParameter('window', `a number of days, 1d to ${MAX_WINDOW_DAYS}d`);
  return days * DAY_MS;
}

async function fixFilters(ctx: ServerContext, query: Query, scope: ReadScope): Promise<FixFilters> {
  const repository = stringParam(query, 'repository', 500);
  let repositoryIds: number[];
  if (repository !== undefined) {
    const row = await ctx.db
      .selectFrom('repositories')
      .select('id')
      .where((eb) => eb.or([eb('name', '=', repository), eb('public_id', '=', repository)]))
      .executeTakeFirst();
    if (!row || !(scope.all || scope.repositoryIds.includes(row.id))) throw notFound('repository');
    repositoryIds = [row.id];
  } else if (scope.all) {
    repositoryIds = (await ctx.db.selectFrom('repositories').select('id').execute()).map((r) => r.id);
  } else {
    repositoryIds = [...scope.repositoryIds];
  }
  const filters: FixFilters = { repositoryIds };
  const vulnerability = stringParam(query, 'vulnerability', 200);
  if (vulnerability !== undefined) {
    const row = await ctx.db
      .selectFrom('vuln_aliases')
      .select('vulnerability_id')
      .where('alias', '=', vulnerability)
      .executeTakeFirst();
    const byId =
      row ??
      (await ctx.db
        .selectFrom('vulnerabilities')
        .select('id as vulnerability_id')
        .where('vuln_id', '=', vulnerability)
        .executeTakeFirst());
    // an unknown vulnerability has no fixes: an empty list, not an error
    filters.vulnerabilityId = byId?.vulnerability_id ?? -1;
  }
  const from = timeParam(query, 'from');
  const to = timeParam(query, 'to');
  if (from !== undefined) filters.from = from;
  if (to !== undefined) filters.to = to;
  return filters;
}

/** The corpus streamed line by line (read in batches), so a large export never sits whole in memory. */
async function sendFixesJsonLines(ctx: ServerContext, filters: FixFilters, reply: FastifyReply): Promise<FastifyReply> {
  async function* lines(): AsyncGenerator<string> {
    for await (const fix of allFixes(ctx.db, filters, ctx.blobs)) yield `${JSON.stringify(fix)}\n`;
  }
  return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines()));
}

async function summaryRow(ctx: ServerContext, scope: MetricsScope, periodStart: number | undefined) {
  let q = ctx.db
    .selectFrom('summaries')
    .select(['document', 'sha256', 'period_start'])
    .where('kind', '=', 'weekly')
    .where('scope', '=', scope.key);
  if (periodStart !== undefined) q = q.where('period_start', '=', periodStart);
  return q.orderBy('period_start', 'desc').executeTakeFirst();
}

function sendSummary(reply: FastifyReply, row: { document: string; sha256: string } | undefined): FastifyReply {
  if (!row) throw notFound('summary');
  return reply.header('etag', `"${row.sha256}"`).type('application/json; charset=utf-8').send(row.document);
}

export function registerMetricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/v1/metrics', async (request) => {
    const query = queryOf(request);
    const scope = await scopeParam(ctx, query, await readScope(request, ctx), false);
    const to = ctx.now();
    const metrics = await computeMetrics(ctx.db, scope.repositoryIds, { from: to - windowParam(query), to });
    return { scope: scope.key, ...metrics };
  });

  app.get('/api/v1/trends', async (request) => {
    const query = queryOf(request);
    const scope = await scopeParam(ctx, query, await readScope(request, ctx), true);
    const interval = enumParam(query, 'interval', ['day', 'week'] as const) ?? 'day';
    const to = timeParam(query, 'to') ?? ctx.now();
    const from = timeParam(query, 'from') ?? to - 90 * DAY_MS;
    if (from > to) throw badParameter('from', 'after to');
    if (to - from > MAX_WINDOW_DAYS * DAY_MS) throw badParameter('from', `more than ${MAX_WINDOW_DAYS} days before to`);
    return { scope: scope.key, interval, points: await trendPoints(ctx.db, scope.key, from, to, interval) };
  });

  app.get('/api/v1/fixes', async (request, reply) => {
    const query = queryOf(request);
    const filters = await fixFilters(ctx, query, await readScope(request, ctx));
    const format = enumParam(query, 'format', ['json', 'jsonl'] as const) ?? 'json';
    if (format === 'jsonl') return sendFixesJsonLines(ctx, filters, reply);
    return listFixes(ctx.db, filters, pageRequest(query, ctx), ctx.blobs);
  });

  app.get('/api/v1/fixes.jsonl', async (request, reply) => {
    const query = queryOf(request);
    return sendFixesJsonLines(ctx, await fixFilters(ctx, query, await readScope(request, ctx)), reply);
  });

  app.get('/api/v1/summaries/weekly', async (request) => {
    const query = queryOf(request);
    const scope = await scopeParam(ctx, query, await readScope(request, ctx), true);
    const rows = await ctx.db
      .selectFrom('summaries')
      .select(['period_start', 'sha256', 'generated_at'])
      .where('kind', '=', 'weekly')
      .where('scope', '=', scope.key)
      .orderBy('period_start', 'desc')
      .limit(520)
      .execute();
    return {
      scope: scope.key,
      items: rows.map((r) => {
        const week = isoWeekName(Number(r.period_start));
        return {
          week,
          periodStart: new Date(Number(r.period_start)).toISOString(),
          generatedAt: new Date(Number(r.generated_at)).toISOString(),
          sha256: r.sha256,
          url: `/api/v1/summaries/weekly/${week}?scope=${encodeURIComponent(scope.key)}`,
        };
      }),
    };
  });

  app.get('/api/v1/summaries/weekly/latest', async (request, reply) => {
    const query = queryOf(request);
    const scope = await scopeParam(ctx, query, await readScope(request, ctx), true);
    return sendSummary(reply, await summaryRow(ctx, scope, undefined));
  });

  app.get<{ Params: { week: string } }>('/api/v1/summaries/weekly/:week', async (request, reply) => {
    const query = queryOf(request);
    const scope = await scopeParam(ctx, query, await readScope(request, ctx), true);
    const periodStart = weekOfName(request.params.week);
    if (periodStart === undefined) throw badParameter('week', 'an ISO week, yyyy-Www');
    return sendSummary(reply, await summaryRow(ctx, scope, periodStart));
  });

  app.post('/api/v1/summaries/weekly', async (request: FastifyRequest, reply) => {
    const caller = requireScope(request, 'admin');
    const body = (request.body ?? {}) as { scope?: unknown; week?: unknown };
    if (typeof body !== 'object' || Array.isArray(body)) throw badParameter('body', 'a JSON object {scope?, week?}');
    if (body.scope !== undefined && typeof body.scope !== 'string') throw badParameter('scope', 'a string');
    if (body.week !== undefined && typeof body.week !== 'string') throw badParameter('week', 'an ISO week, yyyy-Www');
    const payload: { scope?: string; periodStart?: number } = {};
    if (body.scope !== undefined) {
      payload.scope = (await scopeParam(ctx, { scope: body.scope }, await readScopeOf(ctx.db, caller), true)).key;
    }
    if (body.week !== undefined) {
      const start = weekOfName(body.week);
      if (start === undefined) throw badParameter('week', 'an ISO week, yyyy-Www');
      if (start + 7 * DAY_MS > ctx.now()) throw badParameter('week', 'a week that has ended');
      payload.periodStart = start;
    }
    const now = ctx.now();
    const job = await enqueueRequested(
      ctx.db,
      now,
      { caller, requestId: request.id },
      { kind: SUMMARY_WEEKLY, payload, createdBy: `${caller.kind}:${caller.id}` },
    );
    ctx.jobSignals.enqueued();

    return reply
      .code(202)
      .header('location', `/api/v1/jobs/${job.publicId}`)
      .send({ job: { id: job.publicId, state: job.state, url: `/api/v1/jobs/${job.publicId}` } });
  });
}
