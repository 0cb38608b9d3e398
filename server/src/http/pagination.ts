// Keyset page tokens that cannot be forged or moved (SERVER.md section 2, "Conventions"): a token carries the
// sort, a hash of the filters and the last row's key, and is signed with an HMAC from the server secret. A token
// presented with other filters or another sort, or edited in any byte, answers 400. Lists never use OFFSET.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ProblemError } from './problem.js';

export const MAX_PAGE_LIMIT = 200;
export const DEFAULT_PAGE_LIMIT = 50;
/** Counts are exact up to this many rows, then reported as AT_LEAST (an exact count of a big set costs a scan). */
export const COUNT_CAP = 10_000;

export interface PageTotal {
  readonly count: number;
  readonly type: 'EXACT' | 'AT_LEAST';
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next_page_token: string | null;
  readonly total: PageTotal;
}

/** The last row's sort key: its sorted value(s) and the id that breaks ties. */
export type KeysetValue = string | number | null;
export interface PageCursor {
  readonly values: readonly KeysetValue[];
  readonly id: number;
}

/** A stable hash of a list request: the sort and the filters (keys sorted, undefined dropped). */
export function listHash(sort: string, filters: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(filters)
    .filter((k) => filters[k] !== undefined)
    .sort();
  return createHash('sha256')
    .update(JSON.stringify([sort, keys.map((k) => [k, filters[k]])]))
    .digest('base64url')
    .slice(0, 22);
}

function sign(key: Uint8Array, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, 16);
}

export function encodePageToken(key: Uint8Array, hash: string, cursor: PageCursor): string {
  const body = Buffer.from(JSON.stringify({ h: hash, v: cursor.values, i: cursor.id })).toString('base64url');
  return `${body}.${sign(key, body).toString('base64url')}`;
}

function badToken(detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', detail, { code: 'bad_page_token' });
}

/** The cursor in `token`, which must be this server's, unedited, and issued for the same sort and filters. */
export function decodePageToken(key: Uint8Array, hash: string, token: string): PageCursor {
  const [body, mac, ...rest] = token.split('.');
  if (!body || !mac || rest.length > 0 || token.length > 2048)
    throw badToken('page_token is not a token this server issued');
  const presented = Buffer.from(mac, 'base64url');
  const expected = sign(key, body);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw badToken('page_token is not a token this server issued');
  }
  const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
    h: string;
    v: KeysetValue[];
    i: number;
  };
  if (parsed.h !== hash) throw badToken('page_token was issued for another sort or other filters');
  return { values: parsed.v, id: parsed.i };
}

/** The `limit` query parameter: 1..200, 50 when absent; anything else is a 400. */
export function pageLimit(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_PAGE_LIMIT;
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_LIMIT) {
    throw new ProblemError(400, 'Bad Request', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`, {
      code: 'bad_limit',
    });
  }
  return n;
}

/** A count made with `LIMIT COUNT_CAP + 1`: above the cap it is reported as at least the cap. */
export function cappedTotal(count: number): PageTotal {
  return count > COUNT_CAP ? { count: COUNT_CAP, type: 'AT_LEAST' } : { count, type: 'EXACT' };
}

/** Turns `limit + 1` fetched rows into a page: the extra row only says that there is a next page. */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  next: { key: Uint8Array; hash: string; cursorOf: (row: R) => PageCursor },
  toItem: (row: R) => T,
  total: PageTotal,
): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(toItem),
    next_page_token: more && last !== undefined ? encodePageToken(next.key, next.hash, next.cursorOf(last)) : null,
    total,
  };
}
