// Keyset pagination for the read API (SERVER.md section 2, "Conventions"): a page token carries the sort, a hash of
// the filters and the last row's sort key, so a token is never reused with other filters (that would skip or repeat
// rows) and no query ever uses OFFSET. Counts stop at COUNT_CAP (an exact count of a large set costs a scan).
import { createHash } from 'node:crypto';

export const MAX_LIMIT = 200;
export const DEFAULT_LIMIT = 50;
export const COUNT_CAP = 10_000;

export interface Total {
  count: number;
  type: 'EXACT' | 'AT_LEAST';
}

export interface Page<T> {
  items: T[];
  next_page_token: string | null;
  total: Total;
}

/** The last row's sort key: the sorted value (or null when sorting by id only) and the row id, the tie-breaker. */
export interface Cursor {
  value: string | number | null;
  id: number;
}

/** A page token that does not belong to this request: the route answers 400. */
export class BadPageTokenError extends Error {}

/** A stable hash of the filters (sorted keys, undefined dropped) that a page token is bound to. */
export function filterHash(sort: string, filters: Record<string, unknown>): string {
  const keys = Object.keys(filters)
    .filter((k) => filters[k] !== undefined)
    .sort();
  const canonical = JSON.stringify([sort, keys.map((k) => [k, filters[k]])]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

export function encodePageToken(hash: string, cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ h: hash, v: cursor.value, i: cursor.id })).toString('base64url');
}

/** The cursor in `token`, checked to belong to the same sort and filters (`hash`). */
export function decodePageToken(token: string, hash: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new BadPageTokenError('page_token is not a token this server issued');
  }
  const t = parsed as { h?: unknown; v?: unknown; i?: unknown } | null;
  if (
    !t ||
    typeof t !== 'object' ||
    typeof t.i !== 'number' ||
    !Number.isSafeInteger(t.i) ||
    !(t.v === null || typeof t.v === 'string' || typeof t.v === 'number')
  ) {
    throw new BadPageTokenError('page_token is not a token this server issued');
  }
  if (t.h !== hash) throw new BadPageTokenError('page_token was issued for another sort or other filters');
  return { value: t.v, id: t.i };
}

/** A limit from the query string: 1..MAX_LIMIT, DEFAULT_LIMIT when absent. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  return Math.min(Math.max(1, Math.trunc(limit)), MAX_LIMIT);
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says there is a next page.
 */
export function pageOf<R, T>(
  rows: R[],
  limit: number,
  hash: string,
  cursorOf: (row: R) => Cursor,
  toItem: (row: R) => T,
  total: Total,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(toItem),
    next_page_token: more && last !== undefined ? encodePageToken(hash, cursorOf(last)) : null,
    total,
  };
}

/** `count` rows counted up to COUNT_CAP + 1: more than the cap is reported as AT_LEAST the cap. */
export function cappedTotal(count: number): Total {
  return count > COUNT_CAP ? { count: COUNT_CAP, type: 'AT_LEAST' } : { count, type: 'EXACT' };
}
