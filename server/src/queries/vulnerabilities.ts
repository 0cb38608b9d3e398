// "Which of our images have CVE-X": a vulnerability by any of its aliases (CVE, GHSA, DSA… counted once), and the
// images in the caller's scope with an open finding of it, through findings(vulnerability_id, status, image_id).
import { type Kysely, sql } from 'kysely';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { type ImageSummary, listImagesByIds, visibleImage } from './images.js';
import { cappedCount, cappedTotal, decodeCursor, listHash, type Page, type PageRequest, pageOf } from './keyset.js';
import type { ReadScope } from './scope.js';
import { isoTime } from './text.js';

type Db = Kysely<Database>;

/** The vulnerability named by `id` (its own id or any alias, any case), or undefined. */
export async function findVulnerability(db: Db, id: string) {
  const wanted = id.trim();
  const byAlias = await db
    .selectFrom('vuln_aliases')
    .select('vulnerability_id')
    .where('alias', 'in', [wanted, wanted.toUpperCase()])
    .executeTakeFirst();
  const query = db.selectFrom('vulnerabilities').selectAll();
  return byAlias
    ? await query.where('id', '=', byAlias.vulnerability_id).executeTakeFirst()
    : await query.where('vuln_id', 'in', [wanted, wanted.toUpperCase()]).executeTakeFirst();
}

/** `GET /vulnerabilities/{id}`: the record and how many images in scope have it open (current ones apart). */
export async function vulnerabilityDetail(db: Db, scope: ReadScope, id: string) {
  const v = await findVulnerability(db, id);
  if (!v) return undefined;
  const affected = (current: boolean) =>
    cappedCount(
      db,
      db
        .selectFrom('images as i')
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('findings as f')
              .select(sql`1`.as('one'))
              .whereRef('f.image_id', '=', 'i.id')
              .where('f.vulnerability_id', '=', v.id)
              .where('f.status', '=', 'open'),
          ),
        )
        .where((eb) => visibleImage(eb, scope, current ? { current: true } : undefined)),
    );
  const [images, currentImages] = await Promise.all([affected(false), affected(true)]);
  return {
    id: v.vuln_id,
    aliases: decodeJson<string[]>(v.aliases) ?? [],
    summary: v.summary,
    severity: v.severity,
    cvss: decodeJson<unknown>(v.cvss),
    epss: v.epss === null ? null : Number(v.epss),
    kev: Number(v.kev) === 1,
    kevAddedAt: isoTime(v.kev_added_at === null ? null : Number(v.kev_added_at)),
    publishedAt: isoTime(v.published_at === null ? null : Number(v.published_at)),
    modifiedAt: isoTime(v.modified_at === null ? null : Number(v.modified_at)),
    withdrawnAt: isoTime(v.withdrawn_at === null ? null : Number(v.withdrawn_at)),
    images: { affected: cappedTotal(images), current: cappedTotal(currentImages) },
  };
}

/** `GET /vulnerabilities/{id}/images?current=`: the images with an open finding of it, newest image id first. */
export async function vulnerabilityImages(
  db: Db,
  scope: ReadScope,
  id: string,
  filters: { current?: boolean },
  options: PageRequest,
): Promise<
  Page<ImageSummary & { findings: { package: string; version: string; fixedVersion: string | null }[] }> | undefined
> {
  const v = await findVulnerability(db, id);
  if (!v) return undefined;
  const hash = listHash('-id', { vulnerability: v.id, current: filters.current });
  const cursor = decodeCursor(options, hash);
  const base = db
    .selectFrom('images as i')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('findings as f')
          .select(sql`1`.as('one'))
          .whereRef('f.image_id', '=', 'i.id')
          .where('f.vulnerability_id', '=', v.id)
          .where('f.status', '=', 'open'),
      ),
    )
    .where((eb) => visibleImage(eb, scope, filters.current ? { current: true } : undefined));
  let q = base.select('i.id');
  if (cursor) q = q.where('i.id', '<', cursor.id);
  const rows = await q
    .orderBy('i.id', 'desc')
    .limit(options.limit + 1)
    .execute();
  const kept = rows.slice(0, options.limit).map((r) => r.id);
  const summaries = await listImagesByIds(db, scope, kept);
  const found = kept.length
    ? await db
        .selectFrom('findings as f')
        .innerJoin('packages as p', 'p.id', 'f.package_id')
        .select(['f.image_id', 'p.name', 'p.version', 'f.fixed_version'])
        .where('f.vulnerability_id', '=', v.id)
        .where('f.status', '=', 'open')
        .where('f.image_id', 'in', kept)
        .orderBy('p.name')
        .execute()
    : [];
  const total = cappedTotal(await cappedCount(db, base));
  return pageOf(
    rows,
    options,
    hash,
    (r) => ({ value: null, id: r.id }),
    (r) => ({
      ...(summaries.get(r.id) as ImageSummary),
      findings: found
        .filter((f) => f.image_id === r.id)
        .map((f) => ({ package: f.name, version: f.version, fixedVersion: f.fixed_version })),
    }),
    total,
  );
}
