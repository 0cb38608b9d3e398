import type Database from 'better-sqlite3';
import { LadingError } from '../errors/lading-error.js';

/** Bump when the layout changes; an older Lading refuses a newer file rather than corrupting it. */
export const SCHEMA_VERSION = 1;

const CREATE = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- One row per (dump it came from, record id): a GHSA that names two ecosystems is stored under each dump,
-- so replacing one dump never deletes another's copy.
-- A rowid table: its rows carry KB-sized blobs, which WITHOUT ROWID b-trees store poorly.
CREATE TABLE IF NOT EXISTS records (
  source TEXT NOT NULL, id TEXT NOT NULL, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_id ON records (source, id);
CREATE TABLE IF NOT EXISTS packages (
  ecosystem TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (ecosystem, name, source, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packages_by_record ON packages (source, id);
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
      `${path}: database schema version ${version} is newer than this Lading understands (${SCHEMA_VERSION}); upgrade Lading or use another --db-dir`,
    );
  }
}

/** Throws DB (exit 3) for a file written by a newer Lading, before anything is written to it. */
export function checkSchemaVersion(db: Database.Database, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new NewerSchemaError(path, version);
  }
  return version;
}

export function createSchema(db: Database.Database): void {
  db.exec(CREATE);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}
