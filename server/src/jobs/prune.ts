// Job retention: the daily `jobs.prune` job deletes finished jobs (succeeded, failed, canceled) that finished more
// than the retention ago (config.jobs.retentionDays, LADING_JOB_RETENTION_DAYS, default 30), so `jobs` stops
// growing by every scheduled tick and every ingest forever. It deletes in batches of short transactions, so a
// large backlog never holds SQLite's write lock (or PostgreSQL row locks) for long.
//
// What stays, whatever its age:
// - queued and running jobs (only terminal states are deleted, and the delete checks the state again);
// - a job within the retention: that covers the ingest replay check (ingest/accept.ts), which answers a bundle sent
//   again with the newest not-failed job of its dedupe key. Age is counted from when the job FINISHED, so a replay
//   arriving within the retention of its job's end still finds it; a replay of a bundle whose job finished longer
//   ago than the retention finds nothing and is ingested again, which is harmless: ingest is idempotent (the same
//   evidence gives the same image rows, findings and tags);
// - a job another row still needs: a child job's parent (jobs.parent_id references it) and the ingest job of a
//   registry-watch pull still marked `queued` (watch/poll.ts reads that job's state to decide whether to pull
//   again).
// On PostgreSQL, graphile-worker deletes a job when it completes, and our runner completes it after recording a final
// failure too (jobs/graphile.ts); a graphile job that ran out of attempts without being completed (its handler's
// bookkeeping threw every time) would stay, so those are deleted here as well, past the same retention, as
// graphile's own DELETE_PERMAFAILED_JOBS cleanup does (never one that is locked).
import { type Kysely, sql } from 'kysely';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { oneLine } from '../http/problem.js';
import { GRAPHILE_SCHEMA } from './graphile.js';
import { JobFailure, type JobRunner, registerJobHandler } from './runner.js';
import type { Schedule } from './schedules.js';

export const JOBS_PRUNE = 'jobs.prune';
/** Daily at 04:15 UTC (a quiet hour; the tick missed while down runs once at the next start). */
export const JOBS_SCHEDULES: readonly Schedule[] = [{ name: JOBS_PRUNE, cron: '15 4 * * *', kind: JOBS_PRUNE }];

export const DEFAULT_PRUNE_BATCH = 500;
const DAY_MS = 86_400_000;

export interface PruneOptions {
  readonly now: number;
  readonly retentionDays: number;
  /** Rows per transaction. */
  readonly batchSize?: number;
  /** Checked between batches: a stopping node ends the prune at a batch boundary (the rest waits for tomorrow). */
  readonly signal?: AbortSignal;
}

export interface PruneOutcome {
  /** `jobs` rows deleted. */
  readonly deleted: number;
  /** graphile-worker jobs deleted (PostgreSQL; always 0 on SQLite). */
  readonly graphileDeleted: number;
  /** Finished before this (epoch ms) and not needed: deleted. */
  readonly cutoff: number;
}

export async function pruneFinishedJobs(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  options: PruneOptions,
): Promise<PruneOutcome> {
  const cutoff = options.now - options.retentionDays * DAY_MS;
  const batch = Math.max(1, options.batchSize ?? DEFAULT_PRUNE_BATCH);
  let deleted = 0;
  // keyset over the primary key: each batch starts after the last id looked at, so rows kept (needed ones) are not
  // read again, and the whole prune is one pass over the table
  let after = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const ids = await db
      .selectFrom('jobs')
      .select('id')
      .where('id', '>', after)
      .where('state', 'in', ['succeeded', 'failed', 'canceled'])
      .where((eb) => eb(eb.fn.coalesce('finished_at', 'created_at'), '<', cutoff))
      .orderBy('id')
      .limit(batch)
      .execute();
    if (ids.length === 0) break;
    after = Number(ids[ids.length - 1]?.id);
    const result = await db.transaction().execute((trx) =>
      trx
        .deleteFrom('jobs')
        .where(
          'id',
          'in',
          ids.map((r) => Number(r.id)),
        )
        // again inside the delete: a job's state or end cannot have changed, but the rules are the rules
        .where('state', 'in', ['succeeded', 'failed', 'canceled'])
        .where((eb) => eb(eb.fn.coalesce('finished_at', 'created_at'), '<', cutoff))
        .where((eb) =>
          eb.not(
            eb.exists(eb.selectFrom('jobs as child').select('child.id').whereRef('child.parent_id', '=', 'jobs.id')),
          ),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('registry_pulls')
                .select('registry_pulls.id')
                .whereRef('registry_pulls.job_id', '=', 'jobs.id')
                .where('registry_pulls.state', '=', 'queued'),
            ),
          ),
        )
        .executeTakeFirst(),
    );
    deleted += Number(result.numDeletedRows);
    if (ids.length < batch) break;
  }
  const graphileDeleted = dialect === 'postgres' ? await pruneGraphileJobs(db, cutoff, batch, options.signal) : 0;
  return { deleted, graphileDeleted, cutoff };
}

/** graphile-worker jobs that used up their attempts and are not locked, last touched before the cutoff. */
async function pruneGraphileJobs(
  db: Kysely<Database>,
  cutoff: number,
  batch: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  const jobs = sql.id(GRAPHILE_SCHEMA, '_private_jobs');
  const before = new Date(cutoff).toISOString();
  let deleted = 0;
  for (;;) {
    signal?.throwIfAborted();
    const result = await sql`delete from ${jobs} where id in (
        select id from ${jobs}
        where attempts >= max_attempts and locked_at is null and updated_at < ${before}::timestamptz
        limit ${batch}
      )`.execute(db);
    const n = Number(result.numAffectedRows ?? 0n);
    deleted += n;
    if (n < batch) return deleted;
  }
}

export function registerPruneJobs(runner: JobRunner, ctx: ServerContext): void {
  registerJobHandler(runner, JOBS_PRUNE, async ({ signal }) => {
    try {
      const outcome = await pruneFinishedJobs(ctx.db, ctx.dialect, {
        now: ctx.now(),
        retentionDays: ctx.config.jobs.retentionDays,
        signal,
      });
      return { deleted: outcome.deleted, graphileDeleted: outcome.graphileDeleted, before: new Date(outcome.cutoff) };
    } catch (error) {
      if (signal.aborted) throw error;
      // a database failure: the runner's backoff tries again (what was deleted stays deleted; the rest is next)
      throw new JobFailure('jobs_prune_failed', oneLine(error instanceof Error ? error.message : String(error)));
    }
  });
}
