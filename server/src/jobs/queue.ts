// The `jobs` table as a queue (SERVER.md section 3, embedded mode; one implementation for SQLite and PostgreSQL):
// enqueue inside the caller's transaction (so a rollback drops it), one live job per dedupe key, claims with a
// lease (SQLite: BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE SKIP LOCKED), retries with exponential backoff, and a
// lease that runs out makes the job claimable again: that is how a kill -9 mid-job recovers.
import { randomBytes } from 'node:crypto';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { decodeJson, encodeJson, isPostgres, type SqlDialect } from '../db/dialect.js';
import type { Database, JobState, JobsTable } from '../db/schema.js';
import { addGraphileJob } from './graphile.js';

export type JobRow = Selectable<JobsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'canceled']);
export const DEFAULT_MAX_ATTEMPTS = 5;

export interface EnqueueInput {
  readonly kind: string;
  readonly payload?: unknown;
  /** While a job with this key is queued or running, enqueueing again returns that job. */
  readonly dedupeKey?: string;
  /**
   * The handler gives `dedupeKey` up as it starts (`releaseDedupeKey`), before it reads what the job is about: an
   * enqueue after that makes a follow-up job instead of joining one that may have read too early, so at most one
   * job per key is queued and none is lost. An enqueue that joins the live job holds a share lock on its row until
   * it commits (PostgreSQL; SQLite's single writer does the same), so the release, and the reads after it, wait for
   * what the enqueuer wrote. The graphile job gets no job_key: graphile would strip a locked job with the key of
   * its key and its retries when the follow-up is added (add_job's replace mode).
   */
  readonly releasedWhenStarted?: boolean;
  /** Not before this time (epoch ms); default now. */
  readonly runAt?: number;
  /** Lower runs first; default 0. */
  readonly priority?: number;
  readonly maxAttempts?: number;
  readonly parentId?: number;
  /** Who asked ('token:12', 'user:3', 'system'). */
  readonly createdBy?: string;
}

