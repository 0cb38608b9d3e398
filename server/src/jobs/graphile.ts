// Jobs on PostgreSQL run on graphile-worker (SERVER.md section 3, "Scale-out"; issue 18 "More than one node").
// The `jobs` table stays the API's record of a job (public id, state, steps, result, `GET /jobs/{id}?wait=`); a
// graphile job carries only our row's id, and is added by `graphile_worker.add_job` inside the caller's transaction
// (queue.ts enqueue), so it exists exactly when the row does. graphile brings what the table queue had to build
// itself on PostgreSQL: LISTEN/NOTIFY wake-ups across processes, SKIP LOCKED claims, retries with its exponential
// backoff. What it lacks is dead-worker detection (a killed worker's job stays locked for 4 hours): the nodes
// janitor (nodes.ts) calls `graphile_worker.force_unlock_workers` with the worker ids each node records here.
import { EventEmitter } from 'node:events';
import type { Logger as GraphileLogger, JobHelpers, Runner, Task, TaskList, WorkerEvents } from 'graphile-worker';
import { CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { ServerContext } from '../context.js';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { completeJob, failJob, type JobLease, type JobRow, type JobStep } from './queue.js';
import { asJobFailure, type JobHandler, type JobRunner, stepRecorder } from './runner.js';

type Db = Kysely<Database> | Transaction<Database>;

/** graphile-worker's schema (its default); `lading-server migrate` installs and upgrades it. */
export const GRAPHILE_SCHEMA = 'graphile_worker';

/**
 * The graphile pool's connections are named `lading-worker:<node id>` (application_name): the janitor reads
 * pg_stat_activity to see that a silent node's process is gone (nodes.ts).
 */
export const GRAPHILE_APPLICATION_PREFIX = 'lading-worker:';

/** What a graphile job carries: the id of our `jobs` row. */
export interface GraphileJobPayload {
  readonly jobId: number;
}

/**
 * graphile's retry delay after attempt n (its fail_job: `exp(least(attempts, 10))` seconds after the later of now
 * and run_at): 2.7 s, 7.4 s, 20 s, … at most 6.1 hours. The `jobs` row shows it as the next `run_at`.
 */
export function graphileBackoffMs(attempt: number): number {
  return Math.round(Math.exp(Math.min(Math.max(attempt, 0), 10)) * 1_000);
}

export interface GraphileJobSpec {
  readonly jobId: number;
  readonly kind: string;
  /** Epoch ms; omitted means now (PostgreSQL's clock). */
  readonly runAt?: number;
  readonly dedupeKey?: string;
  readonly priority: number;
  readonly maxAttempts: number;
}

/**
 * Adds the graphile job for one `jobs` row, in `db` (the caller's transaction). The task identifier is the job
 * kind, so a worker only takes kinds it has handlers for. `job_key` is our dedupe key: at most one graphile job per
 * key (queue.ts already returns the live row for a repeated key; a key reused after the row finished replaces a
 * graphile job still being completed). graphile gets one attempt more than the row allows: that extra attempt only
 * happens after a worker died during the last real one, and records the row as failed (see runGraphileJob).
 */
export async function addGraphileJob(db: Db, spec: GraphileJobSpec): Promise<void> {
  const payload: GraphileJobPayload = { jobId: spec.jobId };
  const runAt = spec.runAt === undefined ? null : new Date(spec.runAt).toISOString();
  await sql`select ${sql.id(GRAPHILE_SCHEMA)}.add_job(
      identifier => ${spec.kind}::text,
      payload => ${JSON.stringify(payload)}::json,
      run_at => ${runAt}::timestamptz,
      max_attempts => ${spec.maxAttempts + 1}::int,
      job_key => ${spec.dedupeKey ?? null}::text,
      priority => ${spec.priority}::int
    )`.execute(db);
}

/** Unlocks the jobs graphile workers (of a dead node) held, so other workers take them at once. */
export async function forceUnlockGraphileWorkers(db: Db, workerIds: readonly string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await sql`select ${sql.id(GRAPHILE_SCHEMA)}.force_unlock_workers(${[...workerIds]}::text[])`.execute(db);
}

/**
 * A node-postgres Pool look-alike over one Kysely connection: graphile's runMigrations wants a pool, and the
 * migrate step has only the Kysely instance it was given (the URL and pool stay inside connection.ts).
 * graphile uses connect() → query(text | {text, values}, values) → release(), and pool error/connect listeners.
 */
class KyselyConnectionPool extends EventEmitter {
  readonly options = { max: 1 };
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    super();
    this.#db = db;
    // graphile warns about a pool without these; errors surface from the queries themselves
    this.on('error', () => {});
    this.on('connect', () => {});
  }
  connect(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#db
        .connection()
        .execute(
          (conn) =>
            new Promise<void>((release) => {
              resolve({
                query: (text: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
                  const query = typeof text === 'string' ? { text, values } : text;
                  // no parameters: the simple protocol, which runs graphile's multi-statement migration files
                  return conn.executeQuery(CompiledQuery.raw(query.text, query.values ?? []));
                },
                release: () => release(),
              });
            }),
        )
        .catch(reject);
    });
  }
  async end(): Promise<void> {}
}

