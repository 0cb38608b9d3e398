// The audit log read one keyset page at a time, oldest first: an image's events (GET /images/{digest}/events) and a
// repository's (GET /repositories/{id}/events, each event with its image's digest). The caller has already found
// the image or repository in the reader's scope and made the list's hash.
import type { Kysely } from 'kysely';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { cappedCount, cappedTotal, decodeCursor, type Page, type PageRequest, pageOf } from './keyset.js';
import { isoTime } from './text.js';

export interface EventItem {
  id: number;
  at: string;
  type: string;
  actor: string;
  severity: string | null;
  /** The digest of the event's image (a repository's events only; null when the event names no image). */
  image?: string | null;
  data: Record<string, unknown>;
}

/** One page of the events of an image, or of a repository (then with each event's image digest). */
export async function eventsPage(
  db: Kysely<Database>,
  owner: { readonly imageId: number } | { readonly repositoryId: number },
  hash: string,
  options: PageRequest,
): Promise<Page<EventItem>> {
  const cursor = decodeCursor(options, hash);
  const ofRepository = 'repositoryId' in owner;
  const base = ofRepository
    ? db.selectFrom('events as e').where('e.repository_id', '=', owner.repositoryId)
    : db.selectFrom('events as e').where('e.image_id', '=', owner.imageId);
  let q = base
    .leftJoin('images as i', 'i.id', 'e.image_id')
    .select(['e.id', 'e.at', 'e.type', 'e.actor_kind', 'e.severity', 'e.data', 'i.digest']);
  if (cursor) q = q.where('e.id', '>', cursor.id);
  const rows = await q
    .orderBy('e.id')
    .limit(options.limit + 1)
    .execute();
  const total = cappedTotal(await cappedCount(db, base));
  return pageOf(
    rows,
    options,
    hash,
    (r) => ({ value: null, id: r.id }),
    (r) => ({
      id: Number(r.id),
      at: isoTime(Number(r.at)),
      type: r.type,
      actor: r.actor_kind,
      severity: r.severity,
      // the item's keys keep their order: `image` comes before `data` where it is given
      ...(ofRepository ? { image: r.digest ?? null } : {}),
      data: decodeJson<Record<string, unknown>>(r.data) ?? {},
    }),
    total,
  );
}
