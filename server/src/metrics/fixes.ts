// Fix tracing (SERVER.md section 3, "Fix tracing"; PIPELINE.md 3.2 (d)): every resolved exposure episode joined
// with the build that resolved it (commit, ref, run from its verified provenance), the package change, the images
// before and after, and the times to fix. Each fix is classified from what the server holds: where each image's base
// ends (its provenance's base image, Lading's patch history, the layers it shares with the previous build's base),
// the package's layer on either side, the OS release, and Lading's own patch evidence.
import type { Kysely } from 'kysely';
import type { BlobStore } from '../blobs/index.js';
import type { Database } from '../db/schema.js';
import { decodeCursor, listHash, type Page, type PageRequest, pageOf } from '../queries/keyset.js';
import { isoTime } from '../queries/text.js';
import { DAY_MS } from './compute.js';

export type FixKind = 'base-bump' | 'base-rebuild' | 'explicit-upgrade' | 'removal' | 'app-dependency' | 'lading-patch';

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
export async function listFixes(
  db: Kysely<Database>,
  filters: FixFilters,
  page: PageRequest,
  blobs?: BlobStore,
): Promise<Page<Fix>> {
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
  const fixes = await fixesOf(db, kept, blobs);
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
export async function* allFixes(
  db: Kysely<Database>,
  filters: FixFilters,
  blobs?: BlobStore,
  batch = 500,
): AsyncGenerator<Fix> {
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
    for (const fix of await fixesOf(db, rows, blobs)) yield fix;
    const last = rows[rows.length - 1];
    if (!last || rows.length < batch) return;
    after = { at: last.resolved_at as number, id: last.id };
  }
}

/** What a batch of fixes needs besides its rows, read in a few queries for the whole batch (no query per fix). */
interface BatchFacts {
  /** `imageId\npackage name` → the package's type and the lowest position of a layer holding it. */
  placements: Map<string, { type: string; position: number | null }>;
  /** image id → its layers in order (diff id, history `created_by`). */
  layers: Map<number, ImageLayer[]>;
  /** image id → what its provenance says about its base and about a Lading patch. */
  provenance: Map<number, ProvenanceFacts>;
  /** base image digest → the layers of that image, when the server holds it. */
  heldBases: Map<string, string[]>;
  /** resolving image id → the commit of the build it replaced. */
  previousCommits: Map<number, string | null>;
}

