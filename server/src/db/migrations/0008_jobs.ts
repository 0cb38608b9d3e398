// 0008: jobs on graphile-worker (issue 18, "More than one node").
// - `nodes.graphile_worker_ids`: the graphile worker ids a PostgreSQL node's pool started with, so the janitor can
//   force-unlock a dead node's jobs (graphile itself would keep them locked for 4 hours).
// - `jobs_dedupe_idx`: ingest's accept looks up the newest not-failed job by dedupe key, finished ones included;
//   the partial unique index jobs_dedupe_uk covers only queued and running rows, so that lookup scanned `jobs`.
import type { Migration } from 'kysely';
import { columnTypes, type SqlDialect } from '../dialect.js';
import { createIndexes } from './0001_initial.js';

export function jobsMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await db.schema.alterTable('nodes').addColumn('graphile_worker_ids', columnTypes(dialect).json).execute();
      await createIndexes(db, [
        { name: 'jobs_dedupe_idx', table: 'jobs', columns: ['dedupe_key', 'id'], where: 'dedupe_key is not null' },
      ]);
    },
  };
}
