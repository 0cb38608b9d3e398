// Reads of repositories: the list (by name) and one repository with its tags, their history and the current digest
// of each track. A repository outside the caller's scope is not found.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { eventsPage } from './event-pages.js';
import { cappedCount, cappedTotal, decodeCursor, listHash, type Page, type PageRequest, pageOf } from './keyset.js';
import { type ReadScope, scopeHolds } from './scope.js';
import { isoTime, like, likeLiteral } from './text.js';

type Db = Kysely<Database>;

/** How many moves of each tag the detail shows, newest first. */
export const TAG_HISTORY_LIMIT = 50;

export interface RepositorySummary {
  id: string;
  name: string;
  sourceRepo: string | null;
  createdAt: string;
  archived: boolean;
  currentImages: number;
}

/** `GET /repositories?name=`: repositories whose name contains `name`, by name. */
export async function listRepositories(
  db: Db,
  scope: ReadScope,
  filters: { name?: string },
  options: PageRequest,
): Promise<Page<RepositorySummary>> {
  const hash = listHash('name', filters);
  const cursor = decodeCursor(options, hash);
  let base = db.selectFrom('repositories as r');
  if (!scope.all) {
    base =
      scope.repositoryIds.length === 0
        ? base.where(sql<boolean>`1 = 0`)
        : base.where('r.id', 'in', scope.repositoryIds as number[]);
  }
  if (filters.name) base = base.where(like(sql.ref('r.name_lc'), `%${likeLiteral(filters.name.toLowerCase())}%`));
  let q = base.select([
    'r.id',
    'r.public_id',
    'r.name',
    'r.name_lc',
    'r.source_repo',
    'r.created_at',
    'r.archived_at',
    (eb) =>
      eb
        .selectFrom('repository_images as ri')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('ri.repository_id', '=', 'r.id')
        .where('ri.is_current', '=', 1)
        .as('current_images'),
  ]);
  if (cursor) {
    q = q.where(
      sql<boolean>`(r.name_lc > ${String(cursor.value)} or (r.name_lc = ${String(cursor.value)} and r.id > ${cursor.id}))`,
    );
  }
  const rows = await q
    .orderBy('r.name_lc')
    .orderBy('r.id')
    .limit(options.limit + 1)
    .execute();
  const total = cappedTotal(await cappedCount(db, base));
  return pageOf(
    rows,
    options,
    hash,
    (r) => ({ value: r.name_lc, id: r.id }),
    (r) => ({
      id: r.public_id,
      name: r.name,
      sourceRepo: r.source_repo,
      createdAt: isoTime(Number(r.created_at)),
      archived: r.archived_at !== null,
      currentImages: Number(r.current_images ?? 0),
    }),
    total,
  );
}

/** `GET /repositories/{id}` (the public id, or the name): tracks with their current digests, tags with history. */
export async function repositoryDetail(db: Db, scope: ReadScope, id: string) {
  const repository = await db
    .selectFrom('repositories')
    .selectAll()
    .where((eb) => eb.or([eb('public_id', '=', id), eb('name_lc', '=', id.toLowerCase())]))
    .executeTakeFirst();
  if (!repository || !scopeHolds(scope, repository.id)) return undefined;
  const tracks = await db
    .selectFrom('repository_images as ri')
    .innerJoin('images as i', 'i.id', 'ri.image_id')
    .select(['ri.track', 'i.digest', 'ri.first_seen_at'])
    .where('ri.repository_id', '=', repository.id)
    .where('ri.is_current', '=', 1)
    .orderBy('ri.track')
    .execute();
  const tags = await db
    .selectFrom('tags as t')
    .leftJoin('images as i', 'i.id', 't.current_image_id')
    .select(['t.id', 't.name', 't.moved_at', 'i.digest'])
    .where('t.repository_id', '=', repository.id)
    .orderBy('t.name')
    .execute();
  const history = new Map<number, { digest: string; from: string; to: string | null; source: string }[]>();
  for (const tag of tags) {
    const moves = await db
      .selectFrom('tag_history as h')
      .innerJoin('images as i', 'i.id', 'h.image_id')
      .select(['i.digest', 'h.from_at', 'h.to_at', 'h.source'])
      .where('h.tag_id', '=', tag.id)
      .orderBy('h.from_at', 'desc')
      .limit(TAG_HISTORY_LIMIT)
      .execute();
    history.set(
      tag.id,
      moves.map((m) => ({
        digest: m.digest,
        from: isoTime(Number(m.from_at)),
        to: isoTime(m.to_at === null ? null : Number(m.to_at)),
        source: m.source,
      })),
    );
  }
  return {
    id: repository.public_id,
    name: repository.name,
    sourceRepo: repository.source_repo,
    createdAt: isoTime(Number(repository.created_at)),
    archived: repository.archived_at !== null,
    tracks: tracks.map((t) => ({ track: t.track, current: t.digest, since: isoTime(Number(t.first_seen_at)) })),
    tags: tags.map((t) => ({
      name: t.name,
      current: t.digest ?? null,
      movedAt: isoTime(Number(t.moved_at)),
      history: history.get(t.id) ?? [],
    })),
  };
}

/** `GET /repositories/{id}/events`: the repository's audit log, oldest first, each event with its image's digest. */
export async function listRepositoryEvents(db: Db, scope: ReadScope, id: string, options: PageRequest) {
  const repository = await db
    .selectFrom('repositories')
    .select(['id'])
    .where((eb) => eb.or([eb('public_id', '=', id), eb('name_lc', '=', id.toLowerCase())]))
    .executeTakeFirst();
  if (!repository || !scopeHolds(scope, repository.id)) return undefined;
  return eventsPage(db, { repositoryId: repository.id }, listHash('id', { repository: repository.id }), options);
}
