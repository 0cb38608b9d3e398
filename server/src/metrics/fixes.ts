// Fix tracing (SERVER.md section 3, "Fix tracing"; PIPELINE.md 3.2 (d)): every resolved exposure episode joined
// with the build that resolved it (commit, ref, run from its verified provenance), the package change, the images
// before and after, and the times to fix. Each fix is classified from what the server holds (layers, packages, OS).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { decodeCursor, listHash, type Page, type PageRequest, pageOf } from '../queries/keyset.js';
import { isoTime } from '../queries/text.js';
import { DAY_MS } from './compute.js';

export type FixKind = 'base-bump' | 'base-rebuild' | 'explicit-upgrade' | 'removal' | 'app-dependency';

export interface Fix {
  vulnerability: string;
  severity: string;
  package: string;
  repository: string;
  track: string;
  openedAt: string;
  openedIn: string;
  resolvedAt: string;
  resolvedIn: string;
  packageChange: { from: string; to: string | null };
  kind: FixKind;
  regression: boolean;
  build: {
    commit: string | null;
    ref: string | null;
    runId: string | null;
    runUrl: string | null;
    builder: string | null;
    sourceRepo: string | null;
    /** The commit of the build that brought the vulnerability in, when it had a provenance. */
    previousCommit: string | null;
  } | null;
  /** Days from the exposure's opening (first seen by the server on the track) to its resolution. */
  timeToFixDays: number;
  /** Days from the first ingest whose data named a fixed version to the resolution, when there was one. */
  timeFromFixAvailableDays: number | null;
  cvePublishedAt: string | null;
  fixFirstSeenAt: string | null;
}

export interface FixFilters {
  repositoryIds: readonly number[];
  vulnerabilityId?: number;
  from?: number;
  to?: number;
}

const OS_PACKAGE_TYPES = new Set(['apk', 'deb', 'rpm', 'alpm', 'ebuild']);
const round2 = (n: number): number => Math.round(n * 100) / 100;

function fixQuery(db: Kysely<Database>, filters: FixFilters) {
  let q = db
    .selectFrom('exposure_episodes as e')
    .innerJoin('exposures as x', 'x.id', 'e.exposure_id')
    .innerJoin('repositories as r', 'r.id', 'x.repository_id')
    .innerJoin('vulnerabilities as v', 'v.id', 'x.vulnerability_id')
    .innerJoin('images as oi', 'oi.id', 'e.opened_image_id')
    .innerJoin('images as ri', 'ri.id', 'e.resolved_image_id')
    .leftJoin('builds as b', 'b.id', 'e.resolved_build_id')
    .select([
      'e.id',
      'e.severity',
      'e.opened_at',
      'e.resolved_at',
      'e.package_from',
      'e.package_to',
      'e.regression',
      'e.fix_first_seen_at',
      'e.opened_image_id',
      'e.resolved_image_id',
      'x.package_name',
      'x.track',
      'x.repository_id',
      'x.cve_published_at',
      'r.name as repository',
      'v.vuln_id',
      'oi.digest as opened_digest',
      'oi.os_ecosystem as opened_os',
      'ri.digest as resolved_digest',
      'ri.os_ecosystem as resolved_os',
      'b.id as build_id',
      'b.source_commit',
      'b.source_ref',
      'b.run_id',
      'b.run_url',
      'b.builder_id',
      'b.source_repo',
    ])
    .where('e.resolved_at', 'is not', null)
    .where('x.repository_id', 'in', filters.repositoryIds.length ? [...filters.repositoryIds] : [-1]);
  if (filters.vulnerabilityId !== undefined) q = q.where('x.vulnerability_id', '=', filters.vulnerabilityId);
  if (filters.from !== undefined) q = q.where('e.resolved_at', '>=', filters.from);
  if (filters.to !== undefined) q = q.where('e.resolved_at', '<', filters.to);
  return q;
}
type FixRow = Awaited<ReturnType<ReturnType<typeof fixQuery>['execute']>>[number];

