// Lookups behind `/diff`, `/gates/evaluate` and `/artifacts/{sha256}`: which stored report belongs to an image, which
// image came before it on its repository track, and whether the caller may download an artifact.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { findImage, visibleImage } from './images.js';
import type { ReadScope } from './scope.js';

type Db = Kysely<Database>;

export interface StoredArtifact {
  sha256: string;
  kind: string;
  mediaType: string;
  size: number;
}

/** The image's Lading report (the newest when it was ingested more than once), or undefined. */
export async function reportOf(db: Db, imageId: number): Promise<StoredArtifact | undefined> {
  const row = await db
    .selectFrom('image_artifacts as ia')
    .innerJoin('artifacts as a', 'a.id', 'ia.artifact_id')
    .select(['a.sha256', 'a.kind', 'a.media_type', 'a.size'])
    .where('ia.image_id', '=', imageId)
    .where('ia.role', '=', 'report')
    .where('a.kind', '=', 'report-lading')
    .orderBy('ia.created_at', 'desc')
    .orderBy('a.id', 'desc')
    .executeTakeFirst();
  return row ? { sha256: row.sha256, kind: row.kind, mediaType: row.media_type, size: Number(row.size) } : undefined;
}

/**
 * The image seen on the same repository track just before this one (by when each was first seen there), within the
 * scope: "previous" in `/diff?to=…&from=previous` and in a gate's `baseline: previous`. The image's first placement
 * in scope (by repository name, then track) decides the track when it sits on several.
 */
export async function previousImageOf(
  db: Db,
  scope: ReadScope,
  imageId: number,
): Promise<{ id: number; digest: string } | undefined> {
  const placement = await db
    .selectFrom('repository_images as ri')
    .innerJoin('repositories as r', 'r.id', 'ri.repository_id')
    .select(['ri.repository_id', 'ri.track', 'ri.first_seen_at'])
    .where('ri.image_id', '=', imageId)
    .where((eb) =>
      scope.all
        ? sql<boolean>`1 = 1`
        : scope.repositoryIds.length === 0
          ? sql<boolean>`1 = 0`
          : eb('ri.repository_id', 'in', scope.repositoryIds as number[]),
    )
    .orderBy('r.name')
    .orderBy('ri.track')
    .executeTakeFirst();
  if (!placement) return undefined;
  const firstSeen = Number(placement.first_seen_at);
  const row = await db
    .selectFrom('repository_images as ri')
    .innerJoin('images as i', 'i.id', 'ri.image_id')
    .select(['i.id', 'i.digest'])
    .where('ri.repository_id', '=', placement.repository_id)
    .where('ri.track', '=', placement.track)
    .where('ri.image_id', '!=', imageId)
    .where('i.state', '!=', 'quarantined')
    .where((eb) =>
      eb.or([
        eb('ri.first_seen_at', '<', firstSeen),
        eb.and([eb('ri.first_seen_at', '=', firstSeen), eb('ri.image_id', '<', imageId)]),
      ]),
    )
    .orderBy('ri.first_seen_at', 'desc')
    .orderBy('ri.image_id', 'desc')
    .executeTakeFirst();
  return row ? { id: row.id, digest: row.digest } : undefined;
}

/** The image id of a digest the scope may see. */
export async function visibleImageId(db: Db, scope: ReadScope, digest: string): Promise<number | undefined> {
  return (await findImage(db, scope, digest))?.id;
}

/** The artifact when it belongs to at least one image the scope may see (else it is not found). */
export async function downloadableArtifact(
  db: Db,
  scope: ReadScope,
  sha256: string,
): Promise<StoredArtifact | undefined> {
  const row = await db
    .selectFrom('artifacts as a')
    .select(['a.sha256', 'a.kind', 'a.media_type', 'a.size'])
    .where('a.sha256', '=', sha256)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('image_artifacts as ia')
          .innerJoin('images as i', 'i.id', 'ia.image_id')
          .select(sql`1`.as('one'))
          .whereRef('ia.artifact_id', '=', 'a.id')
          .where((e) => visibleImage(e as never, scope)),
      ),
    )
    .executeTakeFirst();
  return row ? { sha256: row.sha256, kind: row.kind, mediaType: row.media_type, size: Number(row.size) } : undefined;
}
