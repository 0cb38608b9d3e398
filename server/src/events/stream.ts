// Reading the events table in id order, a chunk at a time, for the SIEM stream and the audit exports. The cursor is
// the event id: ids only grow and rows are never updated, so "after N" resumes without loss or duplicates however
// the reads are split. (An id taken by a transaction that commits later than a bigger one could be skipped by a
// reader between the two commits; the stream therefore stops before events younger than SETTLE_MS.)
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { EventRow } from './format.js';

/** Rows read per query: large enough to stream fast, small enough to keep memory flat. */
export const EVENT_CHUNK = 1_000;
/** Events younger than this are left for the next read (see above): a commit may still be landing below them. */
export const SETTLE_MS = 2_000;

export interface EventQuery {
  /** Only events with a bigger id. */
  readonly after: number;
  /** At most this many events. */
  readonly limit: number;
  /** Only these types (exact names, or a prefix ending with `.`, like `finding.`). */
  readonly types?: readonly string[];
  /** Every repository, or only events about these (events about no repository need `unscoped`). */
  readonly repositoryIds: 'all' | readonly number[];
  /** Whether events about no repository (tokens, users, settings, data updates) are included: administrators. */
  readonly unscoped: boolean;
  readonly imageId?: number;
  readonly repositoryId?: number;
  /** Only events at or before this time (epoch ms); see SETTLE_MS. */
  readonly until?: number;
}

export async function* readEvents(db: Kysely<Database>, query: EventQuery): AsyncGenerator<EventRow> {
  const ids = query.repositoryIds;
  if (ids !== 'all' && ids.length === 0 && !query.unscoped) return;
  let after = query.after;
  let left = query.limit;
  while (left > 0) {
    const size = Math.min(EVENT_CHUNK, left);
    let q = db
      .selectFrom('events as e')
      .leftJoin('repositories as r', 'r.id', 'e.repository_id')
      .leftJoin('images as i', 'i.id', 'e.image_id')
      .leftJoin('vulnerabilities as v', 'v.id', 'e.vulnerability_id')
      .select([
        'e.id',
        'e.at',
        'e.type',
        'e.actor_kind',
        'e.actor_id',
        'e.severity',
        'e.request_id',
        'e.data',
        'r.name as repository',
        'i.digest as image',
        'v.vuln_id as vulnerability',
      ])
      .where('e.id', '>', after);
    if (query.imageId !== undefined) q = q.where('e.image_id', '=', query.imageId);
    if (query.repositoryId !== undefined) q = q.where('e.repository_id', '=', query.repositoryId);
    if (query.until !== undefined) q = q.where('e.at', '<=', query.until);
    const types = query.types ?? [];
    if (types.length > 0) {
      q = q.where((eb) =>
        eb.or(
          types.map((t) =>
            // a prefix compared as a substring, not with LIKE (no wildcard escaping differences between engines)
            t.endsWith('.') ? eb(sql<string>`substr(e.type, 1, ${t.length})`, '=', t) : eb('e.type', '=', t),
          ),
        ),
      );
    }
    if (ids !== 'all') {
      q = q.where((eb) => {
        const visible = [];
        if (ids.length > 0) visible.push(eb('e.repository_id', 'in', ids));
        if (query.unscoped) visible.push(eb('e.repository_id', 'is', null));
        return eb.or(visible);
      });
    } else if (!query.unscoped) {
      q = q.where('e.repository_id', 'is not', null);
    }
    const rows = await q.orderBy('e.id').limit(size).execute();
    for (const r of rows) {
      yield {
        id: Number(r.id),
        at: Number(r.at),
        type: r.type,
        actorKind: r.actor_kind,
        actorId: r.actor_id === null ? null : Number(r.actor_id),
        repository: r.repository,
        image: r.image,
        vulnerability: r.vulnerability,
        severity: r.severity,
        requestId: r.request_id,
        data: r.data,
      };
    }
    if (rows.length < size) return;
    left -= rows.length;
    after = Number(rows[rows.length - 1]?.id);
  }
}
