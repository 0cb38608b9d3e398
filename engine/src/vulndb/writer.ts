import { mkdirSync } from 'node:fs';
import { LadingError } from '../errors/lading-error.js';
import type { OsvRecord } from '../model/osv.js';
import type { SqliteDatabase, SqliteStatement } from '../sqlite-driver.js';
import { encodeRecord } from './codec.js';
import { checkSchemaVersion, createSchema, insertDerived, OlderSchemaError, SCHEMA_VERSION } from './schema.js';
import {
  dbPath,
  type EcosystemState,
  type EpssScore,
  type KevEntry,
  openDatabase,
  type PackageKey,
  StoreConnection,
  stateColumn,
  wrapDbError,
} from './store.js';

export interface WriterOptions {
  /** How long to wait for another writer's lock (default 10 s). */
  busyTimeoutMs?: number;
  /**
   * `false` leaves an older layout alone (the upgrade reads every record: a minute on a full store), throwing
   * OlderSchemaError instead; `db update` and `db import` upgrade (the default).
   */
  upgrade?: boolean;
}

/**
 * The local OSV store opened for writing: `db update`, `db import`. All changes go through `transaction()`, so a
 * failure halfway (a cut download, a corrupt zip) leaves the file as it was, and readers in other processes
 * (VulnStoreReader) see the old state until the commit, then the new one.
 */
export class VulnStoreWriter extends StoreConnection {
  private active: WriteTransaction | undefined;

  private constructor(dir: string, path: string, db: SqliteDatabase) {
    super(dir, path, db);
  }

  /**
   * Opens, creating the folder and file or upgrading an older layout when needed; refuses a file of a newer
   * schema before writing anything.
   */
  static open(dir: string, options: WriterOptions = {}): VulnStoreWriter {
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
    return new VulnStoreWriter(dir, path, db);
  }

  /**
   * Runs `work` in one write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so two writers
   * queue instead of failing halfway): committed when `work` returns, rolled back when it throws. An async
   * `work` (streamed producers: zip entries, downloads feeding one transaction) gets a promise, settled after the
   * commit or rollback; a synchronous one commits before `transaction` returns. One at a time per writer.
   */
  transaction<T>(work: (tx: WriteTransaction) => Promise<T>): Promise<T>;
  transaction<T>(work: (tx: WriteTransaction) => T): T;
  transaction<T>(work: (tx: WriteTransaction) => T | Promise<T>): T | Promise<T> {
    if (this.active) throw new Error('VulnStoreWriter.transaction: a transaction is already open on this writer');
    this.db.exec('BEGIN IMMEDIATE');
    const tx = new WriteTransaction(this.db, (sql) => this.stmt(sql), this);
    this.active = tx;
    const end = (commit: boolean) => {
      tx.finish();
      this.active = undefined;
      if (commit) this.db.exec('COMMIT');
      else rollback(this.db);
    };
    let result: T | Promise<T>;
    try {
      result = work(tx);
    } catch (err) {
      end(false);
      throw err;
    }
    if (!(result instanceof Promise)) {
      commitOrRollBack(end);
      return result;
    }
    return result.then(
      (value) => {
        commitOrRollBack(end);
        return value;
      },
      (err: unknown) => {
        end(false);
        throw err;
      },
    );
  }

  /** Rolls back a transaction still open (a caller that gave up on its promise) before closing. */
  override close(): void {
    if (this.active) {
      this.active.finish();
      rollback(this.db);
      this.active = undefined;
    }
    super.close();
  }
}

/** A COMMIT that fails (disk full) must still leave no transaction open behind it. */
function commitOrRollBack(end: (commit: boolean) => void): void {
  try {
    end(true);
  } catch (err) {
    end(false);
    throw err;
  }
}

function rollback(db: SqliteDatabase): void {
  try {
    if (db.inTransaction) db.exec('ROLLBACK');
  } catch {
    // SQLite may already have rolled back (e.g. after SQLITE_FULL); nothing left to undo.
  }
}

