// Indexes for the read API: tags by the image they point at (both engines), and the prefix searches on PostgreSQL (SERVER.md section 1: "PostgreSQL-only:
// text_pattern_ops"). The read queries match prefixes with `LIKE 'text%'`; PostgreSQL serves that from a btree only
// under the C collation or with `text_pattern_ops`, and clusters are commonly created with another collation
// (C.UTF-8, en_US.UTF-8), so without these the search box scans every package and alias. SQLite's LIKE folds ASCII
// case and uses no index for it either way; its tables are small enough (the embedded mode's few thousand images)
// that the scans stay cheap, so it gets no new index here.
import { type Migration, sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/** [index name, table, column] of each prefix-searched column. */
export const PATTERN_INDEXES: readonly (readonly [string, string, string])[] = [
  ['packages_name_lc_pattern_idx', 'packages', 'name_lc'],
  ['packages_purl_pattern_idx', 'packages', 'purl'],
  ['vuln_aliases_alias_pattern_idx', 'vuln_aliases', 'alias'],
  ['images_digest_pattern_idx', 'images', 'digest'],
];

export function readIndexesMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      // Both engines: list items and the detail page name the tags now pointing at an image
      // (`tags.current_image_id IN (…)`), which otherwise scans every tag (two per build).
      await db.schema.createIndex('tags_current_image_idx').on('tags').column('current_image_id').execute();
      if (dialect !== 'postgres') return;
      for (const [name, table, column] of PATTERN_INDEXES) {
        await sql`create index ${sql.id(name)} on ${sql.id(table)} (${sql.id(column)} text_pattern_ops)`.execute(db);
      }
    },
    // forward-only (SERVER.md section 1): there is no down migration
  };
}