async function fixesOf(db: Kysely<Database>, rows: readonly FixRow[], blobs?: BlobStore): Promise<Fix[]> {
  if (rows.length === 0) return [];
  const imageIds = [...new Set(rows.flatMap((r) => [r.opened_image_id, r.resolved_image_id ?? r.opened_image_id]))];
  const names = [...new Set(rows.map((r) => r.package_name))];
  const [occurrences, layerRows, provenance] = await Promise.all([
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
      .selectFrom('image_layers as il')
      .innerJoin('layers as l', 'l.id', 'il.layer_id')
      .select(['il.image_id', 'il.position', 'l.diff_id', 'il.created_by'])
      .where('il.image_id', 'in', imageIds)
      .orderBy('il.image_id')
      .orderBy('il.position')
      .execute(),
    blobs ? provenanceFactsOf(db, blobs, imageIds) : Promise.resolve(new Map<number, ProvenanceFacts>()),
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
  const layers: BatchFacts['layers'] = new Map();
  for (const l of layerRows) {
    const list = layers.get(l.image_id) ?? [];
    list.push({ diffId: l.diff_id, createdBy: l.created_by });
    layers.set(l.image_id, list);
  }
  const baseDigests = [...new Set([...provenance.values()].flatMap((p) => (p.base ? [p.base.digest] : [])))];
  const heldBases: BatchFacts['heldBases'] = new Map();
  if (baseDigests.length > 0) {
    const held = await db
      .selectFrom('images as i')
      .innerJoin('image_layers as il', 'il.image_id', 'i.id')
      .innerJoin('layers as l', 'l.id', 'il.layer_id')
      .select(['i.id', 'i.digest', 'i.index_digest', 'il.position', 'l.diff_id'])
      .where((eb) => eb.or([eb('i.digest', 'in', baseDigests), eb('i.index_digest', 'in', baseDigests)]))
      .orderBy('i.id')
      .orderBy('il.position')
      .execute();
    const byImage = new Map<number, { keys: string[]; diffIds: string[] }>();
    for (const h of held) {
      const entry = byImage.get(h.id) ?? { keys: [h.digest, ...(h.index_digest ? [h.index_digest] : [])], diffIds: [] };
      entry.diffIds.push(h.diff_id);
      byImage.set(h.id, entry);
    }
    // an index digest names one image per platform: each is a candidate, the one that is a prefix wins (baseOf)
    for (const { keys, diffIds } of byImage.values()) {
      for (const key of keys) heldBases.set(`${key}\n${diffIds.join(',')}`, diffIds);
    }
  }
  const previousCommits: BatchFacts['previousCommits'] = new Map();
  for (const row of rows) {
    if (row.resolved_image_id !== null && !previousCommits.has(row.resolved_image_id)) {
      previousCommits.set(row.resolved_image_id, await previousBuildCommit(db, row));
    }
  }
  return rows.map((row) => fixOf(row, { placements, layers, provenance, heldBases, previousCommits }));
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

/** One layer of an image as the server holds it. */
export interface ImageLayer {
  diffId: string;
  /** The config history's `created_by` of the step that made it. */
  createdBy: string | null;
}

/** What an image's provenance says (SLSA v1 `resolvedDependencies`, v0.2 `materials`). */
export interface ProvenanceFacts {
  /** The image it was built from: the base image dependency (`pkg:docker/…`, `pkg:oci/…`, `docker://…`) or the
   * input image a Lading pipeline patched. */
  base?: { digest: string; name: string };
  /** The packages a Lading patch installed (dependencies with the role `patch-package`), by name. */
  patchPackages: string[];
}

/** How an image's base was told apart from the image's own layers (for the one reading a fix's kind). */
export type BaseBasis = 'provenance' | 'patch-history' | 'shared-layers' | 'first-layer';

export interface ImageBase {
  /** How many of the image's first layers are its base's; null when nothing says. */
  layers: number | null;
  /** The base image's digest, when its provenance names it. */
  digest?: string;
  /** The base image's name without digest (`pkg:docker/alpine@3.19` → `docker/alpine@3.19`), when named. */
  name?: string;
  basis: BaseBasis;
}

/** The `created_by` Lading's patch writes into the config history for the layer it adds. */
export const LADING_PATCH_CREATED_BY = 'lading patch';

const IMAGE_URI = /^(?:pkg:(?:docker|oci)\/|docker:\/\/|oci:\/\/|docker-image:\/\/|registry:\/\/)/i;

/**
 * The provenance facts of an in-toto statement (or a DSSE envelope around one): the base image among the
 * dependencies (the first image-like URI with a sha256 digest, or the Lading pipeline's `input-image`), and the
 * packages a Lading patch installed. Anything unreadable says nothing.
 */
export function provenanceFacts(document: unknown): ProvenanceFacts {
  const facts: ProvenanceFacts = { patchPackages: [] };
  let statement = document as Record<string, unknown> | null;
  if (statement && typeof statement.payload === 'string') {
    try {
      statement = JSON.parse(Buffer.from(statement.payload, 'base64').toString('utf8')) as Record<string, unknown>;
    } catch {
      return facts;
    }
  }
  const predicate = (statement?.predicate ?? null) as Record<string, unknown> | null;
  if (!predicate || typeof predicate !== 'object') return facts;
  const definition = (predicate.buildDefinition ?? {}) as Record<string, unknown>;
  const dependencies = [
    ...(Array.isArray(definition.resolvedDependencies) ? definition.resolvedDependencies : []),
    ...(Array.isArray(predicate.materials) ? predicate.materials : []),
  ] as { uri?: unknown; name?: unknown; digest?: { sha256?: unknown }; annotations?: { role?: unknown } }[];
  for (const d of dependencies) {
    if (!d || typeof d !== 'object') continue;
    const role = d.annotations?.role;
    if (role === 'patch-package') {
      if (typeof d.name === 'string') facts.patchPackages.push(d.name.split('_')[0] ?? d.name);
      continue;
    }
    const sha = d.digest?.sha256;
    const uri = typeof d.uri === 'string' ? d.uri : '';
    if (facts.base || typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) continue;
    if (role === 'input-image' || IMAGE_URI.test(uri)) {
      facts.base = { digest: `sha256:${sha}`, name: imageName(uri) };
    }
  }
  return facts;
}

/** A dependency URI as a base image name: scheme, digest and platform qualifiers dropped. */
function imageName(uri: string): string {
  return uri
    .replace(/^pkg:|^[a-z-]+:\/\//i, '')
    .replace(/\?.*$/, '')
    .replace(/@sha256:[0-9a-f]{64}$/, '');
}

/**
 * Where the image's base ends. In order: the provenance's base image when the server holds it (its layers are a
 * prefix of this image's); the config history of a Lading-patched image (everything below the `lading patch`
 * layers is the image it patched); the previous build's base when this image starts with the same layers; else
 * nothing is known (the first layer alone is then taken as base material, the only layer surely not the build's own).
 */
export function baseOf(
  layers: readonly ImageLayer[],
  provenance: ProvenanceFacts | undefined,
  heldBase: readonly string[] | undefined,
  previousBase?: { diffIds: readonly string[] },
): ImageBase {
  const named = provenance?.base ? { digest: provenance.base.digest, name: provenance.base.name } : {};
  const diffIds = layers.map((l) => l.diffId);
  const isPrefix = (prefix: readonly string[]) =>
    prefix.length > 0 && prefix.length <= diffIds.length && prefix.every((d, i) => diffIds[i] === d);
  if (heldBase && isPrefix(heldBase)) return { layers: heldBase.length, ...named, basis: 'provenance' };
  let patchLayers = 0;
  while (
    patchLayers < layers.length &&
    layers[layers.length - 1 - patchLayers]?.createdBy === LADING_PATCH_CREATED_BY
  ) {
    patchLayers++;
  }
  if (patchLayers > 0 && patchLayers < layers.length) {
    return { layers: layers.length - patchLayers, ...named, basis: 'patch-history' };
  }
  if (previousBase && isPrefix(previousBase.diffIds)) {
    return { layers: previousBase.diffIds.length, ...named, basis: 'shared-layers' };
  }
  return { layers: null, ...named, basis: 'first-layer' };
}

/** What the server knows about one fix, for its classification. */
export interface FixFacts {
  /** The package is an OS package (apk, deb, rpm, …), not a language one. */
  osPackage: boolean;
  /** The package sat in the base layers before (null: the base's extent is unknown). */
  inBaseBefore: boolean | null;
  /** The package sits in the base layers after (null: unknown; undefined: gone). */
  inBaseAfter: boolean | null | undefined;
  /** The base changed between before and after (another digest, or other base layers). */
  baseChanged: boolean;
  /** The base image's name changed (another tag: `alpine@3.19` → `alpine@3.20`). */
  baseRenamed: boolean;
  /** The OS release (ecosystem, e.g. `Alpine:v3.16`) differs between before and after. */
  osChanged: boolean;
  /** The package is gone from the image after. */
  removed: boolean;
  /** Lading patched the resolving image and its patch installed this package. */
  ladingPatched: boolean;
}

/**
 * The kind of a fix, first match wins (PIPELINE.md 3.2 (d), with the server's data):
 * - lading-patch: Lading's patch (its `lading patch` layer and `dev.lading.patch.*` annotations, its provenance's
 *   `patch-package` dependencies) installed the fixed version;
 * - base-bump: an OS package of the base, fixed by another base image (another name, or another OS release);
 * - base-rebuild: the same base image rebuilt (same name and release, new layers);
 * - removal: the package is gone;
 * - explicit-upgrade: an OS package whose fixed version came from the build's own layers;
 * - app-dependency: a language package changed (its lockfile).
 */
export function fixKind(f: FixFacts): FixKind {
  if (f.ladingPatched && !f.removed) return 'lading-patch';
  if (f.osPackage && f.inBaseBefore === true && f.baseChanged && (f.removed || f.inBaseAfter !== false)) {
    return f.baseRenamed || f.osChanged ? 'base-bump' : 'base-rebuild';
  }
  if (f.removed) return 'removal';
  if (f.osPackage) return 'explicit-upgrade';
  return 'app-dependency';
}

function classify(row: FixRow, facts: BatchFacts): FixKind {
  const beforeLayers = facts.layers.get(row.opened_image_id) ?? [];
  const afterLayers = row.resolved_image_id === null ? [] : (facts.layers.get(row.resolved_image_id) ?? []);
  const beforeProv = facts.provenance.get(row.opened_image_id);
  const afterProv = row.resolved_image_id === null ? undefined : facts.provenance.get(row.resolved_image_id);
  const held = (p: ProvenanceFacts | undefined, layers: readonly ImageLayer[]) => {
    if (!p?.base) return undefined;
    const ids = layers.map((l) => l.diffId);
    for (const [key, diffIds] of facts.heldBases) {
      if (key.startsWith(`${p.base.digest}\n`) && diffIds.every((d, i) => ids[i] === d)) return diffIds;
    }
    return undefined;
  };
  const before = baseOf(beforeLayers, beforeProv, held(beforeProv, beforeLayers));
  const beforeBaseIds = before.layers === null ? undefined : beforeLayers.slice(0, before.layers).map((l) => l.diffId);
  const after = baseOf(
    afterLayers,
    afterProv,
    held(afterProv, afterLayers),
    beforeBaseIds ? { diffIds: beforeBaseIds } : undefined,
  );
  const was = facts.placements.get(`${row.opened_image_id}\n${row.package_name}`);
  const is =
    row.resolved_image_id === null ? undefined : facts.placements.get(`${row.resolved_image_id}\n${row.package_name}`);
  const inBase = (base: ImageBase, position: number | null | undefined): boolean | null =>
    position === null || position === undefined
      ? null
      : base.layers !== null
        ? position < base.layers
        : position === 0
          ? true
          : null;
  // the base changed: by the digests the provenances name, else by the base layers, else by the first layer
  let baseChanged: boolean;
  if (before.digest && after.digest) baseChanged = before.digest !== after.digest;
  else if (beforeBaseIds) baseChanged = after.basis !== 'shared-layers' && !sameStart(afterLayers, beforeBaseIds);
  else baseChanged = (beforeLayers[0]?.diffId ?? '') !== (afterLayers[0]?.diffId ?? '');
  const patchedHere =
    afterLayers.length > 0 &&
    afterLayers[afterLayers.length - 1]?.createdBy === LADING_PATCH_CREATED_BY &&
    is?.position !== null &&
    is?.position !== undefined &&
    afterLayers[is.position]?.createdBy === LADING_PATCH_CREATED_BY;
  return fixKind({
    osPackage: was !== undefined && OS_PACKAGE_TYPES.has(was.type),
    inBaseBefore: inBase(before, was?.position),
    inBaseAfter: is === undefined ? undefined : inBase(after, is.position),
    baseChanged,
    baseRenamed: before.name !== undefined && after.name !== undefined && before.name !== after.name,
    osChanged: row.opened_os !== row.resolved_os,
    removed: row.package_to === null || is === undefined,
    ladingPatched: patchedHere || (afterProv?.patchPackages.includes(row.package_name) ?? false),
  });
}

function sameStart(layers: readonly ImageLayer[], prefix: readonly string[]): boolean {
  return prefix.length <= layers.length && prefix.every((d, i) => layers[i]?.diffId === d);
}

/** The largest provenance document read back to find a base image (a statement is kilobytes). */
const MAX_PROVENANCE_BYTES = 4 * 1024 * 1024;

/** Each image's newest build's provenance, read from the blob store and reduced to its facts. */
async function provenanceFactsOf(
  db: Kysely<Database>,
  blobs: BlobStore,
  imageIds: readonly number[],
): Promise<Map<number, ProvenanceFacts>> {
  const rows = await db
    .selectFrom('builds as b')
    .innerJoin('artifacts as a', 'a.id', 'b.provenance_artifact_id')
    .select(['b.image_id', 'b.id', 'a.sha256', 'a.size'])
    .where('b.image_id', 'in', [...imageIds])
    .orderBy('b.image_id')
    .orderBy('b.id', 'desc')
    .execute();
  const facts = new Map<number, ProvenanceFacts>();
  for (const row of rows) {
    if (facts.has(row.image_id) || Number(row.size) > MAX_PROVENANCE_BYTES) continue;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await blobs.open(row.sha256)) chunks.push(chunk as Buffer);
      facts.set(row.image_id, provenanceFacts(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    } catch {
      // a provenance the store cannot give back, or not JSON: it says nothing about the base
      facts.set(row.image_id, { patchPackages: [] });
    }
  }
  return facts;
}