/**
 * The writes of one open transaction; it also notes which packages' advisories moved. A record counts as changed
 * when it is new, gone, or its `modified` time or withdrawn state differs (OSV bumps `modified` with every
 * change); the packages reported are those its old and its new `affected` name.
 */
export class WriteTransaction {
  private open = true;
  /** Moved packages of records written one by one, as `ecosystem\0name`. */
  private readonly moved = new Set<string>();
  /** Dumps cleared for a full refresh: their moves are found at the end by comparing with `previous_packages`. */
  private readonly cleared = new Set<string>();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly stmt: (sql: string) => SqliteStatement,
    private readonly owner: StoreConnection,
  ) {}

  /** Deletes every record a dump brought, before a full refresh of that dump. */
  clearSource(source: string): void {
    this.check();
    if (!this.cleared.has(source)) {
      // What the dump named before, to compare with what it names once refilled (changedPackages).
      this.db.exec(
        'CREATE TEMP TABLE IF NOT EXISTS previous_packages (source TEXT, id TEXT, modified TEXT, ecosystem TEXT, name TEXT)',
      );
      this.db.exec('CREATE INDEX IF NOT EXISTS temp.previous_by_record ON previous_packages (source, id, modified)');
      this.stmt(
        'INSERT INTO temp.previous_packages SELECT DISTINCT source, id, modified, ecosystem, name FROM packages WHERE source = ?',
      ).run(source);
      this.cleared.add(source);
    }
    this.stmt('DELETE FROM records WHERE source = ?').run(source);
    this.stmt('DELETE FROM packages WHERE source = ?').run(source);
    this.stmt('DELETE FROM heads WHERE source = ?').run(source);
    this.stmt('DELETE FROM aliases WHERE source = ?').run(source);
  }

  /** Inserts or replaces one record. `fresh` skips the per-record cleanup after `clearSource`. */
  putRecord(source: string, record: OsvRecord, fresh = false): void {
    this.check();
    const tracked = !this.cleared.has(source);
    const withdrawn = record.withdrawn ? 1 : 0;
    let before: { modified: string; withdrawn: number } | undefined;
    if (tracked) {
      before = this.stmt('SELECT modified, withdrawn FROM records WHERE source = ? AND id = ?').get(
        source,
        record.id,
      ) as { modified: string; withdrawn: number } | undefined;
    }
    const changed = tracked && (before?.modified !== record.modified || before.withdrawn !== withdrawn);
    if (changed && before) this.notePackagesOf(source, record.id);
    if (!fresh) {
      this.stmt('DELETE FROM packages WHERE source = ? AND id = ?').run(source, record.id);
      this.stmt('DELETE FROM heads WHERE source = ? AND id = ?').run(source, record.id);
      this.stmt('DELETE FROM aliases WHERE source = ? AND id = ?').run(source, record.id);
    }
    this.stmt('INSERT OR REPLACE INTO records (source, id, modified, withdrawn, data) VALUES (?, ?, ?, ?, ?)').run(
      source,
      record.id,
      record.modified,
      withdrawn,
      encodeRecord(record),
    );
    // a withdrawn record stays (status, updates) but names no package: it can never match
    if (!record.withdrawn) insertDerived(this.db, source, record.id, record.modified, record);
    if (changed) this.notePackagesOf(source, record.id);
    const addAlias = this.stmt('INSERT OR IGNORE INTO aliases (alias, source, id) VALUES (?, ?, ?)');
    for (const alias of [...(record.aliases ?? []), ...(record.upstream ?? [])]) {
      if (typeof alias === 'string') addAlias.run(alias, source, record.id);
    }
  }

  /** Newest `modified` of a dump's records (the incremental-update watermark after an import). */
  newestModified(source: string): string | undefined {
    this.check();
    const row = this.stmt('SELECT max(modified) AS m FROM records WHERE source = ?').get(source) as {
      m: string | null;
    };
    return row.m ?? undefined;
  }

  /** An ecosystem's state as this transaction sees it (its own writes included). */
  ecosystem(name: string): EcosystemState | undefined {
    this.check();
    return this.owner.ecosystem(name);
  }

  setEcosystemState(name: string, state: Partial<Omit<EcosystemState, 'name' | 'records'>>): void {
    this.check();
    this.stmt('INSERT OR IGNORE INTO ecosystems (name) VALUES (?)').run(name);
    for (const [key, value] of Object.entries(state)) {
      const column = stateColumn(key);
      if (!column) continue;
      this.stmt(`UPDATE ecosystems SET ${column} = ? WHERE name = ?`).run(value ?? null, name);
    }
  }

  /** Recounts a dump's records; called before commit so status never disagrees with the data. */
  recount(name: string): number {
    this.check();
    const row = this.stmt('SELECT count(*) AS n FROM records WHERE source = ?').get(name) as { n: number };
    this.stmt('INSERT OR IGNORE INTO ecosystems (name) VALUES (?)').run(name);
    this.stmt('UPDATE ecosystems SET records = ? WHERE name = ?').run(row.n, name);
    return row.n;
  }

  replaceKev(entries: Iterable<KevEntry>, catalogVersion: string | undefined, when: Date): number {
    this.check();
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
    this.check();
    this.stmt('DELETE FROM epss').run();
  }

  putEpss(cve: string, score: EpssScore): void {
    this.check();
    this.stmt('INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?, ?, ?)').run(
      cve,
      score.score,
      score.percentile ?? null,
    );
  }

  setMeta(key: string, value: string): void {
    this.check();
    this.stmt('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  /**
   * The packages whose advisories this transaction added, modified or removed so far, sorted. For a dump
   * refreshed whole (`clearSource`), a package counts when one of its (record, modified) pairs is new or gone.
   */
  changedPackages(): PackageKey[] {
    this.check();
    const keys = new Set(this.moved);
    for (const source of this.cleared) {
      const rows = this.stmt(
        `SELECT o.ecosystem AS ecosystem, o.name AS name FROM temp.previous_packages o WHERE o.source = @source
           AND NOT EXISTS (SELECT 1 FROM packages p WHERE p.source = o.source AND p.id = o.id
             AND p.modified = o.modified AND p.ecosystem = o.ecosystem AND p.name = o.name)
         UNION
         SELECT p.ecosystem, p.name FROM packages p WHERE p.source = @source
           AND NOT EXISTS (SELECT 1 FROM temp.previous_packages o WHERE o.source = p.source AND o.id = p.id
             AND o.modified = p.modified AND o.ecosystem = p.ecosystem AND o.name = p.name)`,
      ).all({ source }) as PackageKey[];
      for (const row of rows) keys.add(`${row.ecosystem}\u0000${row.name}`);
    }
    return [...keys].sort().map((key) => {
      const [ecosystem = '', name = ''] = key.split('\u0000');
      return { ecosystem, name };
    });
  }

  /** Ends the transaction's life: later calls on it throw (it was committed or rolled back). */
  finish(): void {
    if (!this.open) return;
    this.open = false;
    if (this.cleared.size) {
      try {
        this.db.exec('DROP TABLE IF EXISTS temp.previous_packages');
      } catch {
        // the connection is closing or the transaction already failed: the temp table goes with it
      }
    }
  }

  private notePackagesOf(source: string, id: string): void {
    const rows = this.stmt('SELECT DISTINCT ecosystem, name FROM packages WHERE source = ? AND id = ?').all(
      source,
      id,
    ) as PackageKey[];
    for (const row of rows) this.moved.add(`${row.ecosystem}\u0000${row.name}`);
  }

  private check(): void {
    if (!this.open) throw new LadingError('DB', 'vulnerability database transaction used after it ended');
  }
}

/** Merges sorted package keys from several transactions (one per ecosystem of an update), sorted, unique. */
export function mergePackageKeys(lists: readonly PackageKey[][]): PackageKey[] {
  const keys = new Set<string>();
  for (const list of lists) for (const k of list) keys.add(`${k.ecosystem}\u0000${k.name}`);
  return [...keys].sort().map((key) => {
    const [ecosystem = '', name = ''] = key.split('\u0000');
    return { ecosystem, name };
  });
}
