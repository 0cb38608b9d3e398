import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * One small SQLite interface over two implementations: Node's built-in `node:sqlite` where the runtime has it
 * (Node 24, 26, and 22.16+ without the addon: nothing native to ship, which is what lets the GitHub Action run from one bundled file on
 * every runner OS and architecture), and the better-sqlite3 addon elsewhere (Node 20). Both are synchronous
 * and their prepared statements already share `get`/`all`/`run`/`iterate`, so statements are handed out as the
 * implementation made them (no wrapper on the hot path); only the connection-level calls differ and live here.
 *
 * Differences callers must allow for: BLOB columns read back as `Uint8Array` (node:sqlite) or `Buffer` (a
 * subclass; better-sqlite3), so rows type them as `Uint8Array`; values bound must be numbers, strings, bigints,
 * `Uint8Array`s or null (neither accepts booleans or undefined).
 */
export type SqliteValue = number | string | bigint | Uint8Array | null;

export interface SqliteStatement {
  get(...params: SqliteValue[] | [Record<string, SqliteValue>]): unknown;
  all(...params: SqliteValue[] | [Record<string, SqliteValue>]): unknown[];
  run(...params: SqliteValue[] | [Record<string, SqliteValue>]): unknown;
  iterate(...params: SqliteValue[] | [Record<string, SqliteValue>]): IterableIterator<unknown>;
}

export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

export interface SqliteDatabase {
  readonly driver: SqliteDriverName;
  /** True between BEGIN and COMMIT/ROLLBACK, however the transaction was started. */
  readonly inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  /** Runs `PRAGMA text` and returns its rows. */
  pragma(text: string): unknown[];
  /** The first column of the first row of `PRAGMA text` (`user_version`, `data_version`). */
  pragmaValue(text: string): unknown;
  /**
   * Runs synchronous `work` in one transaction (BEGIN DEFERRED or IMMEDIATE): committed when it returns, rolled
   * back when it throws. Not nestable (callers check `inTransaction`), and `work` may not return a promise: a
   * transaction spanning an `await` would let other code write into it.
   */
  transaction<T>(work: () => T, mode?: 'deferred' | 'immediate'): T;
  close(): void;
}

export interface OpenOptions {
  readonly?: boolean;
}

/** The subset of `node:sqlite` used here (the engine's @types/node is the Node 20 line, which has no such module). */
interface NodeSqliteStatement extends SqliteStatement {}
interface NodeSqliteDatabase {
  readonly isTransaction: boolean;
  prepare(sql: string): NodeSqliteStatement;
  exec(sql: string): void;
  close(): void;
}
type NodeSqliteClass = new (path: string, options?: { readOnly?: boolean; timeout?: number }) => NodeSqliteDatabase;

/** better-sqlite3's default busy timeout, given to node:sqlite too so both wait the same for a lock. */
const BUSY_TIMEOUT_MS = 5000;

let chosen: { name: 'node:sqlite'; open: NodeSqliteClass } | { name: 'better-sqlite3' } | undefined;

/**
 * `node:sqlite` when the runtime has a usable one, else better-sqlite3. Usable means unflagged and new enough to
 * report `isTransaction` (Node 22.16+/24+): the store needs it to tell a snapshot from a nested read. On Node 22 it
 * still prints an ExperimentalWarning on every run, so there better-sqlite3 stays first when it is installed (the
 * CLI's dependency), and node:sqlite serves only where the addon is absent. Node 26 renamed `DatabaseSync` to
 * `Database` (DEP0210); either name is taken.
 */
function choose(): NonNullable<typeof chosen> {
  if (chosen) return chosen;
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 23 && addonInstalled()) {
    chosen = { name: 'better-sqlite3' };
    return chosen;
  }
  let builtin: { Database?: unknown; DatabaseSync?: unknown } | undefined;
  try {
    builtin = process.getBuiltinModule?.('node:sqlite') as typeof builtin;
  } catch {
    builtin = undefined; // flagged off (Node 22.5–22.12) or absent
  }
  const open = (builtin?.Database ?? builtin?.DatabaseSync) as NodeSqliteClass | undefined;
  chosen =
    typeof open === 'function' && reportsTransactions(open)
      ? { name: 'node:sqlite', open }
      : { name: 'better-sqlite3' };
  return chosen;
}

function addonInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('better-sqlite3');
    return true;
  } catch {
    return false;
  }
}

/** `isTransaction` is an instance getter, so a throwaway in-memory connection is asked. */
function reportsTransactions(open: NodeSqliteClass): boolean {
  try {
    const probe = new open(':memory:');
    const answer = typeof probe.isTransaction === 'boolean';
    probe.close();
    return answer;
  } catch {
    return false;
  }
}

/** Which implementation `openSqlite` uses in this process. */
export function sqliteDriverName(): SqliteDriverName {
  return choose().name;
}

/**
 * Opens a database file. `readonly` never creates the file (a missing one is an error); otherwise it is created.
 * The native addon is required only when it is the one chosen, so a runtime with `node:sqlite` never loads it.
 */
export function openSqlite(path: string, options: OpenOptions = {}): SqliteDatabase {
  const driver = choose();
  if (driver.name === 'node:sqlite') {
    // the same busy timeout better-sqlite3 sets by default (node:sqlite's is 0: a reader opening while an update
    // holds the lock would fail at once with "database is locked" instead of waiting its turn)
    return new NodeSqlite(new driver.open(path, { readOnly: options.readonly === true, timeout: BUSY_TIMEOUT_MS }));
  }
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return wrapBetterSqlite3(new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {}));
}

/** Puts an already open better-sqlite3 connection behind the interface (rpm databases opened from a buffer). */
export function wrapBetterSqlite3(db: BetterSqlite3.Database): SqliteDatabase {
  return new BetterSqlite(db);
}

class BetterSqlite implements SqliteDatabase {
  readonly driver = 'better-sqlite3';
  constructor(private readonly db: BetterSqlite3.Database) {}
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }
  prepare(sql: string): SqliteStatement {
    return this.db.prepare(sql) as unknown as SqliteStatement;
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  pragma(text: string): unknown[] {
    return this.db.pragma(text) as unknown[];
  }
  pragmaValue(text: string): unknown {
    return this.db.pragma(text, { simple: true });
  }
  transaction<T>(work: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
    // better-sqlite3 refuses a promise-returning function itself, with its own message
    return this.db.transaction(work)[mode]();
  }
  close(): void {
    this.db.close();
  }
}

class NodeSqlite implements SqliteDatabase {
  readonly driver = 'node:sqlite';
  constructor(private readonly db: NodeSqliteDatabase) {}
  get inTransaction(): boolean {
    return this.db.isTransaction;
  }
  prepare(sql: string): SqliteStatement {
    return this.db.prepare(sql);
  }
  exec(sql: string): void {
    this.db.exec(sql);
  }
  pragma(text: string): unknown[] {
    return this.db.prepare(`PRAGMA ${text}`).all();
  }
  pragmaValue(text: string): unknown {
    const row = this.db.prepare(`PRAGMA ${text}`).get() as Record<string, unknown> | undefined;
    return row === undefined ? undefined : Object.values(row)[0];
  }
  transaction<T>(work: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
    if (this.db.isTransaction) throw new TypeError('SQLite transaction: one is already open on this connection');
    this.db.exec(mode === 'immediate' ? 'BEGIN IMMEDIATE' : 'BEGIN');
    let result: T;
    try {
      result = work();
      if (result !== null && typeof (result as { then?: unknown } | undefined)?.then === 'function') {
        throw new TypeError('SQLite transaction: the work function returned a promise');
      }
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      // a COMMIT that fails (disk full, busy) must leave no transaction open behind it
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
    return result;
  }
  close(): void {
    this.db.close();
  }
}