export interface EnqueueResult {
  readonly id: number;
  readonly publicId: string;
  readonly state: JobState;
  /** false when a live job with the same dedupe key was returned instead. */
  readonly created: boolean;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `job_` + a ULID (48-bit time, 80 random bits, Crockford base32): unguessable, and sorts by creation. */
export function newJobPublicId(now: number): string {
  let time = '';
  let t = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(16);
  let rest = '';
  for (let i = 0; i < 16; i++) rest += CROCKFORD[random[i]! % 32];
  return `job_${time}${rest}`;
}

/** The `jobs` row of a job being queued (enqueue here, enqueueMany in enqueue-many.ts). */
export function queuedJobRow(input: EnqueueInput, now: number) {
  return {
    public_id: newJobPublicId(now),
    kind: input.kind,
    state: 'queued' as const,
    priority: input.priority ?? 0,
    dedupe_key: input.dedupeKey ?? null,
    payload: encodeJson(input.payload ?? {}),
    max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    run_at: input.runAt ?? now,
    parent_id: input.parentId ?? null,
    created_by: input.createdBy ?? null,
    created_at: now,
  };
}

/**
 * Adds a job in `db`, which should be the caller's transaction: the job then exists exactly when the caller's
 * rows do. On PostgreSQL the same transaction adds the graphile-worker job that runs it (graphile.ts), and
 * graphile's NOTIFY wakes the workers of every node at commit. After the transaction commits, call
 * `ctx.jobSignals.enqueued()` to wake this process's table-queue runner at once (otherwise it notices within its
 * poll interval).
 */
export async function enqueue(db: Db, now: number, input: EnqueueInput): Promise<EnqueueResult> {
  const inserted = await db
    .insertInto('jobs')
    .values(queuedJobRow(input, now))
    // the partial unique index jobs_dedupe_uk: a concurrent or earlier live job with this key wins
    .onConflict((oc) => oc.column('dedupe_key').where(sql.raw<boolean>("state in ('queued', 'running')")).doNothing())
    .returning(['id', 'public_id', 'state'])
    .executeTakeFirst();
  if (inserted) {
    if (isPostgres(db)) {
      await addGraphileJob(db, {
        jobId: inserted.id,
        kind: input.kind,
        ...(input.runAt === undefined ? {} : { runAt: input.runAt }),
        ...(input.dedupeKey === undefined || input.releasedWhenStarted ? {} : { dedupeKey: input.dedupeKey }),
        priority: input.priority ?? 0,
        maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      });
    }
    return { id: inserted.id, publicId: inserted.public_id, state: inserted.state, created: true };
  }
  let live = db
    .selectFrom('jobs')
    .select(['id', 'public_id', 'state'])
    .where('dedupe_key', '=', input.dedupeKey ?? '')
    .where('state', 'in', ['queued', 'running']);
  // joining a job that releases its key when it starts: its release waits for our commit (see releasedWhenStarted)
  if (input.releasedWhenStarted && isPostgres(db)) live = live.forShare();
  const existing = await live.executeTakeFirst();
  if (!existing) {
    // the live job finished (or released its key) between our insert and our read: the key is free again
    return enqueue(db, now, input);
  }
  return { id: existing.id, publicId: existing.public_id, state: existing.state, created: false };
}

export async function findJob(db: Db, publicId: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('public_id', '=', publicId).executeTakeFirst();
}

export interface ClaimOptions {
  readonly nodeId: string;
  readonly now: number;
  readonly leaseMs: number;
  /** Only these kinds (the ones this runner has handlers for). */
  readonly kinds: readonly string[];
}

/**
 * Takes the next runnable job: queued with run_at reached, or running with an expired lease (its worker died).
 * Returns it with attempts counted and the lease set, or undefined when nothing is runnable. A job whose lease
 * expired after its last allowed attempt is failed instead of run again.
 */
export async function claimNext(
  db: Kysely<Database>,
  dialect: SqlDialect,
  options: ClaimOptions,
): Promise<JobRow | undefined> {
  if (options.kinds.length === 0) return undefined;
  for (;;) {
    const outcome = await inClaimTransaction(db, dialect, async (trx) => {
      let query = trx
        .selectFrom('jobs')
        .select(['id', 'state', 'attempts', 'max_attempts'])
        .where('kind', 'in', [...options.kinds])
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'queued'), eb('run_at', '<=', options.now)]),
            eb.and([eb('state', '=', 'running'), eb('lease_until', '<', options.now)]),
          ]),
        )
        .orderBy('priority')
        .orderBy('run_at')
        .orderBy('id')
        .limit(1);
      if (dialect === 'postgres') query = query.forUpdate().skipLocked();
      const candidate = await query.executeTakeFirst();
      if (!candidate) return { kind: 'none' as const };
      if (candidate.state === 'running' && candidate.attempts >= candidate.max_attempts) {
        await trx
          .updateTable('jobs')
          .set({
            state: 'failed',
            finished_at: options.now,
            locked_by: null,
            lease_until: null,
            error: encodeJson({ code: 'lease_expired', message: 'the worker running the last attempt stopped' }),
          })
          .where('id', '=', candidate.id)
          .execute();
        return { kind: 'expired' as const };
      }
      const row = await trx
        .updateTable('jobs')
        .set((eb) => ({
          state: 'running',
          attempts: eb('attempts', '+', 1),
          locked_by: options.nodeId,
          lease_until: options.now + options.leaseMs,
          started_at: eb.fn.coalesce('started_at', sql.lit(options.now)),
        }))
        .where('id', '=', candidate.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { kind: 'claimed' as const, row };
    });
    if (outcome.kind === 'claimed') return outcome.row;
    if (outcome.kind === 'none') return undefined;
  }
}

/**
 * The claim's transaction. SQLite: BEGIN IMMEDIATE takes the write lock first, so two processes never pick the
 * same row. PostgreSQL: an ordinary transaction whose FOR UPDATE SKIP LOCKED passes over rows others are claiming.
 */
async function inClaimTransaction<T>(
  db: Kysely<Database>,
  dialect: SqlDialect,
  body: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') return db.transaction().execute(body);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const out = await body(conn);
      await sql`commit`.execute(conn);
      return out;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}

/** A claimed job is identified by its row and the attempt: a worker whose lease was taken over can no longer write. */
export interface JobLease {
  readonly id: number;
  readonly attempts: number;
  readonly nodeId: string;
}

