// POST/GET/DELETE /api/v1/exceptions (scope triage to write, read to list): an exception suppresses one
// vulnerability's open findings in one repository (optionally one image, optionally one package by name) until it
// expires. A reason and an expiry at most 365 days ahead are required: an exception is a decision someone must
// revisit. Creating and revoking are ONE transaction each: the exception row, the findings it (un)suppresses, those
// images' counters recounted from their findings, and one event (`exception.created` / `exception.revoked`), so the
// fleet's numbers and the audit log never disagree. Expiry is the hourly `exceptions.expire` job's (reanalysis/).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type Caller, callerMayAccess, requireScope } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { recordEvent } from '../events/index.js';
import { ProblemError } from '../http/problem.js';
import { cappedCount, cappedTotal, decodeCursor, listHash, type Page, pageOf } from '../queries/keyset.js';
import { findVulnerability } from '../queries/vulnerabilities.js';
import { recountImages } from '../reanalysis/counters.js';
import { boolParam, pageRequest, queryOf, readScope } from './read-common.js';

const DAY_MS = 86_400_000;
export const MAX_EXCEPTION_DAYS = 365;
const STATUSES = ['not_affected', 'accepted_risk', 'false_positive', 'fixed'] as const;
type ExceptionStatus = (typeof STATUSES)[number];
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ExceptionView {
  id: string;
  vulnerability: string;
  repository: string;
  imageDigest: string | null;
  package: string | null;
  status: ExceptionStatus;
  justification: string | null;
  reason: string;
  expiresAt: string;
  createdAt: string;
  revokedAt: string | null;
  source: 'manual' | 'vex';
  suppressedFindings: number;
}

function invalid(field: string, detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', `${field}: ${detail}`, { code: 'invalid_field', field });
}

function newExceptionId(): string {
  return `exc_${randomBytes(10).toString('hex')}`;
}

interface CreateInput {
  vulnerability: string;
  repository: string;
  image: string | null;
  package: string | null;
  status: ExceptionStatus;
  justification: string | null;
  reason: string;
  expiresAt: number;
}

function text(o: Record<string, unknown>, field: string, max: number, required: boolean): string | null {
  const v = o[field];
  if (v === undefined || v === null) {
    if (required) throw invalid(field, 'is required');
    return null;
  }
  if (typeof v !== 'string' || v.trim().length === 0) throw invalid(field, 'must be a non-empty string');
  if (v.length > max) throw invalid(field, `at most ${max} characters`);
  return v.trim();
}

function parseCreate(body: unknown, now: number): CreateInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProblemError(400, 'Bad Request', 'the body must be a JSON object');
  }
  const o = body as Record<string, unknown>;
  const known = new Set([
    'vulnerability',
    'repository',
    'image',
    'package',
    'status',
    'justification',
    'reason',
    'expiresAt',
  ]);
  for (const key of Object.keys(o)) if (!known.has(key)) throw invalid(key.slice(0, 64), 'is not a known field');
  const image = text(o, 'image', 71, false);
  if (image !== null && !DIGEST.test(image)) throw invalid('image', 'must be a sha256:<64 hex> manifest digest');
  const status = o.status ?? 'accepted_risk';
  if (!STATUSES.includes(status as ExceptionStatus)) throw invalid('status', `must be one of ${STATUSES.join(', ')}`);
  const expiresText = text(o, 'expiresAt', 40, true) ?? '';
  const expiresAt = /^\d{4}-\d{2}-\d{2}T/.test(expiresText) ? Date.parse(expiresText) : Number.NaN;
  if (!Number.isFinite(expiresAt)) throw invalid('expiresAt', 'must be an RFC 3339 time');
  if (expiresAt <= now) throw invalid('expiresAt', 'must be in the future');
  if (expiresAt > now + MAX_EXCEPTION_DAYS * DAY_MS) {
    throw invalid('expiresAt', `at most ${MAX_EXCEPTION_DAYS} days ahead: an exception must be revisited`);
  }
  return {
    vulnerability: text(o, 'vulnerability', 200, true) ?? '',
    repository: text(o, 'repository', 255, true) ?? '',
    image,
    package: text(o, 'package', 255, false),
    status: status as ExceptionStatus,
    justification: text(o, 'justification', 100, false),
    reason: text(o, 'reason', 2000, true) ?? '',
    expiresAt,
  };
}

