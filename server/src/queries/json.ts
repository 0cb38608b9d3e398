// JSON built inside a statement, so that one read gathers an image and its child rows (placements, tags, layers,
// build) in one round trip instead of one query per table. SQLite (json_object, json_group_array; ORDER BY inside an
// aggregate since 3.44) and PostgreSQL (json_build_object, json_agg) spell the same operations differently; the
// results come back as JSON text on both (pg's json parser is set to hand back text: db/connection.ts), read with
// decodeJson. Numbers stay numbers, text stays text, SQL NULL becomes JSON null.
import { type Expression, type RawBuilder, sql } from 'kysely';

/** A JSON object with these keys (constants of the code, never input) and values. */
export function jsonObject(pg: boolean, fields: Record<string, Expression<unknown>>): RawBuilder<string> {
  const args = sql.join(Object.entries(fields).flatMap(([key, value]) => [sql.lit(key), value]));
  return pg ? sql<string>`json_build_object(${args})` : sql<string>`json_object(${args})`;
}

/** Aggregate: the JSON array of `value` over the group's rows in `orderBy` order, `[]` when there are none. */
export function jsonArrayAgg(
  pg: boolean,
  value: Expression<unknown>,
  orderBy: RawBuilder<unknown>,
): RawBuilder<string> {
  return pg
    ? sql<string>`coalesce(json_agg(${value} order by ${orderBy}), '[]')`
    : sql<string>`coalesce(json_group_array(${value} order by ${orderBy}), '[]')`;
}
