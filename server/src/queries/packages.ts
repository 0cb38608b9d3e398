// Package search (`GET /packages?purl=&version=`) and the cross-type search box (`GET /search?q=`). Packages are
// shared rows; a package is shown only when it occurs in an image the caller may see.
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { listImagesByIds, visibleImage } from './images.js';
import { cappedCount, cappedTotal, decodeCursor, listHash, type Page, type PageRequest, pageOf } from './keyset.js';
import type { ReadScope } from './scope.js';
import { like, likeLiteral } from './text.js';

type Db = Kysely<Database>;

/** How many images each package item names (the count says how many there are). */
export const IMAGES_PER_PACKAGE = 10;
/** How many hits of each kind the search box answers. */
export const SEARCH_HITS = 10;

/** The purl without version, qualifiers or subpath: `pkg:deb/debian/openssl@3.0.11?arch=amd64` → `pkg:deb/debian/openssl`. */
export function purlWithoutVersion(purl: string): string {
  return purl.replace(/[@?#].*$/, '');
}

type PackagesFrom = ExpressionBuilder<Database & { p: Database['packages'] }, 'p'>;

/** The package occurs in an image of the scope. */
function occursInScope(eb: PackagesFrom, scope: ReadScope) {
  return eb.exists(
    eb
      .selectFrom('package_occurrences as o')
      .innerJoin('images as i', 'i.id', 'o.image_id')
      .select(sql`1`.as('one'))
      .whereRef('o.package_id', '=', 'p.id')
      .where((e) => visibleImage(e as never, scope)),
  );
}

export interface PackageHit {
  purl: string;
  type: string;
  name: string;
  version: string;
  ecosystem: string | null;
  images: { count: number; type: 'EXACT' | 'AT_LEAST'; digests: string[] };
}

/**
 * `GET /packages?purl=&version=`: the packages of that purl (its version, qualifiers and subpath ignored), at
 * `version` when given, each with the images in scope that hold it.
 */
export async function searchPackages(
  db: Db,
  scope: ReadScope,
  filters: { purl: string; version?: string },
  options: PageRequest,
): Promise<Page<PackageHit>> {
  const stem = purlWithoutVersion(filters.purl.trim());
  const hash = listHash('id', { purl: stem, version: filters.version });
  const cursor = decodeCursor(options, hash);
  // purl = stem, or stem@…, stem?…: a btree prefix range on the unique purl index.
  let base = db
    .selectFrom('packages as p')
    .where((eb) =>
      eb.or([
        eb('p.purl', '=', stem),
        like(sql.ref('p.purl'), `${likeLiteral(stem)}@%`),
        like(sql.ref('p.purl'), `${likeLiteral(stem)}?%`),
      ]),
    );
  if (filters.version) base = base.where('p.version', '=', filters.version);
  if (!scope.all) base = base.where((eb) => occursInScope(eb, scope));
  let q = base.select(['p.id', 'p.purl', 'p.type', 'p.name', 'p.version', 'p.ecosystem']);
  if (cursor) q = q.where('p.id', '>', cursor.id);
  const rows = await q
    .orderBy('p.id')
    .limit(options.limit + 1)
    .execute();
  const kept = rows.slice(0, options.limit);
  const images = new Map<number, PackageHit['images']>();
  for (const row of kept) {
    const holding = db
      .selectFrom('images as i')
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('package_occurrences as o')
            .select(sql`1`.as('one'))
            .whereRef('o.image_id', '=', 'i.id')
            .where('o.package_id', '=', row.id),
        ),
      )
      .where((eb) => visibleImage(eb, scope));
    const [count, ids] = await Promise.all([
      cappedCount(db, holding),
      holding.select('i.id').orderBy('i.id', 'desc').limit(IMAGES_PER_PACKAGE).execute(),
    ]);
    const summaries = await listImagesByIds(
      db,
      scope,
      ids.map((r) => r.id),
    );
    images.set(row.id, {
      ...cappedTotal(count),
      digests: ids.map((r) => summaries.get(r.id)?.digest).filter((d): d is string => d !== undefined),
    });
  }
  const total = cappedTotal(await cappedCount(db, base));
  return pageOf(
    rows,
    options,
    hash,
    (r) => ({ value: null, id: r.id }),
    (r) => ({
      purl: r.purl,
      type: r.type,
      name: r.name,
      version: r.version,
      ecosystem: r.ecosystem,
      images: images.get(r.id) ?? { count: 0, type: 'EXACT' as const, digests: [] },
    }),
    total,
  );
}

/** `GET /search?q=`: the first SEARCH_HITS vulnerabilities, images, repositories and packages that match. */
export async function search(db: Db, scope: ReadScope, text: string) {
  const q = text.trim();
  const lower = q.toLowerCase();
  const upper = q.toUpperCase();
  const vulnerabilities = await db
    .selectFrom('vuln_aliases as a')
    .innerJoin('vulnerabilities as v', 'v.id', 'a.vulnerability_id')
    .select(['v.vuln_id', 'v.severity', 'v.summary'])
    // Aliases keep their own case (GHSA-35jh-r3h4-6jhm): what was typed, and its upper case for cve-… typed in lower.
    .where((eb) =>
      eb.or([like(sql.ref('a.alias'), `${likeLiteral(q)}%`), like(sql.ref('a.alias'), `${likeLiteral(upper)}%`)]),
    )
    .groupBy(['v.id', 'v.vuln_id', 'v.severity', 'v.summary'])
    .orderBy('v.vuln_id')
    .limit(SEARCH_HITS)
    .execute();
  const hex = lower.startsWith('sha256:') ? lower : `sha256:${lower}`;
  const imageIds = /^(sha256:)?[0-9a-f]{4,64}$/.test(lower)
    ? await db
        .selectFrom('images as i')
        .select('i.id')
        .where(like(sql.ref('i.digest'), `${likeLiteral(hex)}%`))
        .where((eb) => visibleImage(eb, scope))
        .orderBy('i.digest')
        .limit(SEARCH_HITS)
        .execute()
    : [];
  const imageSummaries = await listImagesByIds(
    db,
    scope,
    imageIds.map((r) => r.id),
  );
  let repositoryQuery = db
    .selectFrom('repositories as r')
    .select(['r.public_id', 'r.name'])
    .where(like(sql.ref('r.name_lc'), `%${likeLiteral(lower)}%`));
  if (!scope.all) {
    repositoryQuery =
      scope.repositoryIds.length === 0
        ? repositoryQuery.where(sql<boolean>`1 = 0`)
        : repositoryQuery.where('r.id', 'in', scope.repositoryIds as number[]);
  }
  const repositories = await repositoryQuery.orderBy('r.name_lc').limit(SEARCH_HITS).execute();
  let packageQuery = db
    .selectFrom('packages as p')
    .select(['p.purl', 'p.name', 'p.version', 'p.type'])
    .where(like(sql.ref('p.name_lc'), `${likeLiteral(lower)}%`));
  if (!scope.all) packageQuery = packageQuery.where((eb) => occursInScope(eb, scope));
  const packages = await packageQuery.orderBy('p.name_lc').orderBy('p.id').limit(SEARCH_HITS).execute();
  return {
    vulnerabilities: vulnerabilities.map((v) => ({ id: v.vuln_id, severity: v.severity, summary: v.summary })),
    images: imageIds.map((r) => imageSummaries.get(r.id)).filter((s) => s !== undefined),
    repositories: repositories.map((r) => ({ id: r.public_id, name: r.name })),
    packages: packages.map((p) => ({ purl: p.purl, name: p.name, version: p.version, type: p.type })),
  };
}
