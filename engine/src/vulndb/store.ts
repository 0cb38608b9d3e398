import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import type { OsvAffected, OsvRecord } from '../model/osv.js';
import { openSqlite, type SqliteDatabase, type SqliteStatement } from '../sqlite-driver.js';
import { sqliteShapeProblem } from '../sqlite-guard.js';
import { baseEcosystem, releaseKey } from './names.js';

export const DB_FILE = 'vulndb.sqlite';

export interface EcosystemState {
  name: string;
  records: number;
  updatedAt?: string;
  fullAt?: string;
  origin?: string;
  etag?: string;
  lastModified?: string;
  /** Newest `modified` applied: the `modified_id.csv` high-water mark. */
  highWater?: string;
  /** When a scan last needed it, as stored by Lading versions that wrote this into the database (needed.ts). */
  neededAt?: string;
}

export interface EpssScore {
  score: number;
  percentile?: number;
}

export interface KevEntry {
  cve: string;
  dateAdded?: string;
  ransomware?: string;
}

/**
 * A package as the store keys it: the base ecosystem (`Debian`, not `Debian:12`) and the name normalised as
 * lookups normalise it (`normalizePackageName`: PyPI's `Foo_Bar` is `foo-bar`). What an update reports as moved.
 */
export interface PackageKey {
  ecosystem: string;
  name: string;
}

/**
 * A record that names a package, before its text is parsed: the matcher evaluates `affected` (that package's
 * entries only) and calls `record()` just for the hits. That record is the stored head (package-rows.ts): all
 * fields but `affected`, which keeps only CVSS vectors, and `details` capped at 4 kB. A candidate belongs to the
 * snapshot it was read in: call `record()` inside that same `snapshot()`.
 */
export interface AdvisoryCandidate {
  id: string;
  affected: OsvAffected[];
  record(): OsvRecord;
}

export function dbPath(dir: string): string {
  return join(dir, DB_FILE);
}

const STATE_COLUMNS: Record<Exclude<keyof EcosystemState, 'name' | 'records'>, string> = {
  updatedAt: 'updated_at',
  fullAt: 'full_at',
  origin: 'origin',
  etag: 'etag',
  lastModified: 'last_modified',
  highWater: 'high_water',
  neededAt: 'needed_at',
};

/** The column of an ecosystem-state field, or undefined for a key that is not one. */
export function stateColumn(key: string): string | undefined {
  return STATE_COLUMNS[key as keyof typeof STATE_COLUMNS];
}

interface EcosystemRow {
  name: string;
  records: number;
  updated_at: string | null;
  full_at: string | null;
  origin: string | null;
  etag: string | null;
  last_modified: string | null;
  high_water: string | null;
  needed_at: string | null;
}

/**
 * What the reader and the writer share: one SQLite connection, its prepared statements, and the reads both
 * need (status, ecosystem state, meta). Internal: the public faces are VulnStoreReader and VulnStoreWriter.
 */
export abstract class StoreConnection {
  /** The folder as the caller named it (messages quote it as given). */
  readonly dir: string;
  readonly path: string;
  protected readonly db: SqliteDatabase;
  private readonly statements = new Map<string, SqliteStatement>();

  protected constructor(dir: string, path: string, db: SqliteDatabase) {
    this.dir = dir;
    this.path = path;
    this.db = db;
  }

  close(): void {
    this.db.close();
  }

  meta(key: string): string | undefined {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  ecosystems(): EcosystemState[] {
    const rows = this.stmt('SELECT * FROM ecosystems ORDER BY name').all() as EcosystemRow[];
    return rows.map(rowToState);
  }

  ecosystem(name: string): EcosystemState | undefined {
    const row = this.stmt('SELECT * FROM ecosystems WHERE name = ?').get(name) as EcosystemRow | undefined;
    return row ? rowToState(row) : undefined;
  }

  /**
   * The records an ecosystem's own dump files under one release (`Debian:12`, `npm`; matched as lookups match it,
   * by `releaseKey`), and the newest one's `modified`. Only the release's own dump counts: a GHSA that the npm dump
   * carries and that also names a PyPI package says nothing about PyPI as a whole.
   */
  releaseRecords(ecosystem: string): { records: number; newestRecord?: string } {
    const base = baseEcosystem(ecosystem);
    const row = this.stmt(
      'SELECT count(DISTINCT id) AS n, max(modified) AS m FROM packages WHERE ecosystem = ? AND release = ? AND source = ?',
    ).get(base, releaseKey(ecosystem), base) as { n: number; m: string | null };
    return row.m ? { records: row.n, newestRecord: row.m } : { records: row.n };
  }

  /** Every release each ecosystem's own dump files records under, with their count and newest `modified`. */
  releases(): { ecosystem: string; release: string; records: number; newestRecord?: string }[] {
    const rows = this.stmt(
      'SELECT ecosystem, release, count(DISTINCT id) AS n, max(modified) AS m FROM packages WHERE source = ecosystem GROUP BY ecosystem, release ORDER BY ecosystem, release',
    ).all() as { ecosystem: string; release: string; n: number; m: string | null }[];
    return rows.map((r) => ({
      ecosystem: r.ecosystem,
      release: r.release,
      records: r.n,
      ...(r.m ? { newestRecord: r.m } : {}),
    }));
  }

  count(table: 'kev' | 'epss'): number {
    return (this.stmt(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  protected stmt(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** Every table a store may hold (schema.ts); anything else means the file is not one Lading wrote. */
const STORE_TABLES: ReadonlySet<string> = new Set([
  'meta',
  'records',
  'packages',
  'heads',
  'aliases',
  'ecosystems',
  'kev',
  'epss',
]);

/**
 * Opens the store file. A store may be shared or handed over, so it is trusted no more than any input: a path that
 * is not a regular file (a named pipe would block the open forever) is refused before SQLite opens it, and a file
 * holding views, triggers or tables of its own is refused before any query runs one (sqlite-guard.ts).
 */
export function openDatabase(path: string, readonly: boolean): SqliteDatabase {
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) {
    throw new LadingError('DB', `${path}: cannot open vulnerability database: not a regular file`);
  }
  let db: SqliteDatabase | undefined;
  try {
    db = openSqlite(path, { readonly });
    const problem = sqliteShapeProblem(db, { required: [], allowed: STORE_TABLES });
    if (problem !== undefined) throw new LadingError('DB', `${path}: refusing vulnerability database: ${problem}`);
    return db;
  } catch (err) {
    db?.close();
    throw wrapDbError(err, path);
  }
}

export function wrapDbError(err: unknown, path: string): LadingError {
  if (err instanceof LadingError) return err;
  const message = thrownValueText(err);
  return new LadingError('DB', `${path}: cannot open vulnerability database: ${message}`, { cause: err });
}

function rowToState(row: EcosystemRow): EcosystemState {
  const state: EcosystemState = { name: row.name, records: row.records };
  if (row.updated_at) state.updatedAt = row.updated_at;
  if (row.full_at) state.fullAt = row.full_at;
  if (row.origin) state.origin = row.origin;
  if (row.etag) state.etag = row.etag;
  if (row.last_modified) state.lastModified = row.last_modified;
  if (row.high_water) state.highWater = row.high_water;
  if (row.needed_at) state.neededAt = row.needed_at;
  return state;
}
