// Small SQL pieces the read queries share, written once so that SQLite and PostgreSQL answer the same.
import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';

/** `value` with LIKE's wildcards and the escape character made literal (used with `ESCAPE '\'`). */
export function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * `column LIKE pattern ESCAPE '\'`: SQLite needs the ESCAPE clause spelled out (PostgreSQL's default is the same
 * backslash). Columns compared this way are the lower-case `*_lc` twins, so case folding is the same on both engines
 * (SQLite's LIKE folds ASCII case, PostgreSQL's does not).
 */
export function like(column: Expression<string | null>, pattern: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`${column} like ${pattern} escape '\\'`;
}

/** Severities from the most to the least severe, as the engine names them. */
export const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type SeverityName = (typeof SEVERITY_ORDER)[number];

/** A severity from the query string (any case), or undefined when it is not one. */
export function severityParam(value: string): SeverityName | undefined {
  const upper = value.toUpperCase();
  return (SEVERITY_ORDER as readonly string[]).includes(upper) ? (upper as SeverityName) : undefined;
}

/** The severity's rank, 0 for CRITICAL … 4 for UNKNOWN (and anything unrecognised), as SQL. */
export function severityRank(column: Expression<string>): RawBuilder<number> {
  return sql<number>`(case ${column} when 'CRITICAL' then 0 when 'HIGH' then 1 when 'MEDIUM' then 2 when 'LOW' then 3 else 4 end)`;
}

/** Epoch milliseconds as RFC 3339 UTC, the API's time format. */
export function isoTime(ms: number): string;
export function isoTime(ms: number | null): string | null;
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}