/** The open (or, to revoke, suppressed-by-this-exception) findings an exception covers. */
async function coveredFindings(
  trx: Transaction<Database>,
  x: { vulnerabilityId: number; repositoryId: number; image: string | null; package: string | null },
): Promise<{ id: number; image_id: number }[]> {
  let q = trx
    .selectFrom('findings as f')
    .innerJoin('repository_images as ri', 'ri.image_id', 'f.image_id')
    .innerJoin('images as i', 'i.id', 'f.image_id')
    .innerJoin('packages as p', 'p.id', 'f.package_id')
    .select(['f.id', 'f.image_id'])
    .distinct()
    .where('f.vulnerability_id', '=', x.vulnerabilityId)
    .where('ri.repository_id', '=', x.repositoryId)
    .where('f.status', '=', 'open');
  if (x.image !== null) q = q.where('i.digest', '=', x.image);
  if (x.package !== null) q = q.where('p.name_lc', '=', x.package.toLowerCase());
  return (await q.execute()).map((r) => ({ id: Number(r.id), image_id: Number(r.image_id) }));
}

function actorOf(caller: Caller): { kind: 'user' | 'token' | 'system'; id: number } {
  return { kind: caller.kind, id: caller.id };
}

/** The exceptions with their vulnerability, repository and count of suppressed findings, for the views below. */
function exceptionRows(db: Kysely<Database>) {
  return db
    .selectFrom('exceptions as x')
    .innerJoin('vulnerabilities as v', 'v.id', 'x.vulnerability_id')
    .leftJoin('repositories as r', 'r.id', 'x.repository_id')
    .select((eb) => [
      'x.id',
      'x.public_id',
      'v.vuln_id',
      'r.name as repository',
      'x.image_digest',
      'x.package_pattern',
      'x.status',
      'x.justification',
      'x.reason',
      'x.expires_at',
      'x.created_at',
      'x.revoked_at',
      'x.source',
      eb
        .selectFrom('findings as f')
        .select((c) => c.fn.countAll<number>().as('n'))
        .whereRef('f.exception_id', '=', 'x.id')
        .where('f.status', '=', 'suppressed')
        .as('suppressed'),
    ]);
}

type ExceptionRow = Awaited<ReturnType<ReturnType<typeof exceptionRows>['executeTakeFirstOrThrow']>>;

function exceptionView(row: ExceptionRow): ExceptionView {
  return {
    id: row.public_id,
    vulnerability: row.vuln_id,
    repository: row.repository ?? '',
    imageDigest: row.image_digest,
    package: row.package_pattern,
    status: row.status,
    justification: row.justification,
    reason: row.reason,
    expiresAt: new Date(Number(row.expires_at)).toISOString(),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    revokedAt: row.revoked_at === null ? null : new Date(Number(row.revoked_at)).toISOString(),
    source: row.source,
    suppressedFindings: Number(row.suppressed ?? 0),
  };
}

async function viewOf(db: Kysely<Database>, publicId: string): Promise<ExceptionView | undefined> {
  const row = await exceptionRows(db).where('x.public_id', '=', publicId).executeTakeFirst();
  return row ? exceptionView(row) : undefined;
}

