// Opens the server's database: better-sqlite3 for a file path (the embedded default) or pg for a postgres:// URL.
// Both are handed to Kysely with the same Database interface; the caller learns which dialect it got.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect, type SqliteStatement, sql } from 'kysely';
import pg from 'pg';
import type { SqlDialect } from './dialect.js';
import type { Database } from './schema.js';

export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  close(): Promise<void>;
}

/** Reads a --database value: a postgres:// (or postgresql://) URL, else a SQLite file path. */
export function databaseTarget(value: string): DatabaseTarget {
  return /^postgres(?:ql)?:\/\//i.test(value) ? { kind: 'postgres', url: value } : { kind: 'sqlite', path: value };
}

/** Redacts the password of a postgres URL for logs and errors. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return `sqlite:${target.path}`;
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres:(unreadable URL)';
  }
}

const INT8_OID = 20;
const JSON_OID = 114;
const JSONB_OID = 3802;

// Type parsers local to our pool (never the process-wide pg.types): int8 as Number (ids, epoch ms and counts stay
// far below 2^53), and json/jsonb as raw text, so one decodeJson() reads both engines.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === JSON_OID || oid === JSONB_OID) return (value: string) => value;
    // biome-ignore lint/suspicious/noExplicitAny: pg's getTypeParser overloads do not accept a union format
    return pg.types.getTypeParser(oid, format as any);
  },
};

export interface OpenOptions {
  /** PostgreSQL pool size (default 10). */
  readonly poolSize?: number;
}

export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<DatabaseHandle> {
  if (target.kind === 'sqlite') {
    // the embedded default lives in a data dir that may not exist yet (`lading-server migrate` on a fresh machine)
    mkdirSync(dirname(target.path), { recursive: true, mode: 0o700 });
    const sqlite = new BetterSqlite3(target.path);
    // WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged ingest survive power loss;
    // busy_timeout waits for another connection's write lock instead of failing at once.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
    return { db, dialect: 'sqlite', close: () => db.destroy() };
  }
  const pool = new pg.Pool({ connectionString: target.url, max: options.poolSize ?? 10, types: pgTypes });
  // An idle client's error (the server restarting, say) must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/** Prepared statements kept per connection (by SQL text, least recently used dropped first). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 behind Kysely with its prepared statements reused: Kysely prepares every query it runs, and
 * preparing (parsing and planning the SQL) was a tenth of the job thread's time in the ingest benchmark's CPU
 * profile. Kysely compiles the same builder to the same SQL text, so the text is the key. A statement still
 * iterating (a streamed query) is busy and cannot run twice at once: such a call gets a fresh statement.
 */
export function cachingStatements(sqlite: BetterSqlite3.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string): SqliteStatement {
      const cached = cache.get(text);
      if (cached && !cached.busy) {
        // most recently used last: the Map's insertion order is the eviction order
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const statement = sqlite.prepare(text);
      if (!cached) {
        cache.set(text, statement);
        if (cache.size > size) cache.delete(cache.keys().next().value as string);
      }
      return statement;
    },
  };
}

/**
 * What a write transaction on a connection waits for before it asks for the connection: the embedded mode's job
 * thread gives its acceptances priority over starting a job's transaction (ingest/accept.ts groupAccepts), so a
 * 202 waits behind at most the transaction running now. Keyed by the connection, like the accept routing.
 */
const writeGates = new WeakMap<Kysely<Database>, () => Promise<void>>();

/** Makes the write transactions on `db` wait for `gate` first (undefined: no more). */
export function gateWriteTransactions(db: Kysely<Database>, gate: (() => Promise<void>) | undefined): void {
  if (gate) writeGates.set(db, gate);
  else writeGates.delete(db);
}

/**
 * One write transaction. SQLite: BEGIN IMMEDIATE takes the write lock before the first read, so a transaction that
 * reads and then writes never finds its snapshot outdated by another connection's commit (SQLITE_BUSY_SNAPSHOT,
 * which the busy handler does not wait out: the ingest job then failed an attempt and was retried after a backoff).
 * PostgreSQL: an ordinary transaction.
 */
export async function writeTransaction<T>(
  db: Kysely<Database>,
  dialect: SqlDialect,
  body: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') return db.transaction().execute(body);
  await writeGates.get(db)?.();
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const out = await body(conn);
      await sql`commit`.execute(conn);
      return out;
    } catch (error) {
      await sql`rollback`.execute(conn);
      throw error;
    }
  });
}
