// Dialect-neutral column types and value codecs: the one place where SQLite and PostgreSQL differ in the schema
// (SERVER.md section 1's portability rules). Migrations use these helpers so that one migration serves both engines.
import { type ColumnDataType, type Expression, type Kysely, PostgresAdapter } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

/** Whether `db` (a Kysely instance or a transaction of one) talks to PostgreSQL; else SQLite, the only other engine. */
// biome-ignore lint/suspicious/noExplicitAny: any database schema (only the connection's dialect is read)
export function isPostgres(db: Kysely<any>): boolean {
  // getExecutor() is marked internal in Kysely's typings but is the only way to ask an open instance (or a
  // transaction handed to us by a caller) which engine it talks to; the adapter class is public API
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
type DataType = ColumnDataType | Expression<unknown>;

export interface ColumnTypes {
  /** Identity keys. SQLite: INTEGER PRIMARY KEY AUTOINCREMENT (never reuses ids, so `events.id` is monotonic). */
  readonly id: DataType;
  /** 64-bit integers: epoch-ms times, foreign keys, sizes. pg's int8 parser is set to return Number (connection.ts). */
  readonly bigint: DataType;
  readonly int: DataType;
  readonly text: DataType;
  /** Encoded JSON: text on SQLite, jsonb on PostgreSQL (read back as a raw string, so decodeJson serves both). */
  readonly json: DataType;
  /** 0/1 flags: SQLite has no boolean, and numbers compare the same way on both. */
  readonly flag: DataType;
  readonly real: DataType;
}

export function columnTypes(dialect: SqlDialect): ColumnTypes {
  return dialect === 'sqlite'
    ? { id: 'integer', bigint: 'integer', int: 'integer', text: 'text', json: 'text', flag: 'smallint', real: 'real' }
    : {
        id: 'bigint',
        bigint: 'bigint',
        int: 'integer',
        text: 'text',
        json: 'jsonb',
        flag: 'smallint',
        real: 'double precision',
      };
}

/** Encodes a value for a JSON column (both engines take the text form). */
export function encodeJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('encodeJson: the value has no JSON form');
  return text;
}

/** Decodes a JSON column as read from either engine (pg is configured to hand jsonb back as text). */
export function decodeJson<T = unknown>(value: string | null | undefined): T | null {
  if (value === null || value === undefined) return null;
  return JSON.parse(value) as T;
}

/** Decodes a JSON column that may not be null. */
export function decodeJsonRequired<T = unknown>(value: string): T {
  return JSON.parse(value) as T;
}
