// The read queries' side of keyset pagination: one sort value and the row id per cursor, in the server's signed page
// tokens (http/pagination.ts: a token edited in any byte, or presented with other filters, answers 400). No query
// ever uses OFFSET; counts stop at COUNT_CAP.
import { type Kysely, type RawBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import {
  COUNT_CAP,
  cappedTotal,
  decodePageToken,
  encodePageToken,
  listHash,
  type Page,
  type PageTotal,
} from '../http/pagination.js';

export { COUNT_CAP, cappedTotal, listHash, type Page, type PageTotal };

/** One page of a list: how many rows, after which token, and the key that signs the tokens. */
export interface PageRequest {
  readonly limit: number;
  readonly pageToken?: string;
  readonly tokenKey: Uint8Array;
}

/** The last row's sort key: the sorted value (null when sorting by id alone) and the row id, the tie-breaker. */
export interface Cursor {
  value: string | number | null;
  id: number;
}

/** The cursor in the request's token (checked to be ours and for this `hash`), or undefined on the first page. */
export function decodeCursor(request: PageRequest, hash: string): Cursor | undefined {
  if (request.pageToken === undefined) return undefined;
  const cursor = decodePageToken(request.tokenKey, hash, request.pageToken);
  return { value: cursor.values[0] ?? null, id: cursor.id };
}

/** Turns `limit + 1` fetched rows into a page: the extra row only says there is a next page. */
export function pageOf<R, T>(
  rows: readonly R[],
  request: PageRequest,
  hash: string,
  cursorOf: (row: R) => Cursor,
  toItem: (row: R) => T,
  total: PageTotal,
): Page<T> {
  const more = rows.length > request.limit;
  const kept = more ? rows.slice(0, request.limit) : rows;
  const last = kept[kept.length - 1];
  if (!more || last === undefined) return { items: kept.map(toItem), next_page_token: null, total };
  const cursor = cursorOf(last);
  return {
    items: kept.map(toItem),
    next_page_token: encodePageToken(request.tokenKey, hash, { values: [cursor.value], id: cursor.id }),
    total,
  };
}

/** A query's rows counted up to COUNT_CAP + 1 (an exact count of a large set would scan it all), as an expression. */
// biome-ignore lint/suspicious/noExplicitAny: any list query, whatever its tables and selection (only its rows are counted)
export function cappedCountOf(q: SelectQueryBuilder<any, any, any>): RawBuilder<number> {
  const sub = q
    .clearSelect()
    .clearOrderBy()
    .select(sql`1`.as('one'))
    .limit(COUNT_CAP + 1);
  return sql<number>`(select count(*) from ${sub.as('capped')})`;
}

/** Counts a query's rows up to COUNT_CAP + 1, in a statement of its own. */
// biome-ignore lint/suspicious/noExplicitAny: any list query, whatever its tables and selection (only its rows are counted)
export async function cappedCount(db: Kysely<Database>, q: SelectQueryBuilder<any, any, any>): Promise<number> {
  const row = await db.selectNoFrom(cappedCountOf(q).as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
