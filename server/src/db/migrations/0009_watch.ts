// 0009: registry watch (issue 18, "registry watch and rebuild triggers"). `repository_watches` says which
// repositories the server polls and how often; `registry_tags` is what the registry said at the last poll (tag →
// digest), so a poll sees which tags moved; `registry_pulls` is one row per (repository, digest) the watch pulled
// through the pull-ingest path, so a digest is pulled once however many tags point at it or come back to it.
import type { Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';
import { createTables } from './0001_initial.js';

const TABLES = [
  {
    name: 'repository_watches',
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      'interval_seconds int',
      'next_poll_at bigint',
      'last_polled_at bigint?',
      'last_error text?',
      'updated_at bigint',
    ],
    unique: [['repository_id']],
  },
  {
    name: 'registry_tags',
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      'tag text',
      'digest text',
      'observed_at bigint',
    ],
    unique: [['repository_id', 'tag']],
  },
  {
    name: 'registry_pulls',
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      'digest text',
      // queued (an ingest job exists) | ingested (its image is stored) | refused (retried at later polls, a few times)
      'state text',
      'job_id bigint?',
      'attempts int =0',
      'last_error text?',
      'updated_at bigint',
    ],
    unique: [['repository_id', 'digest']],
  },
] as const;

export function watchMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await createTables(db, dialect, TABLES);
    },
  };
}
