// 0007: rebuild triggers (issue 18, "registry watch and rebuild triggers"). `rebuild_targets` says where a
// repository's rebuilds are asked for (a GitHub repository_dispatch, or a signed webhook; the target and secret
// sealed); `rebuild_triggers` is one row per (image digest, fixable HIGH/CRITICAL set): unique, so a set fires once.
import type { Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';
import { createTables } from './0001_initial.js';

const TABLES = [
  {
    name: 'rebuild_targets',
    // A surrogate id, with the repository unique: a lone integer primary key would be SQLite's rowid (an
    // autoincrementing column) but a plain bigint on PostgreSQL, and the engines' schemas must match.
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      // github-dispatch | webhook
      'kind text',
      'target_enc text',
      'secret_enc text?',
      'enabled flag =1',
      'updated_at bigint',
    ],
    unique: [['repository_id']],
  },
  {
    name: 'rebuild_triggers',
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      'image_digest text',
      'set_hash text',
      // pending | sending | sent | failed | unknown
      "state text ='pending'",
      'payload json',
      'last_error text?',
      'sent_at bigint?',
    ],
    unique: [['image_digest', 'set_hash']],
  },
] as const;

export function rebuildMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await createTables(db, dialect, TABLES);
    },
  };
}