/** One page of fixes, newest resolution first. */
export async function listFixes(db: Kysely<Database>, filters: FixFilters, page: PageRequest): Promise<Page<Fix>> {
  const hash = listHash('-resolvedAt', { ...filters, repositoryIds: filters.repositoryIds.join(',') });
  const cursor = decodeCursor(page, hash);
  let q = fixQuery(db, filters);
  if (cursor) {
    const at = Number(cursor.value);
    q = q.where((eb) =>
      eb.or([eb('e.resolved_at', '<', at), eb.and([eb('e.resolved_at', '=', at), eb('e.id', '<', cursor.id)])]),
    );
  }
  const rows = await q
    .orderBy('e.resolved_at', 'desc')
    .orderBy('e.id', 'desc')
    .limit(page.limit + 1)
    .execute();
  const kept = rows.slice(0, page.limit);
  const fixes = await fixesOf(db, kept);
  const byId = new Map(kept.map((row, i) => [row.id, fixes[i] as Fix]));
  return pageOf(
    rows,
    page,
    hash,
    (row) => ({ value: row.resolved_at, id: row.id }),
    (row) => byId.get(row.id) as Fix,
    {
      count: rows.length > page.limit ? page.limit + 1 : rows.length,
      type: rows.length > page.limit ? 'AT_LEAST' : 'EXACT',
    },
  );
}

/** Every fix matching the filters, oldest resolution first, in batches (the JSON-lines corpus export). */
export async function* allFixes(db: Kysely<Database>, filters: FixFilters, batch = 500): AsyncGenerator<Fix> {
  let after: { at: number; id: number } | undefined;
  for (;;) {
    let q = fixQuery(db, filters);
    if (after) {
      const a = after;
      q = q.where((eb) =>
        eb.or([eb('e.resolved_at', '>', a.at), eb.and([eb('e.resolved_at', '=', a.at), eb('e.id', '>', a.id)])]),
      );
    }
    const rows = await q.orderBy('e.resolved_at', 'asc').orderBy('e.id', 'asc').limit(batch).execute();
    for (const fix of await fixesOf(db, rows)) yield fix;
    const last = rows[rows.length - 1];
    if (!last || rows.length < batch) return;
    after = { at: last.resolved_at as number, id: last.id };
  }
}

/** What a batch of fixes needs besides its rows, read in a few queries for the whole batch (no query per fix). */
interface BatchFacts {
  /** `imageId\npackage name` → the package's type and the lowest position of a layer holding it. */
  placements: Map<string, { type: string; position: number | null }>;
  /** image id → its first layer's id. */
  firstLayers: Map<number, number>;
  /** resolving image id → the commit of the build it replaced. */
  previousCommits: Map<number, string | null>;
}

async function fixesOf(db: Kysely<Database>, rows: readonly FixRow[]): Promise<Fix[]> {
  if (rows.length === 0) return [];
  const imageIds = [...new Set(rows.flatMap((r) => [r.opened_image_id, r.resolved_image_id ?? r.opened_image_id]))];
  const names = [...new Set(rows.map((r) => r.package_name))];
  const [occurrences, layers] = await Promise.all([
    db
      .selectFrom('package_occurrences as o')
      .innerJoin('packages as p', 'p.id', 'o.package_id')
      .leftJoin('image_layers as il', (j) =>
        j.onRef('il.image_id', '=', 'o.image_id').onRef('il.layer_id', '=', 'o.layer_id'),
      )
      .select(['o.image_id', 'p.name', 'p.type', 'il.position'])
      .where('o.image_id', 'in', imageIds)
      .where('p.name', 'in', names)
      .execute(),
    db
      .selectFrom('image_layers')
      .select(['image_id', 'layer_id'])
      .where('image_id', 'in', imageIds)
      .where('position', '=', 0)
      .execute(),
  ]);
  const placements: BatchFacts['placements'] = new Map();
  for (const o of occurrences) {
    const key = `${o.image_id}\n${o.name}`;
    const seen = placements.get(key);
    const position = o.position ?? null;
    // the lowest known position wins (the two engines order NULLs differently, so this is done here)
    if (!seen || (position !== null && (seen.position === null || position < seen.position))) {
      placements.set(key, { type: o.type, position });
    }
  }
  const previousCommits: BatchFacts['previousCommits'] = new Map();
  for (const row of rows) {
    if (row.resolved_image_id !== null && !previousCommits.has(row.resolved_image_id)) {
      previousCommits.set(row.resolved_image_id, await previousBuildCommit(db, row));
    }
  }
  const facts: BatchFacts = {
    placements,
    firstLayers: new Map(layers.map((l) => [l.image_id, l.layer_id])),
    previousCommits,
  };
  return rows.map((row) => fixOf(row, facts));
}

