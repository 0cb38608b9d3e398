import type { SqliteDatabase } from './sqlite-driver.js';

/**
 * SQLite files Lading did not write itself (an image's rpm database, a shared or imported vulnerability store) are
 * programs as much as data: a view or trigger runs arbitrary SQL whenever a table name is read (a recursive view
 * named `Packages` never returns, and neither SQLite driver has a progress handler to stop it). Before the first query,
 * such a file is checked to hold only plain tables (and their indexes) of the expected names.
 */
export interface SqliteShape {
  /** Tables that must exist, as plain tables. */
  required: readonly string[];
  /** Every table the file may hold (SQLite's own `sqlite_*` tables aside); undefined: any plain table. */
  allowed?: ReadonlySet<string>;
}

/** More schema objects than this is not a database either reader knows (rpm has ~20, the store ~15). */
const MAX_SCHEMA_OBJECTS = 1000;

/**
 * Turns off functions with side effects in the schema (`trusted_schema`) and checks the schema table: no views, no
 * triggers, no virtual tables, the required tables present and nothing outside `allowed`. Returns the reason the
 * file is refused, or undefined when it may be read. Reading `sqlite_master` runs no user SQL.
 */
export function sqliteShapeProblem(db: SqliteDatabase, shape: SqliteShape): string | undefined {
  db.pragma('trusted_schema = OFF');
  const rows = db.prepare('SELECT type, name, sql FROM sqlite_master LIMIT ?').all(MAX_SCHEMA_OBJECTS + 1) as {
    type: string;
    name: string;
    sql: string | null;
  }[];
  if (rows.length > MAX_SCHEMA_OBJECTS) return `more than ${MAX_SCHEMA_OBJECTS} schema objects`;
  const tables = new Set<string>();
  for (const row of rows) {
    const name = JSON.stringify(row.name);
    if (row.type === 'view' || row.type === 'trigger') return `it holds a ${row.type} (${name}), not only tables`;
    if (row.type !== 'table') continue;
    if (/^\s*create\s+virtual\b/i.test(row.sql ?? '')) return `it holds a virtual table (${name})`;
    if (row.name.toLowerCase().startsWith('sqlite_')) continue;
    if (shape.allowed && !shape.allowed.has(row.name)) return `unexpected table ${name}`;
    tables.add(row.name);
  }
  const missing = shape.required.find((name) => !tables.has(name));
  return missing === undefined ? undefined : `no table ${JSON.stringify(missing)}`;
}
