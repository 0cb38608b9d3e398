// 0003: fleet metrics and weekly summaries (SERVER.md section 1, "metrics, summaries"), and the history of each
// exposure as episodes. `exposures` holds one row per repository track × vulnerability × package (its current
// state); a reopen used to overwrite that row, which lost the first episode's resolution, its build and its time to
// fix. MTTR, SLA and fix tracing read episodes (PIPELINE.md 3.2 (b), (c)), never snapshots, so every
// open → resolved run is kept here, and a reopened one is flagged as a regression.
import { type Migration, sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';
import { createIndexes, createTables } from './0001_initial.js';

const TABLES = [
  {
    name: 'exposure_episodes',
    columns: [
      'id id',
      'exposure_id bigint -> exposures.id cascade',
      'severity text',
      'opened_at bigint',
      'opened_image_id bigint',
      'resolved_at bigint?',
      'resolved_image_id bigint?',
      'resolved_build_id bigint?',
      'package_from text',
      'package_to text?',
      'regression flag =0',
      'fix_first_seen_at bigint?',
    ],
  },
  {
    // One point per UTC day and scope ('fleet' | 'team:<id>' | 'repo:<id>'); `day` = the day's midnight (epoch ms).
    name: 'metrics_daily',
    columns: [
      'day bigint',
      'scope text',
      'critical int',
      'high int',
      'medium int',
      'low int',
      'unknown int',
      'suppressed int',
      'images int',
      'packages int',
      'new_findings int',
      'resolved_findings int',
      'risk_index real',
      'threshold_fail_images int',
    ],
    primaryKey: ['day', 'scope'],
  },
  {
    // `document` is the exact bytes served (text, not json: PostgreSQL's jsonb would reorder and respace them).
    name: 'summaries',
    columns: [
      'id id',
      'kind text',
      'scope text',
      'period_start bigint',
      'version int',
      'document text',
      'sha256 text',
      'generated_at bigint',
    ],
    unique: [['kind', 'scope', 'period_start']],
  },
] as const;

const INDEXES = [
  { name: 'exposure_episodes_exposure_idx', table: 'exposure_episodes', columns: ['exposure_id', 'opened_at'] },
  { name: 'exposure_episodes_resolved_idx', table: 'exposure_episodes', columns: ['resolved_at'] },
  { name: 'exposure_episodes_opened_idx', table: 'exposure_episodes', columns: ['opened_at'] },
];

export function metricsMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await createTables(db, dialect, TABLES);
      await createIndexes(db, INDEXES);
      // Exposures written before this migration become one episode each (their last known run).
      await sql`insert into exposure_episodes (exposure_id, severity, opened_at, opened_image_id, resolved_at,
          resolved_image_id, resolved_build_id, package_from, package_to, regression, fix_first_seen_at, created_at)
        select id, severity, opened_at, opened_image_id, resolved_at, resolved_image_id, resolved_build_id,
          package_from, package_to, case when reopened_count > 0 then 1 else 0 end, fix_first_seen_at, created_at
        from exposures`.execute(db);
    },
    // forward-only (SERVER.md section 1): there is no down migration
  };
}
