// Reads of images by digest (SERVER.md section 2, "Reads"): the fleet list with its filters, one image's detail, and
// its findings, packages, layers, evidence, events and artifacts. One Kysely query set serves SQLite and PostgreSQL;
// every list is keyset-paginated; every query takes the caller's ReadScope, and an image outside it is not found.
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import { decodeJson, isPostgres } from '../db/dialect.js';
import type { BuildsTable, Database } from '../db/schema.js';
import { eventsPage } from './event-pages.js';
import { jsonArrayAgg, jsonObject } from './json.js';
import {
  type Cursor,
  cappedCount,
  cappedCountOf,
  cappedTotal,
  decodeCursor,
  listHash,
  type Page,
  type PageRequest,
  pageOf,
} from './keyset.js';
import { type ReadScope, scopeHolds } from './scope.js';
import { isoTime, like, likeLiteral, type SeverityName, severityRank } from './text.js';

type Db = Kysely<Database>;
type ImagesFrom = ExpressionBuilder<Database & { i: Database['images'] }, 'i'>;

export const IMAGE_SORTS = ['-riskIndex', 'riskIndex', '-ingestedAt', 'ingestedAt'] as const;
export type ImageSort = (typeof IMAGE_SORTS)[number];
export const EVIDENCE_STATES = ['verified', 'partial', 'failed', 'none'] as const;

export interface ImageFilters {
  current?: boolean;
  /** A repository glob (`ghcr.io/acme/*`); `*` is any run of characters. */
  repository?: string;
  /** Part of a repository name, a tag name, or the start of a digest (with or without `sha256:`). */
  q?: string;
  minSeverity?: SeverityName;
  kev?: boolean;
  evidence?: (typeof EVIDENCE_STATES)[number];
}

export interface ImageCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

export interface ImageSummary {
  digest: string;
  repository: string | null;
  tags: string[];
  platform: string;
  state: string;
  ingestedAt: string;
  counts: ImageCounts;
  suppressed: number;
  packages: number;
  kev: boolean;
  riskIndex: number;
  evidence: { state: string; score: number; max: number };
}