/** graphile's log lines into ours (its debug chatter stays at debug). */
function graphileLogger(ctx: ServerContext, Logger: typeof GraphileLogger): GraphileLogger {
  return new Logger((scope) => (level, message, meta) => {
    const fields = { scope: JSON.stringify(scope), ...(meta ? { meta: JSON.stringify(meta) } : {}) };
    // a failed attempt is recorded on the job and retried: graphile's "Failed task" line is a warning here
    const failedAttempt = message.startsWith('Failed task');
    if (level === 'error' && !failedAttempt) ctx.log.error(`graphile-worker: ${message}`, fields);
    else if (level === 'error' || level === 'warning') ctx.log.warn(`graphile-worker: ${message}`, fields);
    else ctx.log.debug(`graphile-worker: ${message}`, fields);
  });
}

/**
 * Installs or upgrades graphile-worker's schema (its own migrations, under its own advisory lock: idempotent, and
 * safe when several nodes start at once). Part of `lading-server migrate` and of every start on PostgreSQL.
 */
export async function installGraphileSchema(db: Kysely<Database>): Promise<void> {
  const { runMigrations, Logger } = await import('graphile-worker');
  const silent = new Logger(() => () => {});
  await runMigrations({
    pgPool: new KyselyConnectionPool(db) as unknown as pg.Pool,
    schema: GRAPHILE_SCHEMA,
    logger: silent,
  });
}

export interface GraphileRunnerOptions {
  readonly concurrency?: number;
  /** How often graphile looks for jobs that became due (retries, run_at); new jobs arrive by NOTIFY. */
  readonly pollMs?: number;
}

export interface GraphileRunner {
  /** The ids of this node's graphile pool and workers, i.e. the lockers (recorded in `nodes` for the janitor). */
  readonly workerIds: () => readonly string[];
  /**
   * Stops taking jobs and aborts running handlers' signals (as the table runner's stop does: a handler stops at its
   * next safe point and its attempt is retried), waits for them to settle, then closes the pool.
   */
  stop(): Promise<void>;
}

/**
 * Runs the handlers registered on `registry` (jobs/handlers.ts, the same registration as the table queue's runner)
 * on graphile-worker, with its own pg pool to config.database.
 */
