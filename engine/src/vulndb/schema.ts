import { LadingError } from '../errors/lading-error.js';
import type { OsvRecord } from '../model/osv.js';
import type { SqliteDatabase, SqliteStatement } from '../sqlite-driver.js';
import { decodeRecord } from './codec.js';
import { packageRows, recordHead } from './package-rows.js';

/**
 * Bump when the layout changes; an older Lading refuses a newer file rather than corrupting it.
 * 2: `packages` carries each package's `affected` entries, so matching reads whole records only for hits.
 * 3: SUSE release keys are the service pack alone, and rows keep `rpmmod=` purls (Red Hat module streams).
 *    Derived rows only: an older store is rebuilt from its own records by `db update`/`db import`.
 */
export const SCHEMA_VERSION = 3;

const CREATE = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- One row per (dump it came from, record id): a GHSA that names two ecosystems is stored under each dump,
-- so replacing one dump never deletes another's copy.
-- A rowid table: its rows carry KB-sized blobs, which WITHOUT ROWID b-trees store poorly.
CREATE TABLE IF NOT EXISTS records (
  source TEXT NOT NULL, id TEXT NOT NULL, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_id ON records (source, id);
-- One row per (package, release, record) that is not withdrawn, clustered by package: a lookup reads a page or
-- two. \`affected\` is the JSON of that package's entries for the release (package-rows.ts); \`heads\` holds the
-- rest of the record, once per package, read only for hits.
CREATE TABLE IF NOT EXISTS packages (
  ecosystem TEXT NOT NULL, name TEXT NOT NULL, release TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL,
  modified TEXT NOT NULL, affected TEXT NOT NULL,
  PRIMARY KEY (ecosystem, name, release, source, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packages_by_record ON packages (source, id);
CREATE TABLE IF NOT EXISTS heads (
  ecosystem TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, head TEXT NOT NULL,
  PRIMARY KEY (ecosystem, name, source, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS heads_by_record ON heads (source, id);
CREATE TABLE IF NOT EXISTS aliases (
  alias TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (alias, source, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_by_record ON aliases (source, id);
CREATE TABLE IF NOT EXISTS ecosystems (
  name TEXT PRIMARY KEY, records INTEGER NOT NULL DEFAULT 0, updated_at TEXT, full_at TEXT, origin TEXT,
  etag TEXT, last_modified TEXT, high_water TEXT, needed_at TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kev (cve TEXT PRIMARY KEY, date_added TEXT, ransomware TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL) WITHOUT ROWID;
`;

/** A file from a newer Lading: exit 3, and nothing is read or written. */
export class NewerSchemaError extends LadingError {
  constructor(path: string, version: number) {
    super(
      'DB',
      `${path}: database schema version ${version} is newer than this Lading understands (${SCHEMA_VERSION}); upgrade Lading or use another database folder (the dbDir option)`,
      { option: 'dbDir' },
    );
  }
}

/** Throws DB (exit 3) for a file written by a newer Lading, before anything is written to it. */
export function checkSchemaVersion(db: SqliteDatabase, path: string): number {
  const version = db.pragmaValue('user_version') as number;
  if (version > SCHEMA_VERSION) {
    throw new NewerSchemaError(path, version);
  }
  return version;
}

/** A file from an older Lading, opened where it is not upgraded (scans): exit 3 with what to do. */
export class OlderSchemaError extends LadingError {
  constructor(path: string, version: number) {
    super(
      'DB',
      `${path}: database schema version ${version} is older than this Lading reads (${SCHEMA_VERSION}): run \`lading db update\` (or \`lading db import\` offline) to upgrade it`,
    );
  }
}

export const INSERT_PACKAGE =
  'INSERT OR IGNORE INTO packages (ecosystem, name, release, source, id, modified, affected) VALUES (?, ?, ?, ?, ?, ?, ?)';
export const INSERT_HEAD = 'INSERT OR IGNORE INTO heads (ecosystem, name, source, id, head) VALUES (?, ?, ?, ?, ?)';

/** The derived rows of one record: its packages' affected entries and, once per package, its head. */
export function insertDerived(
  db: SqliteDatabase,
  source: string,
  id: string,
  modified: string,
  record: OsvRecord,
): void {
  const rows = packageRows(record);
  if (rows.length === 0) return;
  const head = recordHead(record);
  const addPackage = statement(db, INSERT_PACKAGE);
  const addHead = statement(db, INSERT_HEAD);
  for (const row of rows) {
    addPackage.run(row.ecosystem, row.name, row.release, source, id, modified, row.affected);
    addHead.run(row.ecosystem, row.name, source, id, head);
  }
}

const prepared = new WeakMap<SqliteDatabase, Map<string, SqliteStatement>>();

function statement(db: SqliteDatabase, sql: string): SqliteStatement {
  let byText = prepared.get(db);
  if (!byText) {
    byText = new Map();
    prepared.set(db, byText);
  }
  let stmt = byText.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    byText.set(sql, stmt);
  }
  return stmt;
}

/**
 * Creates the tables, upgrading an older layout in place first. The upgrade rebuilds the derived `packages`
 * table from the stored records (nothing is downloaded again) in one IMMEDIATE transaction, so concurrent
 * readers see either the old file or the new one, and a second writer that waited re-checks and does nothing.
 */
export function createSchema(db: SqliteDatabase): void {
  // the common case writes nothing, so opening never waits for an update that holds the write lock
  if ((db.pragmaValue('user_version') as number) === SCHEMA_VERSION) return;
  db.transaction(() => {
    const version = db.pragmaValue('user_version') as number;
    if (version > SCHEMA_VERSION) return;
    if (version > 0 && version < SCHEMA_VERSION) rebuildPackages(db);
    db.exec(CREATE);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }, 'immediate');
}

const REBUILD_CHUNK = 2000;

function rebuildPackages(db: SqliteDatabase): void {
  db.exec('DROP TABLE IF EXISTS packages');
  db.exec('DROP TABLE IF EXISTS heads');
  db.exec(CREATE);
  const page = db.prepare(
    'SELECT rowid AS rowid, source, id, modified, data FROM records WHERE rowid > ? AND withdrawn = 0 ORDER BY rowid LIMIT ?',
  );
  let after = 0;
  for (;;) {
    // paged, not iterated: better-sqlite3 allows no writes on a connection while a statement iterates
    const rows = page.all(after, REBUILD_CHUNK) as {
      rowid: number;
      source: string;
      id: string;
      modified: string;
      data: Uint8Array;
    }[];
    if (rows.length === 0) return;
    for (const row of rows) insertDerived(db, row.source, row.id, row.modified, decodeRecord(row.data));
    after = rows[rows.length - 1]!.rowid;
  }
}
