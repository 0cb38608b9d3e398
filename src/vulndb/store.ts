import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LadingError } from '../errors/lading-error.js';
import type { OsvRecord } from '../model/osv.js';
import { decodeRecord, encodeRecord } from './codec.js';
import { baseEcosystem, normalizePackageName } from './names.js';
import { checkSchemaVersion, createSchema } from './schema.js';

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

const STATE_COLUMNS: Record<Exclude<keyof EcosystemState, 'name' | 'records'>, string> = {
  updatedAt: 'updated_at',
  fullAt: 'full_at',
  origin: 'origin',
  etag: 'etag',
  lastModified: 'last_modified',
  highWater: 'high_water',
  neededAt: 'needed_at',
};

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

export function dbPath(dir: string): string {
  return join(dir, DB_FILE);
}

/** The local OSV store: one SQLite file, WAL, so scans keep reading the old data while an update writes. */
export class VulnStore {
  readonly path: string;
  private readonly db: Database.Database;
  // Read-side memos: a scan asks for the same source package (libc6, libc-bin, … → glibc) and CVE many times.
  private readonly lookups = new Map<string, OsvRecord[]>();
  private readonly epssCache = new Map<string, EpssScore | undefined>();
  private kevIds: Set<string> | undefined;
  private inTransaction = false;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
  }

  /** Opens (creating when needed) for writing; refuses a file of a newer schema before writing anything. */
  static openForWrite(dir: string): VulnStore {
    mkdirSync(dir, { recursive: true });
    const path = dbPath(dir);
    const db = openDatabase(path, false);
    try {
      checkSchemaVersion(db, path);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 10000');
      db.pragma('synchronous = NORMAL');
      createSchema(db);
    } catch (err) {
      db.close();
      throw wrapDbError(err, path);
    }
    return new VulnStore(path, db);
  }

  /** Undefined when there is no database file yet. */
  static openReadOnly(dir: string): VulnStore | undefined {
    const path = dbPath(dir);
    if (!existsSync(path)) return undefined;
    const db = openDatabase(path, true);
    try {
      const version = checkSchemaVersion(db, path);
      if (version === 0) {
        db.close();
        return undefined;
      }
    } catch (err) {
      db.close();
      throw wrapDbError(err, path);
    }
    return new VulnStore(path, db);
  }

  close(): void {
    if (this.inTransaction) this.rollback();
    this.db.close();
  }

  // --- writing: explicit transactions so async producers (zip entries, downloads) can feed one of them.

  begin(): void {
    this.lookups.clear();
    this.epssCache.clear();
    this.kevIds = undefined;
    this.db.exec('BEGIN IMMEDIATE');
    this.inTransaction = true;
  }

  commit(): void {
    this.db.exec('COMMIT');
    this.inTransaction = false;
  }

  rollback(): void {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // SQLite may already have rolled back (e.g. after SQLITE_FULL); nothing left to undo.
    }
  }

  /** Deletes every record a dump brought, before a full refresh of that dump. */
  clearSource(source: string): void {
    this.stmt('DELETE FROM records WHERE source = ?').run(source);
    this.stmt('DELETE FROM packages WHERE source = ?').run(source);
    this.stmt('DELETE FROM aliases WHERE source = ?').run(source);
  }

  /** Inserts or replaces one record. `fresh` skips the per-record cleanup after `clearSource`. */
  putRecord(source: string, record: OsvRecord, fresh = false): void {
    if (!fresh) {
      this.stmt('DELETE FROM packages WHERE source = ? AND id = ?').run(source, record.id);
      this.stmt('DELETE FROM aliases WHERE source = ? AND id = ?').run(source, record.id);
    }
    this.stmt('INSERT OR REPLACE INTO records (source, id, modified, withdrawn, data) VALUES (?, ?, ?, ?, ?)').run(
      source,
      record.id,
      record.modified,
      record.withdrawn ? 1 : 0,
      encodeRecord(record),
    );
    const addPackage = this.stmt('INSERT OR IGNORE INTO packages (ecosystem, name, source, id) VALUES (?, ?, ?, ?)');
    for (const affected of record.affected ?? []) {
      const pkg = affected.package;
      if (!pkg?.ecosystem || !pkg.name) continue;
      addPackage.run(baseEcosystem(pkg.ecosystem), normalizePackageName(pkg.ecosystem, pkg.name), source, record.id);
    }
    const addAlias = this.stmt('INSERT OR IGNORE INTO aliases (alias, source, id) VALUES (?, ?, ?)');
    for (const alias of [...(record.aliases ?? []), ...(record.upstream ?? [])]) {
      if (typeof alias === 'string') addAlias.run(alias, source, record.id);
    }
  }

  /** Newest `modified` of a dump's records (the incremental-update watermark after an import). */
  newestModified(source: string): string | undefined {
    const row = this.stmt('SELECT max(modified) AS m FROM records WHERE source = ?').get(source) as {
      m: string | null;
    };
    return row.m ?? undefined;
  }

  setEcosystemState(name: string, state: Partial<Omit<EcosystemState, 'name' | 'records'>>): void {
    this.stmt('INSERT OR IGNORE INTO ecosystems (name) VALUES (?)').run(name);
    for (const [key, value] of Object.entries(state)) {
      const column = STATE_COLUMNS[key as keyof typeof STATE_COLUMNS];
      if (!column) continue;
      this.db.prepare(`UPDATE ecosystems SET ${column} = ? WHERE name = ?`).run(value ?? null, name);
    }
  }

  /** Recounts a dump's records; called before commit so status never disagrees with the data. */
  recount(name: string): number {
    const row = this.stmt('SELECT count(*) AS n FROM records WHERE source = ?').get(name) as { n: number };
    this.stmt('INSERT OR IGNORE INTO ecosystems (name) VALUES (?)').run(name);
    this.stmt('UPDATE ecosystems SET records = ? WHERE name = ?').run(row.n, name);
    return row.n;
  }

  markNeeded(names: Iterable<string>, when: Date): void {
    const insert = this.stmt('INSERT OR IGNORE INTO ecosystems (name) VALUES (?)');
    const update = this.stmt('UPDATE ecosystems SET needed_at = ? WHERE name = ?');
    this.db.transaction(() => {
      for (const name of names) {
        insert.run(name);
        update.run(when.toISOString(), name);
      }
    })();
  }

  replaceKev(entries: Iterable<KevEntry>, catalogVersion: string | undefined, when: Date): number {
    this.stmt('DELETE FROM kev').run();
    const insert = this.stmt('INSERT OR REPLACE INTO kev (cve, date_added, ransomware) VALUES (?, ?, ?)');
    let count = 0;
    for (const entry of entries) {
      insert.run(entry.cve, entry.dateAdded ?? null, entry.ransomware ?? null);
      count++;
    }
    this.setMeta('kev.catalogVersion', catalogVersion ?? '');
    this.setMeta('kev.updatedAt', when.toISOString());
    this.setMeta('kev.count', String(count));
    return count;
  }

  clearEpss(): void {
    this.stmt('DELETE FROM epss').run();
  }

  putEpss(cve: string, score: EpssScore): void {
    this.stmt('INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?, ?, ?)').run(
      cve,
      score.score,
      score.percentile ?? null,
    );
  }

  setMeta(key: string, value: string): void {
    this.stmt('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  // --- reading

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

  /** Records naming a package (any release of the ecosystem), one per id (the newest copy). */
  recordsFor(ecosystem: string, name: string): OsvRecord[] {
    const key = `${baseEcosystem(ecosystem)}\u0000${normalizePackageName(ecosystem, name)}`;
    let records = this.lookups.get(key);
    if (!records) {
      records = this.queryRecords(ecosystem, name);
      this.lookups.set(key, records);
    }
    return records;
  }

  private queryRecords(ecosystem: string, name: string): OsvRecord[] {
    const rows = this.stmt(
      'SELECT r.id AS id, r.modified AS modified, r.data AS data FROM packages p JOIN records r ON r.source = p.source AND r.id = p.id WHERE p.ecosystem = ? AND p.name = ? AND r.withdrawn = 0',
    ).all(baseEcosystem(ecosystem), normalizePackageName(ecosystem, name)) as {
      id: string;
      modified: string;
      data: Buffer;
    }[];
    const byId = new Map<string, OsvRecord>();
    for (const row of rows) {
      const known = byId.get(row.id);
      if (known && known.modified >= row.modified) continue;
      byId.set(row.id, decodeRecord(row.data));
    }
    return [...byId.values()];
  }

  kev(cve: string): KevEntry | undefined {
    // The catalog is ~1.5k CVEs: one query answers every later "is it known exploited?" without touching SQLite.
    this.kevIds ??= new Set((this.stmt('SELECT cve FROM kev').all() as { cve: string }[]).map((r) => r.cve));
    if (!this.kevIds.has(cve)) return undefined;
    const row = this.stmt('SELECT cve, date_added, ransomware FROM kev WHERE cve = ?').get(cve) as
      | { cve: string; date_added: string | null; ransomware: string | null }
      | undefined;
    if (!row) return undefined;
    const entry: KevEntry = { cve: row.cve };
    if (row.date_added) entry.dateAdded = row.date_added;
    if (row.ransomware) entry.ransomware = row.ransomware;
    return entry;
  }

  epss(cve: string): EpssScore | undefined {
    if (this.epssCache.has(cve)) return this.epssCache.get(cve);
    const row = this.stmt('SELECT score, percentile FROM epss WHERE cve = ?').get(cve) as
      | { score: number; percentile: number | null }
      | undefined;
    const score = !row
      ? undefined
      : row.percentile === null
        ? { score: row.score }
        : { score: row.score, percentile: row.percentile };
    this.epssCache.set(cve, score);
    return score;
  }

  count(table: 'kev' | 'epss'): number {
    return (this.stmt(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  /** A compact, self-contained copy (SQLite's own online copy: consistent even while an update runs). */
  exportTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  private readonly statements = new Map<string, Database.Statement>();

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function openDatabase(path: string, readonly: boolean): Database.Database {
  try {
    return new Database(path, readonly ? { readonly: true, fileMustExist: true } : {});
  } catch (err) {
    throw wrapDbError(err, path);
  }
}

function wrapDbError(err: unknown, path: string): LadingError {
  if (err instanceof LadingError) return err;
  const message = err instanceof Error ? err.message : String(err);
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