export async function startGraphileRunner(
  ctx: ServerContext,
  registry: JobRunner,
  options: GraphileRunnerOptions = {},
): Promise<GraphileRunner> {
  if (ctx.config.database.kind !== 'postgres') throw new Error('graphile-worker runs on PostgreSQL only');
  const { run, Logger } = await import('graphile-worker');
  const concurrency = options.concurrency ?? ctx.config.jobs.concurrency;
  const pool = new pg.Pool({
    connectionString: ctx.config.database.url,
    max: concurrency + 2,
    application_name: `${GRAPHILE_APPLICATION_PREFIX}${ctx.nodeId}`,
  });
  // an idle client's error (a database restart) must not crash the process; graphile reconnects
  pool.on('error', (error) => ctx.log.warn('graphile pool error', { error: String(error) }));
  pool.on('connect', (client) => {
    client.on('error', (error) => ctx.log.warn('graphile connection error', { error: String(error) }));
  });
  const stopping = new AbortController();
  const taskList: TaskList = {};
  for (const kind of registry.kinds) {
    const handler = registry.handler(kind);
    if (!handler) continue;
    const task: Task = (payload, helpers) => runGraphileJob(ctx, handler, payload, helpers, stopping.signal);
    taskList[kind] = task;
  }
  const workerIds = new Set<string>();
  const events: WorkerEvents = new EventEmitter() as WorkerEvents;
  // graphile 0.17 locks a job with its pool's id (one batched claim per pool), a queue with a worker's id: the
  // janitor needs both to unlock everything this node held
  events.on('pool:create', ({ workerPool }) => workerIds.add(workerPool.id));
  events.on('worker:create', ({ worker }) => workerIds.add(worker.workerId));
  let runner: Runner;
  try {
    runner = await run({
      pgPool: pool,
      taskList,
      concurrency,
      noHandleSignals: true,
      pollInterval: options.pollMs ?? ctx.config.jobs.pollMs,
      schema: GRAPHILE_SCHEMA,
      logger: graphileLogger(ctx, Logger),
      events,
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  return {
    workerIds: () => [...workerIds],
    stop: async () => {
      stopping.abort();
      await runner.stop();
      await pool.end();
    },
  };
}

/**
 * One graphile job: marks our row running (attempt = graphile's), runs the handler, records success, or records
 * the failure and throws so graphile retries with its backoff; the last allowed attempt (or a JobFailure that is
 * not retryable) records `failed` and returns, so graphile drops its job and the key is free again.
 */
export async function runGraphileJob(
  ctx: ServerContext,
  handler: JobHandler,
  rawPayload: unknown,
  helpers: JobHelpers,
  stopping: AbortSignal,
): Promise<void> {
  const jobId = (rawPayload as Partial<GraphileJobPayload> | null)?.jobId;
  if (typeof jobId !== 'number') {
    // not ours (added by hand?): nothing to record; returning lets graphile drop it
    ctx.log.warn('graphile job without a jobs row id dropped', { graphileJob: helpers.job.id });
    return;
  }
  const attempt = helpers.job.attempts;
  const row = await ctx.db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running',
      attempts: attempt,
      locked_by: ctx.nodeId,
      lease_until: null,
      started_at: eb.fn.coalesce('started_at', sql.lit(ctx.now())),
    }))
    .where('id', '=', jobId)
    .where('state', 'in', ['queued', 'running'])
    .returningAll()
    .executeTakeFirst();
  // finished or canceled meanwhile (or removed): graphile's copy is stale
  if (!row) return;
  ctx.jobSignals.changed(row.public_id);
  const lease: JobLease = { id: row.id, attempts: attempt, nodeId: ctx.nodeId };
  if (attempt > row.max_attempts) {
    // graphile's spare attempt: the worker running the last real one died (the janitor unlocked it)
    await failJob(
      ctx.db,
      { ...lease, maxAttempts: row.max_attempts },
      ctx.now(),
      { code: 'lease_expired', message: 'the worker running the last attempt stopped' },
      { retryable: false, backoffMs: graphileBackoffMs },
    );
    ctx.jobSignals.changed(row.public_id);
    return;
  }
  const steps: JobStep[] = decodeJson<JobStep[]>(row.steps) ?? [];
  const lost = new AbortController();
  const signal = AbortSignal.any([stopping, helpers.abortSignal, lost.signal]);
  try {
    const result = await handler({
      job: row satisfies JobRow,
      payload: decodeJson(row.payload),
      signal,
      step: stepRecorder(ctx, lease, steps, lost),
    });
    if (!(await completeJob(ctx.db, lease, ctx.now(), result))) {
      ctx.log.warn('job finished after another worker took it over; result dropped', { job: row.public_id });
    }
  } catch (error) {
    const failure = asJobFailure(ctx, row, error);
    const outcome = await failJob(
      ctx.db,
      { ...lease, maxAttempts: row.max_attempts },
      ctx.now(),
      { code: failure.code, message: failure.message },
      { retryable: failure.retryable, backoffMs: graphileBackoffMs },
    );
    ctx.jobSignals.changed(row.public_id);
    // graphile retries only what throws: a recorded retry throws, a final failure (or a lost job) returns
    if (outcome === 'retry') throw failure;
    return;
  }
  ctx.jobSignals.changed(row.public_id);
}
