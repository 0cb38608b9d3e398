// 0006: GitHub issues per image (SERVER.md section 1, "github_issues"; section 3). One issue per repository track and
// GitHub repository; `github_posts` records each comment posted for an (issue, digest, finding set), so a sync that
// runs again for the same state makes no GitHub call at all. (The comments also carry the marker on GitHub, which
// covers a crash between a POST and this record.)
import type { Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';
import { createTables } from './0001_initial.js';

const TABLES = [
  {
    name: 'github_issues',
    columns: [
      'id id',
      'repository_id bigint -> repositories.id cascade',
      'track text',
      'gh_repo text',
      'number int?',
      // open | closed | none
      'state text',
      'closed_at bigint?',
      'last_set_hash text?',
      'last_digest text?',
      'updated_at bigint',
    ],
    unique: [['repository_id', 'track', 'gh_repo']],
  },
  {
    name: 'github_posts',
    columns: [
      'issue_id bigint -> github_issues.id cascade',
      'image_digest text',
      'set_hash text',
      'comment_id bigint?',
      'action text',
    ],
    primaryKey: ['issue_id', 'image_digest', 'set_hash'],
  },
] as const;

export function githubMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await createTables(db, dialect, TABLES);
    },
  };
}