/** Repository ids of the scope as a SQL condition on `column` (true for everything). */
function inScope(_eb: unknown, column: string, scope: ReadScope) {
  if (scope.all) return sql<SqlBool>`1 = 1`;
  if (scope.repositoryIds.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`${sql.ref(column)} in (${sql.join(scope.repositoryIds as number[])})`;
}

/** Images the scope may see (those linked to one of its repositories), as a condition on `i`. */
export function visibleImage(eb: ImagesFrom, scope: ReadScope, extra?: { current?: boolean; repositoryGlob?: string }) {
  let sub = eb.selectFrom('repository_images as ri').select(sql`1`.as('one')).whereRef('ri.image_id', '=', 'i.id');
  if (!scope.all) sub = sub.where((e) => inScope(e, 'ri.repository_id', scope));
  if (extra?.current) sub = sub.where('ri.is_current', '=', 1).where('i.state', '!=', 'quarantined');
  if (extra?.repositoryGlob !== undefined) {
    const pattern = extra.repositoryGlob.toLowerCase().split('*').map(likeLiteral).join('%');
    sub = sub.where((e) =>
      e.exists(
        e
          .selectFrom('repositories as r')
          .select(sql`1`.as('one'))
          .whereRef('r.id', '=', 'ri.repository_id')
          .where(like(sql.ref('r.name_lc'), pattern)),
      ),
    );
  }
  return eb.exists(sub);
}

function imageSortColumn(sort: ImageSort): 'i.risk_index' | 'i.last_ingested_at' {
  return sort.endsWith('riskIndex') ? 'i.risk_index' : 'i.last_ingested_at';
}

function filteredImages(db: Db, scope: ReadScope, filters: ImageFilters) {
  let q = db.selectFrom('images as i');
  const needsLink = !scope.all || filters.current || filters.repository !== undefined;
  if (needsLink) {
    q = q.where((eb) =>
      visibleImage(eb, scope, {
        ...(filters.current ? { current: true } : {}),
        ...(filters.repository !== undefined ? { repositoryGlob: filters.repository } : {}),
      }),
    );
  }
  if (filters.kev !== undefined) q = q.where('i.has_kev', '=', filters.kev ? 1 : 0);
  if (filters.evidence) q = q.where('i.evidence_state', '=', filters.evidence);
  if (filters.minSeverity) {
    const columns = (['critical', 'high', 'medium', 'low', 'unknown'] as const).slice(
      0,
      ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'].indexOf(filters.minSeverity) + 1,
    );
    q = q.where((eb) => eb.or(columns.map((c) => eb(`i.${c}`, '>', 0))));
  }
  if (filters.q) q = q.where((eb) => imageMatchesText(eb, filters.q as string, scope));
  return q;
}

/** Digest prefix, tag name, or part of a repository name (in scope). */
function imageMatchesText(eb: ImagesFrom, text: string, scope: ReadScope) {
  const lower = text.toLowerCase().trim();
  const hex = lower.startsWith('sha256:') ? lower : `sha256:${lower}`;
  const conditions: Expression<SqlBool>[] = [like(sql.ref('i.digest'), `${likeLiteral(hex)}%`)];
  conditions.push(
    eb.exists(
      eb
        .selectFrom('tags as t')
        .select(sql`1`.as('one'))
        .whereRef('t.current_image_id', '=', 'i.id')
        .where('t.name', '=', text.trim())
        .where((e) => inScope(e, 't.repository_id', scope)),
    ),
  );
  conditions.push(
    eb.exists(
      eb
        .selectFrom('repository_images as ri2')
        .innerJoin('repositories as r2', 'r2.id', 'ri2.repository_id')
        .select(sql`1`.as('one'))
        .whereRef('ri2.image_id', '=', 'i.id')
        .where(like(sql.ref('r2.name_lc'), `%${likeLiteral(lower)}%`))
        .where((e) => inScope(e, 'ri2.repository_id', scope)),
    ),
  );
  return eb.or(conditions);
}

const IMAGE_COLUMNS = [
  'i.id',
  'i.digest',
  'i.platform',
  'i.state',
  'i.last_ingested_at',
  'i.critical',
  'i.high',
  'i.medium',
  'i.low',
  'i.unknown',
  'i.suppressed',
  'i.packages',
  'i.has_kev',
  'i.risk_index',
  'i.evidence_state',
  'i.evidence_score',
  'i.evidence_max',
] as const;

type ImageRow = {
  id: number;
  digest: string;
  platform: string;
  state: string;
  last_ingested_at: number;
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
  suppressed: number;
  packages: number;
  has_kev: number;
  risk_index: number;
  evidence_state: string;
  evidence_score: number;
  evidence_max: number;
};

/**
 * List items' names as two more columns of a query over `images as i`: the first repository (by name, in scope)
 * the image is linked to, and its current tags (in scope, by name) as a JSON array, so that a page of images and
 * their names are one statement. Put them on the page's rows only (an outer select over the limited page): they
 * are subqueries, and the database runs them for each row they are selected on.
 */
function nameColumns(db: Db, scope: ReadScope) {
  const pg = isPostgres(db);
  return [
    sql<string | null>`(select r.name from repository_images ri inner join repositories r on r.id = ri.repository_id
      where ri.image_id = i.id and ${inScope(null, 'ri.repository_id', scope)} order by r.name limit 1)`.as(
      'repository_name',
    ),
    sql<string>`(select ${jsonArrayAgg(pg, sql.ref('t.name'), sql`t.name`)} from tags t
      where t.current_image_id = i.id and ${inScope(null, 't.repository_id', scope)})`.as('tag_names'),
  ];
}

interface NamedImageRow extends ImageRow {
  repository_name: string | null;
  tag_names: string;
}

function summaryOf(row: ImageRow, names: { repository: string | null; tags: string[] }): ImageSummary {
  return {
    digest: row.digest,
    repository: names.repository,
    tags: names.tags,
    platform: row.platform,
    state: row.state,
    ingestedAt: isoTime(Number(row.last_ingested_at)),
    counts: {
      critical: Number(row.critical),
      high: Number(row.high),
      medium: Number(row.medium),
      low: Number(row.low),
      unknown: Number(row.unknown),
    },
    suppressed: Number(row.suppressed),
    packages: Number(row.packages),
    kev: Number(row.has_kev) === 1,
    riskIndex: Number(row.risk_index),
    evidence: { state: row.evidence_state, score: Number(row.evidence_score), max: Number(row.evidence_max) },
  };
}

function namedSummaryOf(row: NamedImageRow): ImageSummary {
  return summaryOf(row, { repository: row.repository_name, tags: decodeJson<string[]>(row.tag_names) ?? [] });
}

/** `GET /images`: the fleet, filtered and sorted, one keyset page at a time. */
export async function listImages(
  db: Db,
  scope: ReadScope,
  filters: ImageFilters,
  options: PageRequest & { sort: ImageSort },
): Promise<Page<ImageSummary>> {
  const hash = listHash(options.sort, { ...filters });
  const cursor = decodeCursor(options, hash);
  const base = filteredImages(db, scope, filters);
  const column = imageSortColumn(options.sort);
  const descending = options.sort.startsWith('-');
  let q = base.select([...IMAGE_COLUMNS]);
  if (cursor) {
    const value = Number(cursor.value);
    q = q.where(
      descending
        ? sql<boolean>`(${sql.ref(column)} < ${value} or (${sql.ref(column)} = ${value} and i.id < ${cursor.id}))`
        : sql<boolean>`(${sql.ref(column)} > ${value} or (${sql.ref(column)} = ${value} and i.id > ${cursor.id}))`,
    );
  }
  const direction = descending ? 'desc' : 'asc';
  // Statement 1: the page (limit + 1 rows, the index-ordered scan), then its names on those rows only; the outer
  // ORDER BY repeats the inner one (a derived table's order is not kept by SQL).
  const page = q
    .orderBy(column, direction)
    .orderBy('i.id', direction)
    .limit(options.limit + 1);
  const rows = (await db
    .selectFrom(page.as('i'))
    .selectAll('i')
    .select(nameColumns(db, scope))
    .orderBy(sql.ref(column), direction)
    .orderBy(sql.ref('i.id'), direction)
    .execute()) as NamedImageRow[];
  // Statement 2: the capped count of the whole filtered set
  const total = cappedTotal(await cappedCount(db, base));
  return pageOf(
    rows,
    options,
    hash,
    (r): Cursor => ({ value: Number(column === 'i.risk_index' ? r.risk_index : r.last_ingested_at), id: r.id }),
    namedSummaryOf,
    total,
  );
}

/** The image with this digest when the scope may see it, else undefined (the route answers 404). */
export async function findImage(db: Db, scope: ReadScope, digest: string): Promise<ImageRow | undefined> {
  return (await db
    .selectFrom('images as i')
    .select([...IMAGE_COLUMNS])
    .where('i.digest', '=', digest)
    .where((eb) => visibleImage(eb, scope))
    .executeTakeFirst()) as ImageRow | undefined;
}

/** `GET /images/{digest}`: the image, where it is (repositories, tracks, tags), its build and its counters. */
export async function imageDetail(db: Db, scope: ReadScope, digest: string) {
  const pg = isPostgres(db);
  // One statement: the image (when the scope may see it) and, as JSON columns, its placements in scope, the tags
  // pointing at it, its layers and its latest build; each subquery is ordered as its list is shown.
  const found = (await db
    .selectFrom('images as i')
    .select([
      ...IMAGE_COLUMNS,
      'i.index_digest',
      'i.os_ecosystem',
      'i.config_digest',
      'i.image_created_at',
      'i.first_ingested_at',
      sql<string>`(select ${jsonArrayAgg(
        pg,
        jsonObject(pg, {
          id: sql.ref('r.id'),
          public_id: sql.ref('r.public_id'),
          name: sql.ref('r.name'),
          track: sql.ref('ri.track'),
          is_current: sql.ref('ri.is_current'),
          first_seen_at: sql.ref('ri.first_seen_at'),
        }),
        sql`r.name, ri.track`,
      )} from repository_images ri inner join repositories r on r.id = ri.repository_id
        where ri.image_id = i.id and ${inScope(null, 'ri.repository_id', scope)})`.as('placements'),
      sql<string>`(select ${jsonArrayAgg(
        pg,
        jsonObject(pg, { repository_id: sql.ref('t.repository_id'), name: sql.ref('t.name') }),
        sql`t.name`,
      )} from tags t where t.current_image_id = i.id)`.as('tags'),
      sql<string>`(select ${jsonArrayAgg(
        pg,
        jsonObject(pg, {
          position: sql.ref('il.position'),
          diff_id: sql.ref('l.diff_id'),
          digest: sql.ref('l.digest'),
          size: sql.ref('l.size'),
          created_by: sql.ref('il.created_by'),
        }),
        sql`il.position`,
      )} from image_layers il inner join layers l on l.id = il.layer_id where il.image_id = i.id)`.as('layers'),
      sql<string | null>`(select ${jsonObject(pg, {
        builder_id: sql.ref('b.builder_id'),
        build_type: sql.ref('b.build_type'),
        source_repo: sql.ref('b.source_repo'),
        source_commit: sql.ref('b.source_commit'),
        source_ref: sql.ref('b.source_ref'),
        workflow_path: sql.ref('b.workflow_path'),
        run_id: sql.ref('b.run_id'),
        run_url: sql.ref('b.run_url'),
        started_at: sql.ref('b.started_at'),
        finished_at: sql.ref('b.finished_at'),
      })} from builds b where b.image_id = i.id order by b.id desc limit 1)`.as('build'),
    ])
    .where('i.digest', '=', digest)
    .where((eb) => visibleImage(eb, scope))
    .executeTakeFirst()) as
    | (ImageRow & {
        index_digest: string | null;
        os_ecosystem: string | null;
        config_digest: string | null;
        image_created_at: number | null;
        first_ingested_at: number;
        placements: string;
        tags: string;
        layers: string;
        build: string | null;
      })
    | undefined;
  if (!found) return undefined;
  const placements =
    decodeJson<
      { id: number; public_id: string; name: string; track: string; is_current: number; first_seen_at: number }[]
    >(found.placements) ?? [];
  const tagRows = decodeJson<{ repository_id: number; name: string }[]>(found.tags) ?? [];
  // the build's columns as the JSON object has them (the table's, less its keys)
  const build = decodeJson<Omit<BuildsTable, 'id' | 'image_id' | 'provenance_artifact_id' | 'created_at'>>(found.build);
  const names = {
    // the first repository by name in scope, and the tags in scope (both lists are in scope order already)
    repository: placements[0]?.name ?? null,
    tags: tagRows.filter((t) => scopeHolds(scope, t.repository_id)).map((t) => t.name),
  };
  return {
    ...summaryOf(found, names),
    indexDigest: found.index_digest,
    os: found.os_ecosystem,
    configDigest: found.config_digest,
    createdAt: isoTime(found.image_created_at === null ? null : Number(found.image_created_at)),
    firstIngestedAt: isoTime(Number(found.first_ingested_at)),
    repositories: placements.map((p) => ({
      id: p.public_id,
      name: p.name,
      track: p.track,
      current: Number(p.is_current) === 1,
      firstSeenAt: isoTime(Number(p.first_seen_at)),
      tags: tagRows.filter((t) => t.repository_id === p.id).map((t) => t.name),
    })),
    layers: (decodeJson<LayerRow[]>(found.layers) ?? []).map(layerOf),
    build: build
      ? {
          builder: build.builder_id,
          buildType: build.build_type,
          sourceRepo: build.source_repo,
          commit: build.source_commit,
          ref: build.source_ref,
          workflowPath: build.workflow_path,
          runId: build.run_id,
          runUrl: build.run_url,
          startedAt: isoTime(build.started_at === null ? null : Number(build.started_at)),
          finishedAt: isoTime(build.finished_at === null ? null : Number(build.finished_at)),
        }
      : null,
  };
}

interface LayerRow {
  position: number;
  diff_id: string;
  digest: string | null;
  size: number | null;
  created_by: string | null;
}

function layerOf(r: LayerRow) {
  return {
    position: Number(r.position),
    diffId: r.diff_id,
    digest: r.digest,
    size: r.size === null ? null : Number(r.size),
    createdBy: r.created_by,
  };
}

async function imageLayers(db: Db, imageId: number) {
  const rows = await db
    .selectFrom('image_layers as il')
    .innerJoin('layers as l', 'l.id', 'il.layer_id')
    .select(['il.position', 'l.diff_id', 'l.digest', 'l.size', 'il.created_by'])
    .where('il.image_id', '=', imageId)
    .orderBy('il.position')
    .execute();
  return rows.map(layerOf);
}

/** `GET /images/{digest}/layers`: every layer in order (an image has at most a few hundred: one page). */
export async function listLayers(db: Db, scope: ReadScope, digest: string) {
  const found = await findImage(db, scope, digest);
  if (!found) return undefined;
  const items = await imageLayers(db, found.id);
  return { items, next_page_token: null, total: { count: items.length, type: 'EXACT' as const } };
}

export const FINDING_STATUSES = ['open', 'suppressed', 'resolved'] as const;
export interface FindingFilters {
  status?: (typeof FINDING_STATUSES)[number];
  severity?: SeverityName;
  /** The start of a vulnerability id or alias, or of a package name. */
  q?: string;
}

/** `GET /images/{digest}/findings`: most severe first, then by id. */
export async function listFindings(
  db: Db,
  scope: ReadScope,
  digest: string,
  filters: FindingFilters,
  options: PageRequest,
) {
  const found = await findImage(db, scope, digest);
  if (!found) return undefined;
  const hash = listHash('severity', { digest, ...filters });
  const cursor = decodeCursor(options, hash);
  let base = db
    .selectFrom('findings as f')
    .innerJoin('packages as p', 'p.id', 'f.package_id')
    .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
    .where('f.image_id', '=', found.id);
  if (filters.status) base = base.where('f.status', '=', filters.status);
  if (filters.severity) base = base.where('f.severity', '=', filters.severity);
  if (filters.q) {
    const text = filters.q.trim();
    base = base.where((eb) =>
      eb.or([
        like(sql.ref('p.name_lc'), `${likeLiteral(text.toLowerCase())}%`),
        eb('v.vuln_id', 'in', [text, text.toUpperCase()]),
        eb.exists(
          eb
            .selectFrom('vuln_aliases as a')
            .select(sql`1`.as('one'))
            .whereRef('a.vulnerability_id', '=', 'v.id')
            .where('a.alias', 'in', [text, text.toUpperCase()]),
        ),
      ]),
    );
  }
  const rank = severityRank(sql.ref('f.severity'));
  // Statement 2: the page with each finding's exception joined in, and the capped count of every matching finding
  // as one more column (an uncorrelated subquery: both engines run it once per statement, not per row).
  let q = base
    .leftJoin('exceptions as x', 'x.id', 'f.exception_id')
    .select([
      'f.id',
      'f.severity',
      'f.fixed_version',
      'f.status',
      'f.first_seen_at',
      'f.last_seen_at',
      'f.resolved_at',
      'f.resolution',
      'f.exception_id',
      'p.purl',
      'p.type',
      'p.name',
      'p.version',
      'v.vuln_id',
      'v.aliases',
      'v.summary',
      'v.epss',
      'v.kev',
      'x.public_id as exception_public_id',
      'x.status as exception_status',
      'x.reason as exception_reason',
      'x.expires_at as exception_expires_at',
      rank.as('rank'),
      cappedCountOf(base).as('capped_count'),
    ]);
  if (cursor) {
    q = q.where(
      sql<boolean>`(${rank} > ${Number(cursor.value)} or (${rank} = ${Number(cursor.value)} and f.id > ${cursor.id}))`,
    );
  }
  const rows = await q
    .orderBy(rank)
    .orderBy('f.id')
    .limit(options.limit + 1)
    .execute();
  // A page with no rows carries no count: a first page then means none match; a later one (a token whose rows
  // have gone since) asks once more.
  const counted = rows[0]?.capped_count ?? (cursor ? await cappedCount(db, base) : 0);
  const total = cappedTotal(Number(counted));
  return pageOf(
    rows,
    options,
    hash,
    (r) => ({ value: Number(r.rank), id: r.id }),
    (r) => ({
      id: r.vuln_id,
      aliases: decodeJson<string[]>(r.aliases) ?? [],
      summary: r.summary,
      severity: r.severity,
      package: { name: r.name, version: r.version, type: r.type, purl: r.purl },
      fixedVersion: r.fixed_version,
      status: r.status,
      kev: Number(r.kev) === 1,
      epss: r.epss === null ? null : Number(r.epss),
      firstSeenAt: isoTime(Number(r.first_seen_at)),
      lastSeenAt: isoTime(Number(r.last_seen_at)),
      resolvedAt: isoTime(r.resolved_at === null ? null : Number(r.resolved_at)),
      resolution: r.resolution,
      exception:
        r.exception_id === null || r.exception_public_id === null
          ? null
          : {
              id: r.exception_public_id,
              status: r.exception_status as string,
              reason: r.exception_reason as string,
              expiresAt: isoTime(Number(r.exception_expires_at)),
            },
    }),
    total,
  );
}

/** `GET /images/{digest}/packages`: the inventory, by package id then path (a package can sit at several paths). */
export async function listPackages(db: Db, scope: ReadScope, digest: string, options: PageRequest) {
  const found = await findImage(db, scope, digest);
  if (!found) return undefined;
  const hash = listHash('package', { digest });
  const cursor = decodeCursor(options, hash);
  const base = db
    .selectFrom('package_occurrences as o')
    .innerJoin('packages as p', 'p.id', 'o.package_id')
    .where('o.image_id', '=', found.id);
  let q = base.select([
    'o.package_id',
    'o.path',
    'o.found_by',
    'p.purl',
    'p.type',
    'p.name',
    'p.version',
    'p.ecosystem',
    'p.licenses',
  ]);
  if (cursor) {
    q = q.where(
      sql<boolean>`(o.package_id > ${cursor.id} or (o.package_id = ${cursor.id} and o.path > ${String(cursor.value)}))`,
    );
  }
  const rows = await q
    .orderBy('o.package_id')
    .orderBy('o.path')
    .limit(options.limit + 1)
    .execute();
  const total = cappedTotal(await cappedCount(db, base));
  return pageOf(
    rows,
    options,
    hash,
    (r) => ({ value: r.path, id: r.package_id }),
    (r) => ({
      purl: r.purl,
      type: r.type,
      name: r.name,
      version: r.version,
      ecosystem: r.ecosystem,
      licenses: decodeJson<string[]>(r.licenses) ?? [],
      path: r.path,
      foundBy: r.found_by,
    }),
    total,
  );
}

/** `GET /images/{digest}/events`: the image's audit log, oldest first. */
export async function listImageEvents(db: Db, scope: ReadScope, digest: string, options: PageRequest) {
  const found = await findImage(db, scope, digest);
  if (!found) return undefined;
  return eventsPage(db, { imageId: found.id }, listHash('id', { digest }), options);
}

/** `GET /images/{digest}/artifacts`: the documents kept for the image (download each by sha256). */
export async function listImageArtifacts(db: Db, scope: ReadScope, digest: string) {
  const found = await findImage(db, scope, digest);
  if (!found) return undefined;
  const rows = await db
    .selectFrom('image_artifacts as ia')
    .innerJoin('artifacts as a', 'a.id', 'ia.artifact_id')
    .select(['a.sha256', 'a.kind', 'a.media_type', 'a.size', 'ia.role', 'ia.predicate_type', 'ia.created_at'])
    .where('ia.image_id', '=', found.id)
    .orderBy('ia.created_at')
    .orderBy('a.sha256')
    .execute();
  const items = rows.map((r) => ({
    sha256: r.sha256,
    kind: r.kind,
    mediaType: r.media_type,
    size: Number(r.size),
    role: r.role,
    predicateType: r.predicate_type,
    addedAt: isoTime(Number(r.created_at)),
    url: `/api/v1/artifacts/${r.sha256}`,
  }));
  return { items, next_page_token: null, total: { count: items.length, type: 'EXACT' as const } };
}

/** `GET /images/{digest}/evidence`: the scorecard (one row per check) and the build facts from the provenance. */
export async function imageEvidence(db: Db, scope: ReadScope, digest: string) {
  const found = await findImage(db, scope, digest);
  if (!found) return undefined;
  const checks = await db
    .selectFrom('verifications as v')
    .leftJoin('artifacts as a', 'a.id', 'v.artifact_id')
    .select(['v.check', 'v.result', 'v.key_id', 'v.identity', 'v.detail', 'v.verified_at', 'a.sha256'])
    .where('v.image_id', '=', found.id)
    .orderBy('v.check')
    .execute();
  const builds = await db
    .selectFrom('builds as b')
    .innerJoin('artifacts as a', 'a.id', 'b.provenance_artifact_id')
    .select([
      'a.sha256',
      'b.builder_id',
      'b.build_type',
      'b.source_repo',
      'b.source_commit',
      'b.source_ref',
      'b.workflow_path',
      'b.run_id',
      'b.run_url',
    ])
    .where('b.image_id', '=', found.id)
    .orderBy('b.id')
    .execute();
  return {
    digest: found.digest,
    state: found.evidence_state,
    score: Number(found.evidence_score),
    max: Number(found.evidence_max),
    checks: checks.map((c) => ({
      check: c.check,
      result: c.result,
      keyId: c.key_id,
      identity: c.identity,
      artifact: c.sha256,
      detail: decodeJson<unknown>(c.detail),
      verifiedAt: isoTime(Number(c.verified_at)),
    })),
    builds: builds.map((b) => ({
      provenance: b.sha256,
      builderId: b.builder_id,
      buildType: b.build_type,
      sourceRepo: b.source_repo,
      sourceCommit: b.source_commit,
      sourceRef: b.source_ref,
      workflowPath: b.workflow_path,
      runId: b.run_id,
      runUrl: b.run_url,
    })),
  };
}

/** List items of the given images (already known to be in scope), by id: one statement, names included. */
export async function listImagesByIds(db: Db, scope: ReadScope, ids: number[]): Promise<Map<number, ImageSummary>> {
  const out = new Map<number, ImageSummary>();
  if (ids.length === 0) return out;
  const rows = (await db
    .selectFrom('images as i')
    .select([...IMAGE_COLUMNS])
    .select(nameColumns(db, scope))
    .where('i.id', 'in', ids)
    .execute()) as NamedImageRow[];
  for (const row of rows) out.set(row.id, namedSummaryOf(row));
  return out;
}

export interface FleetOverview {
  currentImages: number;
  withCritical: number;
  withKev: number;
  evidenceFailed: number;
  open: ImageCounts;
  riskIndex: number;
  /** Current images whose evidence verified (the coverage card is verified / currentImages). */
  evidenceVerified: number;
  /** Current images not ingested (pushed or rescanned) for STALE_DAYS days. */
  stale: number;
  staleDays: number;
  /** Vulnerabilities newly open on a track's current image in the last 24 hours (exposure episodes opened then). */
  newVulnerabilities24h: number;
}

/** An image is stale when nothing ingested it for this long (SERVER.md section 5: "stale images (30 d)"). */
export const STALE_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * The overview cards: over each track's current image in scope (never a quarantined one), how many there are, how
 * many carry a CRITICAL or a KEV finding or failed evidence, open findings by severity and the summed risk index.
 * Read from the per-image counters, so it touches at most one row per current image.
 */
export async function fleetOverview(db: Db, scope: ReadScope, now: number): Promise<FleetOverview> {
  // Uncorrelated, so still one statement: open episodes opened in the last day (a range on exposure_episodes_opened_idx).
  const newVulnerabilities = db
    .selectFrom('exposure_episodes as ep')
    .innerJoin('exposures as x', 'x.id', 'ep.exposure_id')
    .where('ep.opened_at', '>=', now - DAY_MS)
    .where('ep.resolved_at', 'is', null)
    .where((e) => inScope(e, 'x.repository_id', scope))
    .select(sql<number>`count(distinct x.vulnerability_id)`.as('n'));
  const row = await db
    .selectFrom('images as i')
    .where((eb) => visibleImage(eb, scope, { current: true }))
    .select((eb) => [
      eb.fn.countAll<number>().as('images'),
      eb.fn.sum<number>(sql`case when i.critical > 0 then 1 else 0 end`).as('with_critical'),
      eb.fn.sum<number>('i.has_kev').as('with_kev'),
      eb.fn.sum<number>(sql`case when i.evidence_state = 'failed' then 1 else 0 end`).as('evidence_failed'),
      eb.fn.sum<number>('i.critical').as('critical'),
      eb.fn.sum<number>('i.high').as('high'),
      eb.fn.sum<number>('i.medium').as('medium'),
      eb.fn.sum<number>('i.low').as('low'),
      eb.fn.sum<number>('i.unknown').as('unknown'),
      eb.fn.sum<number>('i.risk_index').as('risk'),
      eb.fn.sum<number>(sql`case when i.evidence_state = 'verified' then 1 else 0 end`).as('evidence_verified'),
      eb.fn.sum<number>(sql`case when i.last_ingested_at < ${now - STALE_DAYS * DAY_MS} then 1 else 0 end`).as('stale'),
      newVulnerabilities.as('new_vulnerabilities'),
    ])
    .executeTakeFirstOrThrow();
  const n = (v: unknown) => Number(v ?? 0);
  return {
    currentImages: n(row.images),
    withCritical: n(row.with_critical),
    withKev: n(row.with_kev),
    evidenceFailed: n(row.evidence_failed),
    open: {
      critical: n(row.critical),
      high: n(row.high),
      medium: n(row.medium),
      low: n(row.low),
      unknown: n(row.unknown),
    },
    riskIndex: n(row.risk),
    evidenceVerified: n(row.evidence_verified),
    stale: n(row.stale),
    staleDays: STALE_DAYS,
    newVulnerabilities24h: n(row.new_vulnerabilities),
  };
}