export function registerExceptionRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/exceptions', async (request, reply) => {
    const caller = requireScope(request, 'triage');
    const now = ctx.now();
    const input = parseCreate(request.body, now);
    const repo = await ctx.db
      .selectFrom('repositories')
      .select(['id', 'name'])
      .where('name_lc', '=', input.repository.toLowerCase())
      .executeTakeFirst();
    // a repository outside the caller's triage scope answers as an unknown one: existence does not leak
    if (!repo || !callerMayAccess(caller, repo.name)) {
      throw new ProblemError(404, 'Not Found', `no repository ${input.repository}`);
    }
    const vuln = await findVulnerability(ctx.db, input.vulnerability);
    if (!vuln) throw new ProblemError(404, 'Not Found', `no vulnerability ${input.vulnerability}`);
    const publicId = newExceptionId();
    await ctx.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('exceptions')
        .values({
          public_id: publicId,
          vulnerability_id: vuln.id,
          repository_id: repo.id,
          image_digest: input.image,
          package_pattern: input.package,
          status: input.status,
          justification: input.justification,
          reason: input.reason,
          owner_user_id: caller.kind === 'user' ? caller.id : null,
          created_by: caller.id,
          expires_at: input.expiresAt,
          revoked_at: null,
          source: 'manual',
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const findings = await coveredFindings(trx, {
        vulnerabilityId: vuln.id,
        repositoryId: repo.id,
        image: input.image,
        package: input.package,
      });
      if (findings.length > 0) {
        await trx
          .updateTable('findings')
          .set({ status: 'suppressed', exception_id: inserted.id })
          .where(
            'id',
            'in',
            findings.map((f) => f.id),
          )
          .execute();
        await recountImages(trx, [...new Set(findings.map((f) => f.image_id))]);
      }
      await recordEvent(trx, {
        at: now,
        type: 'exception.created',
        actor: actorOf(caller),
        repositoryId: repo.id,
        vulnerabilityId: vuln.id,
        requestId: publicId,
        data: {
          exception: publicId,
          vulnerability: vuln.vuln_id,
          imageDigest: input.image,
          package: input.package,
          status: input.status,
          reason: input.reason,
          expiresAt: new Date(input.expiresAt).toISOString(),
          suppressedFindings: findings.length,
          images: new Set(findings.map((f) => f.image_id)).size,
        },
      });
    });
    const view = await viewOf(ctx.db, publicId);
    return reply.code(201).header('location', `/api/v1/exceptions/${publicId}`).send(view);
  });

  // Newest first, by keyset on the row id; the caller's repositories are a condition of the query, so a page is
  // full whatever share of the exceptions the caller may read.
  app.get('/api/v1/exceptions', async (request): Promise<Page<ExceptionView>> => {
    const scope = await readScope(request, ctx);
    const query = queryOf(request);
    const includeRevoked = boolParam(query, 'revoked') === true;
    const page = pageRequest(query, ctx);
    const hash = listHash('id_desc', { revoked: includeRevoked });
    const cursor = decodeCursor(page, hash);
    let base = ctx.db.selectFrom('exceptions as x');
    if (!scope.all) {
      base =
        scope.repositoryIds.length === 0
          ? base.where(sql<boolean>`1 = 0`)
          : base.where('x.repository_id', 'in', scope.repositoryIds as number[]);
    }
    if (!includeRevoked) base = base.where('x.revoked_at', 'is', null);
    let ids = base.select('x.id');
    if (cursor) ids = ids.where('x.id', '<', cursor.id);
    const pageIds = (
      await ids
        .orderBy('x.id', 'desc')
        .limit(page.limit + 1)
        .execute()
    ).map((r) => Number(r.id));
    const rows =
      pageIds.length === 0
        ? []
        : await exceptionRows(ctx.db).where('x.id', 'in', pageIds).orderBy('x.id', 'desc').execute();
    const total = cappedTotal(await cappedCount(ctx.db, base.select('x.id')));
    return pageOf(rows, page, hash, (r) => ({ value: null, id: Number(r.id) }), exceptionView, total);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/exceptions/:id', async (request, reply) => {
    const caller = requireScope(request, 'triage');
    const now = ctx.now();
    const id = request.params.id.slice(0, 64);
    const row = await ctx.db
      .selectFrom('exceptions as x')
      .leftJoin('repositories as r', 'r.id', 'x.repository_id')
      .select(['x.id', 'x.public_id', 'x.vulnerability_id', 'x.repository_id', 'x.revoked_at', 'r.name'])
      .where('x.public_id', '=', id)
      .executeTakeFirst();
    if (!row || row.name === null || !callerMayAccess(caller, row.name)) {
      throw new ProblemError(404, 'Not Found', `no exception ${id}`);
    }
    if (row.revoked_at === null) {
      await ctx.db.transaction().execute(async (trx) => {
        const findings = await trx
          .selectFrom('findings')
          .select(['id', 'image_id'])
          .where('exception_id', '=', row.id)
          .where('status', '=', 'suppressed')
          .execute();
        await trx.updateTable('exceptions').set({ revoked_at: now }).where('id', '=', row.id).execute();
        if (findings.length > 0) {
          await trx
            .updateTable('findings')
            .set({ status: 'open', exception_id: null })
            .where('exception_id', '=', row.id)
            .where('status', '=', 'suppressed')
            .execute();
          await recountImages(trx, [...new Set(findings.map((f) => Number(f.image_id)))]);
        }
        await recordEvent(trx, {
          at: now,
          type: 'exception.revoked',
          actor: actorOf(caller),
          repositoryId: row.repository_id,
          vulnerabilityId: row.vulnerability_id,
          requestId: row.public_id,
          data: { exception: row.public_id, reopenedFindings: findings.length },
        });
      });
    }
    return reply.code(204).send();
  });
}