function owned<Q extends { where: (...args: never[]) => Q }>(query: Q, lease: JobLease): Q {
  // biome-ignore lint/suspicious/noExplicitAny: the three filters are the same on every update below
  const q = query as any;
  return q
    .where('id', '=', lease.id)
    .where('attempts', '=', lease.attempts)
    .where('locked_by', '=', lease.nodeId)
    .where('state', '=', 'running');
}

/**
 * A running job gives its dedupe key up (EnqueueInput.releasedWhenStarted): call it before reading what the job is
 * about. On PostgreSQL it waits for the transactions that joined the job to commit (they hold a share lock on the
 * row); on SQLite for the writer. false when the job is no longer ours.
 */
export async function releaseDedupeKey(db: Db, lease: JobLease): Promise<boolean> {
  const result = await owned(db.updateTable('jobs').set({ dedupe_key: null }), lease).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Takes `key` back for a job about to be retried, so the retry stays the key's one queued job and what is enqueued
 * meanwhile joins it. false when another job holds the key (a follow-up was queued meanwhile: it does the work
 * again, so the caller should end this job instead of retrying it) or the job is no longer ours.
 */
export async function retakeDedupeKey(db: Db, lease: JobLease, key: string): Promise<boolean> {
  try {
    const result = await owned(db.updateTable('jobs').set({ dedupe_key: key }), lease).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Pushes the lease forward while a handler works. false when the job is no longer ours. */
export async function extendLease(db: Db, lease: JobLease, leaseUntil: number): Promise<boolean> {
  const result = await owned(db.updateTable('jobs').set({ lease_until: leaseUntil }), lease).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface JobStep {
  readonly name: string;
  readonly state: 'running' | 'succeeded' | 'failed' | 'skipped';
  readonly ms?: number;
  readonly detail?: string;
}

export async function saveSteps(db: Db, lease: JobLease, steps: readonly JobStep[]): Promise<boolean> {
  const result = await owned(db.updateTable('jobs').set({ steps: encodeJson(steps) }), lease).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function completeJob(db: Db, lease: JobLease, now: number, result: unknown): Promise<boolean> {
  const updated = await owned(
    db.updateTable('jobs').set({
      state: 'succeeded',
      result: result === undefined ? null : encodeJson(result),
      error: null,
      finished_at: now,
      locked_by: null,
      lease_until: null,
    }),
    lease,
  ).executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

export interface JobErrorInfo {
  readonly code: string;
  readonly message: string;
}

/**
 * Records a failed attempt: back to `queued` at now + backoff while attempts remain and the error is retryable,
 * else `failed` for good.
 */
export async function failJob(
  db: Db,
  lease: JobLease & { readonly maxAttempts: number },
  now: number,
  error: JobErrorInfo,
  options: { retryable: boolean; backoffMs: (attempt: number) => number },
): Promise<'retry' | 'failed' | 'lost'> {
  const retry = options.retryable && lease.attempts < lease.maxAttempts;
  const updated = await owned(
    db.updateTable('jobs').set(
      retry
        ? {
            state: 'queued',
            run_at: now + options.backoffMs(lease.attempts),
            error: encodeJson(error),
            locked_by: null,
            lease_until: null,
          }
        : { state: 'failed', error: encodeJson(error), finished_at: now, locked_by: null, lease_until: null },
    ),
    lease,
  ).executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return 'lost';
  return retry ? 'retry' : 'failed';
}

/** Exponential backoff: base × 2^(attempt−1), at most `capMs`. Deterministic, so tests and operators can predict it. */
export function exponentialBackoff(baseMs: number, capMs: number): (attempt: number) => number {
  return (attempt) => Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** The API's view of a job (SERVER.md section 2, `GET /jobs/{id}`). */
export interface JobView {
  readonly id: string;
  readonly kind: string;
  readonly state: JobState;
  readonly attempts: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly runAt: string;
  readonly steps: readonly JobStep[];
  readonly result: unknown;
  readonly error: JobErrorInfo | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function jobView(row: JobRow): JobView {
  return {
    id: row.public_id,
    kind: row.kind,
    state: row.state,
    attempts: row.attempts,
    createdAt: new Date(row.created_at).toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    runAt: new Date(row.run_at).toISOString(),
    steps: decodeJson<JobStep[]>(row.steps) ?? [],
    result: decodeJson(row.result),
    error: decodeJson<JobErrorInfo>(row.error),
  };
}
