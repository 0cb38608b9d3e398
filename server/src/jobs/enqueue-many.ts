// Many new jobs in one go, for writers that make thousands at once (re-analysis queues a `notify.deliver` per
// outbox row: tens of thousands after a large data update). The same rows and graphile jobs as `enqueue` (queue.ts)
// writes one by one, in the caller's transaction, with one multi-row insert per chunk and, on PostgreSQL, one
// `graphile_worker.add_jobs` call per chunk instead of a round trip or two per job.
// Only for jobs whose dedupe key is new (or absent): a key that is already live is skipped, not returned, since the
// callers' keys are derived from rows they have just inserted.
import { type Kysely, sql, type Transaction } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { GRAPHILE_SCHEMA } from './graphile.js';
import { type EnqueueInput, queuedJobRow } from './queue.js';

type Db = Kysely<Database> | Transaction<Database>;

/** 12 columns: 1,000 rows a statement stay under both engines' bound-parameter limits. */
const ROWS_PER_STATEMENT = 1_000;

/** Adds the jobs (in `db`, the caller's transaction); returns how many were created. */
export async function enqueueMany(db: Db, now: number, inputs: readonly EnqueueInput[]): Promise<number> {
  // graphile's job_key is the dedupe key here; a job that gives its key up when it starts must have none (queue.ts)
  if (inputs.some((input) => input.releasedWhenStarted))
    throw new Error('enqueueMany does not take jobs that release their dedupe key when they start');
  let created = 0;
  const postgres = isPostgres(db);
  for (let i = 0; i < inputs.length; i += ROWS_PER_STATEMENT) {
    const chunk = inputs.slice(i, i + ROWS_PER_STATEMENT);
    const rows = await db
      .insertInto('jobs')
      .values(chunk.map((input) => queuedJobRow(input, now)))
      // the partial unique index jobs_dedupe_uk, as enqueue's
      .onConflict((oc) => oc.column('dedupe_key').where(sql.raw<boolean>("state in ('queued', 'running')")).doNothing())
      .returning(['id', 'kind', 'dedupe_key', 'priority', 'max_attempts', 'run_at'])
      .execute();
    created += rows.length;
    if (postgres && rows.length > 0) {
      // graphile's job_spec rows (queue.ts addGraphileJob's arguments, one per row): one add_jobs call
      const specs = rows.map((r) => ({
        identifier: r.kind,
        payload: { jobId: Number(r.id) },
        // due now: graphile's own clock, as addGraphileJob leaves it (ours may be a test's or a benchmark's)
        run_at: Number(r.run_at) <= now ? null : new Date(Number(r.run_at)).toISOString(),
        max_attempts: Number(r.max_attempts) + 1,
        job_key: r.dedupe_key,
        priority: Number(r.priority),
      }));
      await sql`select count(*) from ${sql.id(GRAPHILE_SCHEMA)}.add_jobs(array(
          select json_populate_recordset(null::${sql.id(GRAPHILE_SCHEMA)}.job_spec, ${JSON.stringify(specs)}::json)
        ))`.execute(db);
    }
  }
  return created;
}
