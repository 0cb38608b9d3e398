// 0010: what re-analysis needs to match a stored package again without reading the image's inventory back from the
// blob store (issue 18, "Performance"; SERVER.md section 3: a batch "matches its distinct versions in memory" and
// diffs the result against findings through package_occurrences).
// - `packages.match_extra`: the part of the package the matcher reads that the row's columns do not hold: its source
//   package (name and version, or none) and its metadata, as canonical JSON (`{"s":…,"m":…}`). `*` when two
//   inventories holding the same purl disagreed (the row cannot stand for both); NULL for rows written before 0010.
//   Either of the last two sends re-analysis back to the stored inventories for the images holding it.
// - `images.match_os`: the inventory's OS release as the matcher reads it (`{"family","version","ecosystem"}`), or
//   the JSON `null` when the inventory named none; NULL (SQL) for images stored before 0010.
import type { Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

export function matchInputsMigration(_dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await db.schema.alterTable('packages').addColumn('match_extra', 'text').execute();
      await db.schema.alterTable('images').addColumn('match_os', 'text').execute();
    },
  };
}
