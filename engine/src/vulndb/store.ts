import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LadingError } from '../errors/lading-error.js';
import type { OsvAffected, OsvRecord } from '../model/osv.js';
import { decodeRecord, encodeRecord } from './codec.js';
import { baseEcosystem, normalizePackageName, releaseKey } from './names.js';
import { checkSchemaVersion, createSchema, insertDerived, OlderSchemaError, SCHEMA_VERSION } from './schema.js';

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

/**
 * A record that names a package, before its text is parsed: the matcher evaluates `affected` (that package's
 * entries only) and calls `record()` just for the hits. That record is the stored head (package-rows.ts): all
 * fields but `affected`, which keeps only CVSS vectors, and `details` capped at 4 kB.
 */
export interface AdvisoryCandidate {
  id: string;
  affected: OsvAffected[];
  record(): OsvRecord;
}

/** CVEs per EPSS query: well under SQLite's 32,766 bound parameters, few enough statements to cache. */
const EPSS_CHUNK = 500;

/** Memory maps the file for reads: thousands of lookups jump around it, and a mapped page costs no read syscall. */
const READ_MMAP_BYTES = 1 << 30;

export function dbPath(dir: string): string {
  return join(dir, DB_FILE);
}

/** The local OSV store: one SQLite file, WAL, so scans keep reading the old data while an update writes. */
export class VulnStore {
  readonly path: string;
  private readonly db: Database.Database;
  // Read-side memos: a scan asks for the same source package (libc6, libc-bin, … → glibc) and CVE many times.
  private readonly lookups = new Map<string, AdvisoryCandidate[]>();
  private readonly heads = new Map<string, OsvRecord>();
  private readonly headTexts = new Map<string, Map<string, string>>();
  private readonly epssCache = new Map<string, EpssScore | undefined>();
  private kevIds: Set<string> | undefined;
  private inTransaction = false;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
  }

  /**
   * Opens (creating or upgrading when needed) for writing; refuses a file of a newer schema before writing
   * anything. `busyTimeoutMs` bounds the wait for another writer (a scan's best-effort bookkeeping waits little).
   * `upgrade: false` leaves an older layout alone (the upgrade reads every record: a minute on a full store),
   * throwing OlderSchemaError instead; `db update` and `db import` upgrade.
   */
  static openForWrite(dir: string, options: { busyTimeoutMs?: number; upgrade?: boolean } = {}): VulnStore {
    mkdirSync(dir, { recursive: true });
    const path = dbPath(dir);
    const db = openDatabase(path, false);
    try {
      const version = checkSchemaVersion(db, path);
      if (options.upgrade === false && version > 0 && version < SCHEMA_VERSION) {
        throw new OlderSchemaError(path, version);
      }
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
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
      if (version < SCHEMA_VERSION) throw new OlderSchemaError(path, version);
      db.pragma(`mmap_size = ${READ_MMAP_BYTES}`);
    } catch (err) {
      db.close();
      throw wrapDbError(err, path);
    }
    return new VulnStore(path, db);
  }

  /**
   * Runs reads in one read transaction: every query sees the same committed state, even if an update commits
   * meanwhile (a package's candidates and their heads are read by separate queries).
   */
  snapshot<T>(read: () => T): T {
    return this.db.transaction(read)();
  }

  close(): void {
    if (this.inTransaction) this.rollback();
    this.db.close();
  }

  // --- writing: explicit transactions so async producers (zip entries, downloads) can feed one of them.

  begin(): void {
    this.lookups.clear();
    this.heads.clear();
    this.headTexts.clear();
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
    this.stmt('DELETE FROM heads WHERE source = ?').run(source);
    this.stmt('DELETE FROM aliases WHERE source = ?').run(source);
  }

  /** Inserts or replaces one record. `fresh` skips the per-record cleanup after `clearSource`. */
  putRecord(source: string, record: OsvRecord, fresh = false): void {
    if (!fresh) {
      this.stmt('DELETE FROM packages WHERE source = ? AND id = ?').run(source, record.id);
      this.stmt('DELETE FROM heads WHERE source = ? AND id = ?').run(source, record.id);
      this.stmt('DELETE FROM aliases WHERE source = ? AND id = ?').run(source, record.id);
    }
    this.stmt('INSERT OR REPLACE INTO records (source, id, modified, withdrawn, data) VALUES (?, ?, ?, ?, ?)').run(
      source,
      record.id,
      record.modified,
      record.withdrawn ? 1 : 0,
      encodeRecord(record),
    );
    // a withdrawn record stays (status, updates) but names no package: it can never match
    if (!record.withdrawn) insertDerived(this.db, source, record.id, record.modified, record);
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

  /** Records naming a package (any release of the ecosystem), one per id (the newest copy), read whole. */
  recordsFor(ecosystem: string, name: string): OsvRecord[] {
    const rows = this.stmt(
      'SELECT r.id AS id, r.modified AS modified, r.data AS data FROM heads h JOIN records r ON r.source = h.source AND r.id = h.id WHERE h.ecosystem = ? AND h.name = ?',
    ).all(baseEcosystem(ecosystem), normalizePackageName(ecosystem, name)) as {
      id: string;
      modified: string;
      data: Buffer;
    }[];
    const byId = new Map<string, { modified: string; data: Buffer }>();
    for (const row of rows) {
      const known = byId.get(row.id);
      if (!known || row.modified > known.modified) byId.set(row.id, row);
    }
    return [...byId.values()].map((row) => decodeRecord(row.data));
  }

  /** What names a package in that release (see `releaseKey`), one per id (the newest copy); memoised. */
  candidatesFor(ecosystem: string, name: string): AdvisoryCandidate[] {
    const base = baseEcosystem(ecosystem);
    const normalized = normalizePackageName(ecosystem, name);
    const release = releaseKey(ecosystem);
    const key = `${release}\u0000${normalized}`;
    let candidates = this.lookups.get(key);
    if (!candidates) {
      candidates = this.queryCandidates(base, normalized, release);
      this.lookups.set(key, candidates);
    }
    return candidates;
  }

  private queryCandidates(ecosystem: string, name: string, release: string): AdvisoryCandidate[] {
    const rows = this.stmt(
      'SELECT source, id, modified, affected FROM packages WHERE ecosystem = ? AND name = ? AND release = ?',
    ).all(ecosystem, name, release) as { source: string; id: string; modified: string; affected: string }[];
    const newest = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const known = newest.get(row.id);
      if (!known || row.modified > known.modified) newest.set(row.id, row);
    }
    const candidates: AdvisoryCandidate[] = [];
    for (const row of newest.values()) {
      let affected: OsvAffected[];
      try {
        affected = JSON.parse(row.affected) as OsvAffected[];
      } catch (err) {
        throw new LadingError('DB', `${this.path}: damaged package row for ${row.id}: ${(err as Error).message}`);
      }
      candidates.push({ id: row.id, affected, record: () => this.head(ecosystem, name, row.source, row.id) });
    }
    return candidates;
  }

  /**
   * A hit's head, parsed once per store (a CVE hits many packages' lookups). The first hit of a package reads
   * the heads of all its records in one query: they sit together in the table, and one read beats one per hit.
   */
  private head(ecosystem: string, name: string, source: string, id: string): OsvRecord {
    const key = `${source}\u0000${id}`;
    const parsed = this.heads.get(key);
    if (parsed) return parsed;
    const packageKey = `${ecosystem}\u0000${name}`;
    let texts = this.headTexts.get(packageKey);
    if (!texts) {
      const rows = this.stmt('SELECT source, id, head FROM heads WHERE ecosystem = ? AND name = ?').all(
        ecosystem,
        name,
      ) as { source: string; id: string; head: string }[];
      texts = new Map(rows.map((r) => [`${r.source}\u0000${r.id}`, r.head]));
      this.headTexts.set(packageKey, texts);
    }
    const text = texts.get(key);
    if (text === undefined) {
      throw new LadingError('DB', `${this.path}: record ${id} is indexed but missing (run \`lading db update\`)`);
    }
    let record: OsvRecord;
    try {
      record = JSON.parse(text) as OsvRecord;
    } catch (err) {
      throw new LadingError('DB', `${this.path}: damaged record head for ${id}: ${(err as Error).message}`);
    }
    this.heads.set(key, record);
    return record;
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

  /** Reads the scores of many CVEs in chunks; `epss()` then answers them (and the absent ones) from memory. */
  prefetchEpss(cves: Iterable<string>): void {
    const wanted = [...cves].filter((cve) => !this.epssCache.has(cve));
    for (let i = 0; i < wanted.length; i += EPSS_CHUNK) {
      const chunk = wanted.slice(i, i + EPSS_CHUNK);
      for (const cve of chunk) this.epssCache.set(cve, undefined);
      const rows = this.epssChunk(chunk.length).all(...chunk) as {
        cve: string;
        score: number;
        percentile: number | null;
      }[];
      for (const row of rows) {
        this.epssCache.set(
          row.cve,
          row.percentile === null ? { score: row.score } : { score: row.score, percentile: row.percentile },
        );
      }
    }
  }

  private epssChunk(size: number): Database.Statement {
    return this.stmt(`SELECT cve, score, percentile FROM epss WHERE cve IN (${'?,'.repeat(size - 1)}?)`);
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