function fixOf(row: FixRow, facts: BatchFacts): Fix {
  const resolvedAt = row.resolved_at as number;
  const previous = row.resolved_image_id === null ? null : (facts.previousCommits.get(row.resolved_image_id) ?? null);
  return {
    vulnerability: row.vuln_id,
    severity: row.severity,
    package: row.package_name,
    repository: row.repository,
    track: row.track,
    openedAt: isoTime(row.opened_at),
    openedIn: row.opened_digest,
    resolvedAt: isoTime(resolvedAt),
    resolvedIn: row.resolved_digest,
    packageChange: { from: row.package_from, to: row.package_to },
    kind: classify(row, facts),
    regression: row.regression === 1,
    build:
      row.build_id === null
        ? null
        : {
            commit: row.source_commit,
            ref: row.source_ref,
            runId: row.run_id,
            runUrl: row.run_url,
            builder: row.builder_id,
            sourceRepo: row.source_repo,
            previousCommit: previous,
          },
    timeToFixDays: round2((resolvedAt - row.opened_at) / DAY_MS),
    timeFromFixAvailableDays:
      row.fix_first_seen_at === null ? null : round2((resolvedAt - row.fix_first_seen_at) / DAY_MS),
    cvePublishedAt: row.cve_published_at === null ? null : isoTime(row.cve_published_at),
    fixFirstSeenAt: row.fix_first_seen_at === null ? null : isoTime(row.fix_first_seen_at),
  };
}

/**
 * The commit of the build the resolving image replaced: the image first seen on the track just before it, when a
 * provenance named its commit.
 */
async function previousBuildCommit(db: Kysely<Database>, row: FixRow): Promise<string | null> {
  if (row.resolved_image_id === null) return null;
  const placed = await db
    .selectFrom('repository_images')
    .select(['repository_id', 'first_seen_at'])
    .where('image_id', '=', row.resolved_image_id)
    .where('track', '=', row.track)
    .where('repository_id', '=', row.repository_id)
    .executeTakeFirst();
  if (!placed) return null;
  const before = await db
    .selectFrom('repository_images as ri')
    .innerJoin('builds as b', 'b.image_id', 'ri.image_id')
    .select(['b.source_commit'])
    .where('ri.repository_id', '=', placed.repository_id)
    .where('ri.track', '=', row.track)
    .where('ri.first_seen_at', '<', placed.first_seen_at)
    .orderBy('ri.first_seen_at', 'desc')
    .orderBy('b.id', 'desc')
    .executeTakeFirst();
  return before?.source_commit ?? null;
}

/** What the server knows about one fix, for its classification. */
export interface FixFacts {
  /** The package is an OS package (apk, deb, rpm, …), not a language one. */
  osPackage: boolean;
  /** The position of the package's layer in the image before / after (null: unknown; after undefined: gone). */
  beforePosition: number | null;
  afterPosition: number | null | undefined;
  /** The image's first layer differs between before and after. */
  baseChanged: boolean;
  /** The OS release (ecosystem, e.g. `Alpine:v3.16`) differs between before and after. */
  osChanged: boolean;
  /** The package is gone from the image after. */
  removed: boolean;
}

/**
 * The kind of a fix, first match wins (PIPELINE.md 3.2 (d), with the server's data: the base image is taken to be
 * the image's first layer, as no Dockerfile is held):
 * - base-bump: an OS package of the first layer, the first layer changed, and the OS release changed;
 * - base-rebuild: the same with the OS release unchanged (the base was rebuilt);
 * - removal: the package is gone;
 * - explicit-upgrade: an OS package whose fixed version came from a later layer (an upgrade step of the build);
 * - app-dependency: a language package changed (its lockfile).
 */
export function fixKind(f: FixFacts): FixKind {
  if (f.osPackage && f.beforePosition === 0 && f.baseChanged && (f.removed || f.afterPosition === 0)) {
    return f.osChanged ? 'base-bump' : 'base-rebuild';
  }
  if (f.removed) return 'removal';
  if (f.osPackage) return 'explicit-upgrade';
  return 'app-dependency';
}

function classify(row: FixRow, facts: BatchFacts): FixKind {
  const before = facts.placements.get(`${row.opened_image_id}\n${row.package_name}`);
  const after =
    row.resolved_image_id === null ? undefined : facts.placements.get(`${row.resolved_image_id}\n${row.package_name}`);
  const baseBefore = facts.firstLayers.get(row.opened_image_id);
  const baseAfter = row.resolved_image_id === null ? undefined : facts.firstLayers.get(row.resolved_image_id);
  return fixKind({
    osPackage: before !== undefined && OS_PACKAGE_TYPES.has(before.type),
    beforePosition: before?.position ?? null,
    afterPosition: after?.position,
    baseChanged: baseBefore !== undefined && baseAfter !== undefined && baseBefore !== baseAfter,
    osChanged: row.opened_os !== row.resolved_os,
    removed: row.package_to === null || after === undefined,
  });
}
