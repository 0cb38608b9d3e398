// Re-analysis after a data update (SERVER.md section 3, steps 2-4): the images that hold a package named by a changed
// advisory (and are retained: current somewhere, or ingested within 90 days; retired and quarantined digests stay
// frozen) are matched again with the CLI's matcher over the server's store. Only the findings of the changed packages
// are diffed: new ones appear (first seen now, detected_by reanalysis), ones the data dropped are retracted, retracted
// ones that come back reopen. `finding.new` is written once per repository per new vulnerability, and only for
// published images (a current tag). CVEs newly in KEV alert the same way (once per repository). The job records its
// steps: plan → batches → kev → finalize.
//
// Set-based, for fleets of thousands of images (docs/performance.md, "Server: re-analysis"): the store is opened once
// per job; each distinct package (its OS release, purl and source) is matched once per job however many images hold
// it (matching is per package: the engine's own memo relies on that); images go in batches of IMAGES_PER_BATCH, each
// batch one transaction (so each image's findings, counters and events still change together) with multi-row
// statements for the findings, the counters and the exposures instead of a few round trips per finding.
import type { Finding, Inventory, OsInfo, Package } from '@lading/engine/model';
import type { VulnStoreReader } from '@lading/engine/vulndb';
import { type Expression, type ExpressionBuilder, type SqlBool, sql, type Transaction } from 'kysely';
import type { BlobStore } from '../blobs/index.js';
import type { ServerContext } from '../context.js';
import { decodeJson, encodeJson, isPostgres } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { recordEvent, SYSTEM_ACTOR } from '../events/index.js';
import { queueGithubSync } from '../github/sync.js';
import { AMBIGUOUS_MATCH_EXTRA, matchedOs, osFromMatchOs, packageFromRow } from '../ingest/match-input.js';
import { inventoryFromArtifact, upsertVulnerability } from '../ingest/vulnerability-row.js';
import type { JobStep } from '../jobs/queue.js';
import { JobFailure } from '../jobs/runner.js';
import { queueNotificationsForEvents } from '../notify/outbox.js';
import type { VulnReaders } from '../vulndata/reader.js';
import { queueRebuildCheck } from '../watch/rebuild.js';
import { recountImages } from './counters.js';
import { exceptionsHeldFor, heldException } from './exceptions.js';

export const REANALYZE = 'reanalyze';
export const RETAINED_MS = 90 * 86_400_000;
/** Images per batch (one transaction): big enough that per-statement costs vanish, small enough to hold in memory. */
const IMAGES_PER_BATCH = 200;
const NAMES_PER_QUERY = 500;
/** Ids per `IN (…)` list: far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const IDS_PER_STATEMENT = 1_000;
const MAX_INVENTORY_BYTES = 256 * 1024 * 1024;

export interface ReanalyzePayload {
  generation: number;
  /** The matcher changed: every package is matched again, not only those the generation changed. */
  everything?: boolean;
}

export interface ReanalyzeResult {
  readonly generation: number;
  readonly images: number;
  readonly newFindings: number;
  readonly retracted: number;
  readonly reopened: number;
  readonly alerts: number;
  /** Distinct packages (OS release, purl, source) matched against the store: each once per job. */
  readonly packagesMatched: number;
}

type Trx = Transaction<Database>;

export async function reanalyze(
  ctx: ServerContext,
  blobs: BlobStore,
  /** The process's shared reader of the store (vulndata/reader.ts), or the store's folder (opened for this job). */
  vulndb: VulnReaders | string,
  generation: number,
  step: (s: JobStep) => Promise<void>,
  signal?: AbortSignal,
  everything = false,
): Promise<ReanalyzeResult> {
  const now = ctx.now();
  let started = Date.now();
  await step({ name: 'plan', state: 'running' });
  // every package when the matcher changed (no name filter), else the names the generation changed
  const names = everything
    ? null
    : (
        await ctx.db
          .selectFrom('db_changes')
          .select('package_name')
          .distinct()
          .where('generation_id', '=', generation)
          .execute()
      ).map((r) => r.package_name);
  const retained = () =>
    ctx.db
      .selectFrom('images as i')
      .select('i.id')
      .where('i.state', '=', 'active')
      .where('i.inventory_artifact_id', 'is not', null)
      .where((eb) =>
        eb.or([
          eb('i.last_ingested_at', '>=', now - RETAINED_MS),
          eb.exists(
            eb
              .selectFrom('repository_images as ri')
              .select('ri.image_id')
              .whereRef('ri.image_id', '=', 'i.id')
              .where('ri.is_current', '=', 1),
          ),
        ]),
      );
  const imageIds = new Set<number>();
  if (names === null) {
    for (const r of await retained().execute()) imageIds.add(Number(r.id));
  }
  for (let i = 0; names !== null && i < names.length; i += NAMES_PER_QUERY) {
    const slice = names.slice(i, i + NAMES_PER_QUERY);
    const rows = await retained()
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('package_occurrences as o')
            .innerJoin('packages as p', 'p.id', 'o.package_id')
            .select('o.image_id')
            .whereRef('o.image_id', '=', 'i.id')
            .where('p.match_name', 'in', slice),
        ),
      )
      .execute();
    for (const r of rows) imageIds.add(Number(r.id));
  }
  const planned = [...imageIds].sort((a, b) => a - b);
  await step({
    name: 'plan',
    state: 'succeeded',
    ms: Date.now() - started,
    detail: `${names === null ? 'every package' : `${names.length} changed packages`} in ${planned.length} retained images`,
  });

  const changed = names === null ? null : new Set(names);
  const totals = { newFindings: 0, retracted: 0, reopened: 0, alerts: 0 };
  const batches = Math.ceil(planned.length / IMAGES_PER_BATCH);
  started = Date.now();
  const { VulnStoreReader: Reader } = await import('@lading/engine/vulndb');
  const dbDir = typeof vulndb === 'string' ? vulndb : vulndb.dir;
  // the shared reader is held for the whole job (released, not closed, at its end): a generation made meanwhile
  // retires it only once this job is done
  const held = typeof vulndb === 'string' ? undefined : await vulndb.acquire();
  const matcher = new PackageMatcher(held ? held.store : Reader.open(dbDir), now, held?.release);
  const vulnerabilities = new VulnerabilityRows(ctx, now);
  const clock = new PhaseClock();
  try {
    for (let b = 0; b < batches; b++) {
      if (signal?.aborted) throw new JobFailure('aborted', 'the runner stopped; the job resumes where the data says');
      await step({ name: 'batches', state: 'running', detail: `batch ${b + 1} of ${batches}` });
      const batch = planned.slice(b * IMAGES_PER_BATCH, (b + 1) * IMAGES_PER_BATCH);
      const outcome = await reanalyzeBatch(
        ctx,
        blobs,
        matcher,
        vulnerabilities,
        generation,
        batch,
        changed,
        now,
        clock,
      );
      totals.newFindings += outcome.new;
      totals.retracted += outcome.retracted;
      totals.reopened += outcome.reopened;
      totals.alerts += outcome.alerts;
    }
  } finally {
    matcher.close();
  }
  await step({
    name: 'batches',
    state: 'succeeded',
    ms: Date.now() - started,
    detail: `${batches} batches, ${matcher.matched} distinct packages matched: ${totals.newFindings} new, ${totals.retracted} retracted, ${totals.reopened} reopened (${clock})`,
  });

  started = Date.now();
  await step({ name: 'kev', state: 'running' });
  totals.alerts += await alertNewlyKev(ctx, dbDir, now);
  await step({ name: 'kev', state: 'succeeded', ms: Date.now() - started });

  started = Date.now();
  await step({ name: 'finalize', state: 'running' });
  await ctx.db.transaction().execute(async (trx) => {
    for (let i = 0; i < planned.length; i += IDS_PER_STATEMENT) {
      await trx
        .updateTable('images')
        .set({ analyzed_generation: generation })
        .where('id', 'in', planned.slice(i, i + IDS_PER_STATEMENT))
        .execute();
    }
    await recordEvent(trx, {
      at: now,
      type: 'reanalysis.finished',
      actor: SYSTEM_ACTOR,
      requestId: `reanalyze:${generation}`,
      data: { generation, images: planned.length, ...totals, packagesMatched: matcher.matched },
    });
  });
  await step({ name: 'finalize', state: 'succeeded', ms: Date.now() - started });
  return { generation, images: planned.length, ...totals, packagesMatched: matcher.matched };
}

/** A package to match: the matcher's key for it, and the package (built only when the key is new to the job). */
interface MatchItem {
  readonly os: OsInfo | undefined;
  readonly osKey: string;
  readonly key: string;
  readonly pkg: () => Package;
}

/**
 * Each distinct package matched once per job: the key is everything the matcher reads of a package and its image
 * (the OS release, the purl, name, version, type, source and metadata), so two images holding the same package get
 * the same findings, as the engine's per-inventory memo already assumes. Packages are matched in one inventory per
 * OS release per batch, against one store reader kept open for the job.
 */
class PackageMatcher {
  readonly #store: VulnStoreReader | undefined;
  readonly #now: Date;
  readonly #findings = new Map<string, readonly Finding[]>();

  readonly #release: (() => void) | undefined;

  constructor(store: VulnStoreReader | undefined, now: number, release?: () => void) {
    this.#store = store;
    this.#release = release;
    this.#now = new Date(now);
  }

  get matched(): number {
    return this.#findings.size;
  }

  static keyOf(osKey: string, p: Package): string {
    return [
      osKey,
      p.type,
      p.purl,
      p.name,
      p.version,
      p.source?.name ?? '',
      p.source?.version ?? '',
      p.metadata ? JSON.stringify(p.metadata) : '',
    ].join('\u0000');
  }

  has(key: string): boolean {
    return this.#findings.has(key);
  }

  /** Matches the packages not matched yet in this job (one inventory per OS release). */
  matchMissing(items: readonly MatchItem[]): void {
    const byOs = new Map<string, { os: OsInfo | undefined; packages: Package[] }>();
    for (const { os, osKey, pkg, key } of items) {
      if (this.#findings.has(key)) continue;
      let group = byOs.get(osKey);
      if (!group) {
        group = { os, packages: [] };
        byOs.set(osKey, group);
      }
      // the key is the package's id in the matched inventory: findings come back under it
      this.#findings.set(key, []);
      group.packages.push({ ...pkg(), id: key });
    }
    if (!this.#store) return; // no data: nothing matches (as findVulnerabilities with allowMissingData)
    for (const { os, packages } of byOs.values()) {
      const inventory: Inventory = { packages, warnings: [] };
      if (os) inventory.os = os;
      const result = matchWithStore(inventory, this.#store, this.#now);
      for (const f of result) {
        const list = this.#findings.get(f.packageId);
        if (list) (list as Finding[]).push(f);
      }
    }
  }

  findingsOf(key: string): readonly Finding[] {
    return this.#findings.get(key) ?? [];
  }

  close(): void {
    if (this.#release) this.#release();
    else this.#store?.close();
  }
}

/** The engine's matcher over the open store (loaded lazily: the CLI's matcher is big and only jobs need it). */
let matchVulnerabilitiesFn: typeof import('@lading/engine/match').matchVulnerabilities | undefined;
function matchWithStore(inventory: Inventory, store: VulnStoreReader, now: Date): Finding[] {
  if (!matchVulnerabilitiesFn) throw new Error('the matcher is not loaded');
  return matchVulnerabilitiesFn(inventory, store, { now, allowMissingData: true }).findings;
}
async function loadMatcher(): Promise<void> {
  matchVulnerabilitiesFn ??= (await import('@lading/engine/match')).matchVulnerabilities;
}

/** vuln_id → the server's row id, written once per job (the row takes the values of the first finding naming it). */
class VulnerabilityRows {
  readonly #ctx: ServerContext;
  readonly #now: number;
  readonly #ids = new Map<string, number>();
  readonly #published = new Map<number, number | null>();

  constructor(ctx: ServerContext, now: number) {
    this.#ctx = ctx;
    this.#now = now;
  }

  async ensure(findings: Iterable<Finding>): Promise<void> {
    for (const f of findings) {
      if (this.#ids.has(f.id)) continue;
      this.#ids.set(f.id, await upsertVulnerability(this.#ctx.db, f, this.#now));
    }
  }

  idOf(f: Finding): number {
    const id = this.#ids.get(f.id);
    if (id === undefined) throw new Error(`vulnerability ${f.id} has no row`);
    return id;
  }

  /** published_at of the rows, read once per job (an exposure records when its CVE was published). */
  async publishedAt(trx: Trx, ids: readonly number[]): Promise<ReadonlyMap<number, number | null>> {
    const missing = [...new Set(ids)].filter((id) => !this.#published.has(id));
    for (let i = 0; i < missing.length; i += IDS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('vulnerabilities')
        .select(['id', 'published_at'])
        .where('id', 'in', missing.slice(i, i + IDS_PER_STATEMENT))
        .execute();
      for (const r of rows) this.#published.set(Number(r.id), r.published_at === null ? null : Number(r.published_at));
    }
    return this.#published;
  }
}

/**
 * Where a job's batches spend their time, summed over the batches and shown in the `batches` step: what an operator
 * (and docs/performance.md) needs to see which part of a large update is slow.
 */
class PhaseClock {
  readonly #ms = new Map<string, number>();
  #last = Date.now();
  /** The time since the previous lap (or start) goes to `phase`. */
  lap(phase: string): void {
    const now = Date.now();
    this.#ms.set(phase, (this.#ms.get(phase) ?? 0) + now - this.#last);
    this.#last = now;
  }
  restart(): void {
    this.#last = Date.now();
  }
  toString(): string {
    return [...this.#ms].map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`).join(', ');
  }
}

interface BatchOutcome {
  new: number;
  retracted: number;
  reopened: number;
  alerts: number;
}

/** An image's package rows in scope: by purl (the inventory's key) and by id (the findings' key). */
interface ImageScope {
  readonly byPurl: Map<string, number>;
  readonly ids: Set<number>;
}

/** One image's changed packages: the server's package row and the matcher's key for it. */
interface ScopedPackage {
  readonly packageId: number;
  readonly key: string;
}

async function reanalyzeBatch(
  ctx: ServerContext,
  blobs: BlobStore,
  matcher: PackageMatcher,
  vulnerabilities: VulnerabilityRows,
  generation: number,
  imageIds: readonly number[],
  changed: ReadonlySet<string> | null,
  now: number,
  clock: PhaseClock,
): Promise<BatchOutcome> {
  await loadMatcher();
  clock.restart();
  // the images' package rows in scope (the changed names, or all when the matcher changed), with what the matcher
  // reads of each (0010): no inventory needs reading for a row that stands for every image holding it
  const names = changed ? [...changed] : [];
  let rowsQuery = ctx.db
    .selectFrom('package_occurrences as o')
    .innerJoin('packages as p', 'p.id', 'o.package_id')
    .select(['o.image_id', 'p.id', 'p.purl', 'p.type', 'p.name', 'p.version', 'p.match_name', 'p.match_extra'])
    .where('o.image_id', 'in', [...imageIds]);
  if (changed && names.length <= NAMES_PER_QUERY) rowsQuery = rowsQuery.where('p.match_name', 'in', names);
  const images = await ctx.db
    .selectFrom('images')
    .select(['id', 'match_os'])
    .where('id', 'in', [...imageIds])
    .execute();
  const osOf = new Map<number, { os: OsInfo | undefined; osKey: string } | null>();
  for (const i of images) {
    const os = i.match_os === null ? null : osFromMatchOs(i.match_os);
    osOf.set(Number(i.id), os === null ? null : { os, osKey: osKeyOf(os) });
  }
  const rowsByImage = new Map<number, ImageScope>();
  const fromRows = new Map<number, ScopedPackage[]>();
  const toMatch: MatchItem[] = [];
  const needInventory = new Set<number>();
  const packageRows = await rowsQuery.execute();
  clock.lap('package rows');
  for (const r of packageRows) {
    if (changed && (r.match_name === null || !changed.has(r.match_name))) continue;
    const imageId = Number(r.image_id);
    const packageId = Number(r.id);
    let scope = rowsByImage.get(imageId);
    if (!scope) {
      scope = { byPurl: new Map(), ids: new Set() };
      rowsByImage.set(imageId, scope);
    }
    scope.byPurl.set(r.purl, packageId);
    scope.ids.add(packageId);
    const os = osOf.get(imageId);
    const extra = r.match_extra;
    if (!os || extra === null || extra === AMBIGUOUS_MATCH_EXTRA) {
      // a row from before 0010, one inventories disagree on, or an image whose OS release was not recorded
      needInventory.add(imageId);
      continue;
    }
    // the row is the package: its key needs no inventory (each row is matched once per OS release per job)
    const key = `${os.osKey}\u0000#${packageId}`;
    let list = fromRows.get(imageId);
    if (!list) {
      list = [];
      fromRows.set(imageId, list);
    }
    list.push({ packageId, key });
    if (!matcher.has(key)) toMatch.push({ os: os.os, osKey: os.osKey, key, pkg: () => packageFromRow(key, r, extra) });
  }
  // each image's scoped packages, and the distinct ones matched
  const scoped = new Map<number, ScopedPackage[]>();
  const inventoryOf = await storedInventories(ctx, blobs, [...needInventory]);
  clock.lap('inventories');
  for (const imageId of imageIds) {
    const byPurl = rowsByImage.get(imageId)?.byPurl;
    const inventory = inventoryOf.get(imageId);
    if (!byPurl || !inventory) {
      // every package of the image stands in its row (or none is in scope)
      scoped.set(imageId, fromRows.get(imageId) ?? []);
      continue;
    }
    // read back: the image's scoped packages as its inventory holds them (the rows' values would not be exact)
    const list: ScopedPackage[] = [];
    scoped.set(imageId, list);
    const os = matchedOs(inventory.os);
    const osKey = osKeyOf(os);
    for (const pkg of inventory.packages) {
      const packageId = byPurl.get(pkg.purl);
      if (packageId === undefined) continue;
      const key = PackageMatcher.keyOf(osKey, pkg);
      list.push({ packageId, key });
      if (!matcher.has(key)) toMatch.push({ os, osKey, pkg: () => pkg, key });
    }
  }
  matcher.matchMissing(toMatch);
  clock.lap('match');
  for (const list of scoped.values()) for (const s of list) await vulnerabilities.ensure(matcher.findingsOf(s.key));
  clock.lap('vulnerability rows');

  return ctx.db
    .transaction()
    .execute((trx) => reconcileBatch(trx, matcher, vulnerabilities, generation, scoped, rowsByImage, now, clock))
    .finally(() => clock.lap('commit'));
}

/** The matcher reads the OS release's ecosystem alone (Alpine 3.16.2 and 3.16.4 both match in Alpine:v3.16). */
function osKeyOf(os: OsInfo | undefined): string {
  return os?.ecosystem ?? (os ? JSON.stringify(os) : '');
}

/** The inventories of these images from the blob store, each distinct artifact read once. */
async function storedInventories(
  ctx: ServerContext,
  blobs: BlobStore,
  imageIds: readonly number[],
): Promise<Map<number, Inventory>> {
  const inventoryOf = new Map<number, Inventory>();
  if (imageIds.length === 0) return inventoryOf;
  const artifacts = await ctx.db
    .selectFrom('images as i')
    .innerJoin('artifacts as a', 'a.id', 'i.inventory_artifact_id')
    .select(['i.id', 'a.sha256', 'a.kind', 'i.digest'])
    .where('i.id', 'in', [...imageIds])
    .execute();
  const inventories = new Map<string, Inventory>();
  for (const a of artifacts) {
    let inventory = inventories.get(a.sha256);
    if (!inventory) {
      inventory = await storedInventory(blobs, a.sha256, a.kind, a.digest);
      inventories.set(a.sha256, inventory);
    }
    inventoryOf.set(Number(a.id), inventory);
  }
  return inventoryOf;
}

interface ExistingFinding {
  id: number;
  imageId: number;
  packageId: number;
  vulnerabilityId: number;
  status: string;
  exceptionId: number | null;
  severity: string;
  fixedVersion: string | null;
}

async function reconcileBatch(
  trx: Trx,
  matcher: PackageMatcher,
  vulnerabilities: VulnerabilityRows,
  generation: number,
  scoped: ReadonlyMap<number, readonly ScopedPackage[]>,
  rowsByImage: ReadonlyMap<number, ImageScope>,
  now: number,
  clock: PhaseClock,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { new: 0, retracted: 0, reopened: 0, alerts: 0 };
  const imageIds = [...scoped.keys()];
  // the batch's findings of the packages in scope (filtered in the statement when the scope is a short list)
  const packageIds = new Set<number>();
  for (const scope of rowsByImage.values()) for (const id of scope.ids) packageIds.add(id);
  const existing = new Map<number, ExistingFinding[]>();
  for (let i = 0; i < imageIds.length; i += IDS_PER_STATEMENT) {
    let query = trx
      .selectFrom('findings')
      .select([
        'id',
        'image_id',
        'package_id',
        'vulnerability_id',
        'status',
        'exception_id',
        'severity',
        'fixed_version',
      ])
      .where('image_id', 'in', imageIds.slice(i, i + IDS_PER_STATEMENT));
    if (packageIds.size === 0) break;
    if (packageIds.size <= IDS_PER_STATEMENT) query = query.where('package_id', 'in', [...packageIds]);
    for (const r of await query.execute()) {
      const imageId = Number(r.image_id);
      const packageId = Number(r.package_id);
      if (!rowsByImage.get(imageId)?.ids.has(packageId)) continue;
      let list = existing.get(imageId);
      if (!list) {
        list = [];
        existing.set(imageId, list);
      }
      list.push({
        id: Number(r.id),
        imageId,
        packageId,
        vulnerabilityId: Number(r.vulnerability_id),
        status: r.status,
        exceptionId: r.exception_id === null ? null : Number(r.exception_id),
        severity: r.severity,
        fixedVersion: r.fixed_version,
      });
    }
  }
  clock.lap('existing findings');
  const held = await exceptionsHeldFor(trx, imageIds, now);
  clock.lap('exceptions');
  const inserts: NewFinding[] = [];
  const retract: number[] = [];
  const touchedImages = new Set<number>();
  const openedByImage = new Map<number, { vulnId: number; finding: Finding }[]>();
  for (const [imageId, packages] of scoped) {
    const byKey = new Map((existing.get(imageId) ?? []).map((r) => [`${r.packageId}\n${r.vulnerabilityId}`, r]));
    const present = new Set<string>();
    const opened: { vulnId: number; finding: Finding }[] = [];
    let changedHere = false;
    for (const { packageId, key: matchKey } of packages) {
      for (const f of matcher.findingsOf(matchKey)) {
        const vulnId = vulnerabilities.idOf(f);
        const key = `${packageId}\n${vulnId}`;
        if (present.has(key)) continue;
        present.add(key);
        const row = byKey.get(key);
        const fixedVersion = f.fixedVersions[0] ?? null;
        // a triage decision that holds for this image suppresses what re-analysis adds or brings back
        const exceptionId = heldException(held.get(imageId), vulnId, f.package.name);
        if (!row) {
          const suppressed = Boolean(f.suppressed) || exceptionId !== null;
          inserts.push({
            image_id: imageId,
            package_id: packageId,
            vulnerability_id: vulnId,
            severity: f.severity,
            fixed_version: fixedVersion,
            status: suppressed ? 'suppressed' : 'open',
            exception_id: exceptionId,
            first_seen_at: now,
            last_seen_at: now,
            resolved_at: null,
            resolution: null,
            detected_by: 'reanalysis',
            created_at: now,
          });
          outcome.new++;
          changedHere = true;
          if (!suppressed) opened.push({ vulnId, finding: f });
          continue;
        }
        const reopening = row.status === 'resolved';
        // an exception that still holds keeps suppressing (the exceptions job ends it when it expires), and one
        // that holds now suppresses a finding coming back
        const keptException = row.exceptionId !== null && row.status === 'suppressed' ? row.exceptionId : null;
        const nextException = keptException ?? exceptionId;
        const status = nextException !== null || f.suppressed ? 'suppressed' : 'open';
        if (
          !reopening &&
          status === row.status &&
          nextException === row.exceptionId &&
          f.severity === row.severity &&
          fixedVersion === row.fixedVersion
        ) {
          // still holds as it was: not written at all. `last_seen_at` stays the last ingest (or change) that saw it;
          // `images.analyzed_generation` says which data judged the image last. Touching every unchanged finding
          // would rewrite millions of rows for a day's delta that changes a few thousand.
          continue;
        }
        await trx
          .updateTable('findings')
          .set((eb) => ({
            severity: f.severity,
            fixed_version: fixedVersion,
            status,
            exception_id: nextException,
            last_seen_at: now,
            resolved_at: null,
            resolution: null,
            ...(reopening ? { reopened_count: eb('reopened_count', '+', 1) } : {}),
          }))
          .where('id', '=', row.id)
          .execute();
        changedHere = true;
        if (reopening) {
          outcome.reopened++;
          if (status === 'open') opened.push({ vulnId, finding: f });
        }
      }
    }
    for (const row of existing.get(imageId) ?? []) {
      if (present.has(`${row.packageId}\n${row.vulnerabilityId}`) || row.status === 'resolved') continue;
      retract.push(row.id);
      outcome.retracted++;
      changedHere = true;
    }
    if (changedHere) touchedImages.add(imageId);
    if (opened.length > 0) openedByImage.set(imageId, opened);
  }
  clock.lap('compare');
  await insertFindings(trx, inserts);
  clock.lap('insert findings');
  await forIds(trx, retract, (where) =>
    trx
      .updateTable('findings')
      .set({ status: 'resolved', resolved_at: now, resolution: 'retracted' })
      .where(where)
      .execute(),
  );
  clock.lap('update findings');
  await recountImages(trx, [...touchedImages]);
  clock.lap('counters');
  if (openedByImage.size > 0) {
    // the tracks (and repositories) where each image with new findings is current
    const placements = new Map<number, { repositoryId: number; track: string }[]>();
    const opened = [...openedByImage.keys()];
    for (let i = 0; i < opened.length; i += IDS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('repository_images')
        .select(['image_id', 'repository_id', 'track'])
        .where('image_id', 'in', opened.slice(i, i + IDS_PER_STATEMENT))
        .where('is_current', '=', 1)
        .execute();
      for (const r of rows) {
        const list = placements.get(Number(r.image_id)) ?? [];
        list.push({ repositoryId: Number(r.repository_id), track: r.track });
        placements.set(Number(r.image_id), list);
      }
    }
    const alerts: Alert[] = [];
    for (const [imageId, list] of openedByImage) {
      const tracks = placements.get(imageId);
      if (!tracks) continue; // not published anywhere: no exposure, no alert
      await openExposures(trx, vulnerabilities, imageId, tracks, list, now);
      alerts.push(...alertsOf(generation, imageId, tracks, list));
    }
    clock.lap('exposures');
    outcome.alerts += await recordAlerts(trx, generation, alerts, now);
    clock.lap('alerts');
  }
  return outcome;
}

type NewFinding = {
  image_id: number;
  package_id: number;
  vulnerability_id: number;
  severity: string;
  fixed_version: string | null;
  status: 'open' | 'suppressed';
  exception_id: number | null;
  first_seen_at: number;
  last_seen_at: number;
  resolved_at: null;
  resolution: null;
  detected_by: 'reanalysis';
  created_at: number;
};

/**
 * New findings: on PostgreSQL one `INSERT … SELECT FROM unnest(…)` per 20,000 rows (13 array parameters, one plan,
 * instead of 26,000 scalars a statement); on SQLite multi-row inserts (in-process: no round trips to save).
 */
async function insertFindings(trx: Trx, rows: readonly NewFinding[]): Promise<void> {
  if (isPostgres(trx)) {
    for (let i = 0; i < rows.length; i += 20_000) {
      const chunk = rows.slice(i, i + 20_000);
      const column = <K extends keyof NewFinding>(k: K) => chunk.map((r) => r[k]);
      await sql`insert into findings (image_id, package_id, vulnerability_id, severity, fixed_version, status,
          exception_id, first_seen_at, last_seen_at, resolved_at, resolution, detected_by, created_at)
        select * from unnest(${column('image_id')}::bigint[], ${column('package_id')}::bigint[],
          ${column('vulnerability_id')}::bigint[], ${column('severity')}::text[], ${column('fixed_version')}::text[],
          ${column('status')}::text[], ${column('exception_id')}::bigint[], ${column('first_seen_at')}::bigint[],
          ${column('last_seen_at')}::bigint[], ${column('resolved_at')}::bigint[], ${column('resolution')}::text[],
          ${column('detected_by')}::text[], ${column('created_at')}::bigint[])`.execute(trx);
    }
    return;
  }
  // 13 columns: 2,000 rows stay under SQLite's bound-parameter limit
  for (let i = 0; i < rows.length; i += 2_000) {
    await trx
      .insertInto('findings')
      .values(rows.slice(i, i + 2_000))
      .execute();
  }
}

/** `id in (…)` for a long list: one array parameter on PostgreSQL, chunks of IDS_PER_STATEMENT on SQLite. */
async function forIds(
  trx: Trx,
  ids: readonly number[],
  run: (where: (eb: ExpressionBuilder<Database, 'findings'>) => Expression<SqlBool>) => Promise<unknown>,
): Promise<void> {
  if (ids.length === 0) return;
  if (isPostgres(trx)) {
    for (let i = 0; i < ids.length; i += 100_000) {
      const chunk = ids.slice(i, i + 100_000);
      await run(() => sql<SqlBool>`id = any(${chunk}::bigint[])`);
    }
    return;
  }
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
    await run((eb) => eb('id', 'in', chunk));
  }
}

/**
 * The tracks this image is current in now expose what appeared in it (SERVER.md section 1, "Exposures"): an exposure
 * (repository, track, vulnerability, package name) opens, or reopens as a regression, with its episode; one already
 * open stays as it is. (A retraction leaves exposures alone: the data changed its mind, nothing was fixed.) One read
 * of the track's exposures for all the vulnerabilities that appeared.
 */
async function openExposures(
  trx: Trx,
  vulnerabilities: VulnerabilityRows,
  imageId: number,
  tracks: readonly { repositoryId: number; track: string }[],
  opened: readonly { vulnId: number; finding: Finding }[],
  now: number,
): Promise<void> {
  const vulnIds = [...new Set(opened.map((o) => o.vulnId))];
  const published = await vulnerabilities.publishedAt(trx, vulnIds);
  for (const { repositoryId, track } of tracks) {
    const known = new Map<string, { id: number; state: string; fix_first_seen_at: number | null }>();
    for (let i = 0; i < vulnIds.length; i += IDS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('exposures')
        .select(['id', 'state', 'fix_first_seen_at', 'vulnerability_id', 'package_name'])
        .where('repository_id', '=', repositoryId)
        .where('track', '=', track)
        .where('vulnerability_id', 'in', vulnIds.slice(i, i + IDS_PER_STATEMENT))
        .execute();
      for (const r of rows)
        known.set(`${r.vulnerability_id}\n${r.package_name}`, {
          id: Number(r.id),
          state: r.state,
          fix_first_seen_at: r.fix_first_seen_at === null ? null : Number(r.fix_first_seen_at),
        });
    }
    const done = new Set<string>();
    const episodes: { exposureId: number; f: Finding; regression: boolean; fixFirstSeenAt: number | null }[] = [];
    const created: { key: string; f: Finding; vulnId: number; fixFirstSeenAt: number | null }[] = [];
    for (const { vulnId, finding: f } of opened) {
      const key = `${vulnId}\n${f.package.name}`;
      if (done.has(key)) continue;
      done.add(key);
      const row = known.get(key);
      const fixFirstSeenAt = f.fixedVersions.length > 0 ? now : null;
      if (!row) {
        created.push({ key, f, vulnId, fixFirstSeenAt });
      } else if (row.state === 'resolved') {
        await trx
          .updateTable('exposures')
          .set((eb) => ({
            state: 'open',
            resolved_at: null,
            resolved_image_id: null,
            resolved_build_id: null,
            package_to: null,
            severity: f.severity,
            reopened_count: eb('reopened_count', '+', 1),
            fix_first_seen_at: row.fix_first_seen_at ?? fixFirstSeenAt,
          }))
          .where('id', '=', row.id)
          .execute();
        episodes.push({ exposureId: row.id, f, regression: true, fixFirstSeenAt });
      }
    }
    // the new exposures in multi-row inserts (16 columns: 1,000 rows a statement), their ids read back by key
    for (let i = 0; i < created.length; i += 1_000) {
      const rows = await trx
        .insertInto('exposures')
        .values(
          created.slice(i, i + 1_000).map(({ f, vulnId, fixFirstSeenAt }) => ({
            repository_id: repositoryId,
            track,
            vulnerability_id: vulnId,
            package_name: f.package.name,
            severity: f.severity,
            state: 'open',
            opened_at: now,
            opened_image_id: imageId,
            resolved_at: null,
            resolved_image_id: null,
            resolved_build_id: null,
            package_from: f.package.version,
            package_to: null,
            cve_published_at: published.get(vulnId) ?? null,
            fix_first_seen_at: fixFirstSeenAt,
            created_at: now,
          })),
        )
        .returning(['id', 'vulnerability_id', 'package_name'])
        .execute();
      const idOf = new Map(rows.map((r) => [`${r.vulnerability_id}\n${r.package_name}`, Number(r.id)]));
      for (const { key, f, fixFirstSeenAt } of created.slice(i, i + 1_000)) {
        const exposureId = idOf.get(key);
        if (exposureId === undefined) throw new Error(`exposure ${key} has no row after its insert`);
        episodes.push({ exposureId, f, regression: false, fixFirstSeenAt });
      }
    }
    // 12 columns: 2,000 rows stay under both engines' bound-parameter limits
    for (let i = 0; i < episodes.length; i += 2_000) {
      await trx
        .insertInto('exposure_episodes')
        .values(
          episodes.slice(i, i + 2_000).map(({ exposureId, f, regression, fixFirstSeenAt }) => ({
            exposure_id: exposureId,
            severity: f.severity,
            opened_at: now,
            opened_image_id: imageId,
            resolved_at: null,
            resolved_image_id: null,
            resolved_build_id: null,
            package_from: f.package.version,
            package_to: null,
            regression: regression ? 1 : 0,
            fix_first_seen_at: fixFirstSeenAt,
            created_at: now,
          })),
        )
        .execute();
    }
  }
}

/** A `finding.new` to write: its request id names (generation, repository, vulnerability). */
interface Alert {
  readonly requestId: string;
  readonly repositoryId: number;
  readonly imageId: number;
  readonly vulnId: number;
  readonly finding: Finding;
}

/**
 * One `finding.new` per repository per vulnerability per generation, for the repositories where this image is
 * published (a current tag); a second image of the same repository with the same new vulnerability in this batch
 * adds nothing.
 */
function alertsOf(
  generation: number,
  imageId: number,
  tracks: readonly { repositoryId: number; track: string }[],
  opened: readonly { vulnId: number; finding: Finding }[],
): Alert[] {
  const out: Alert[] = [];
  for (const repositoryId of new Set(tracks.map((t) => t.repositoryId))) {
    const seen = new Set<number>();
    for (const { vulnId, finding } of opened) {
      if (seen.has(vulnId)) continue;
      seen.add(vulnId);
      out.push({
        requestId: `reanalyze:${generation}:${repositoryId}:${vulnId}`,
        repositoryId,
        imageId,
        vulnId,
        finding,
      });
    }
  }
  return out;
}

/**
 * Writes a batch's alerts as recordEvent does (events/record.ts: the event, its outbox rows, the repository's GitHub
 * sync and rebuild check), set-based: one read of the request ids already written (a re-run, or an earlier image of
 * the repository, writes nothing), the events in multi-row inserts, and the per-repository jobs once per repository
 * rather than once per event (they are deduplicated per repository anyway). Returns the alerts written.
 */
async function recordAlerts(trx: Trx, generation: number, alerts: readonly Alert[], now: number): Promise<number> {
  if (alerts.length === 0) return 0;
  const sent = new Set<string>();
  const requestIds = [...new Set(alerts.map((a) => a.requestId))];
  for (let i = 0; i < requestIds.length; i += IDS_PER_STATEMENT) {
    const rows = await trx
      .selectFrom('events')
      .select('request_id')
      .where('type', '=', 'finding.new')
      .where('request_id', 'in', requestIds.slice(i, i + IDS_PER_STATEMENT))
      .execute();
    for (const r of rows) if (r.request_id) sent.add(r.request_id);
  }
  const fresh: (Alert & { data: Record<string, unknown> })[] = [];
  for (const a of alerts) {
    if (sent.has(a.requestId)) continue;
    sent.add(a.requestId);
    fresh.push({
      ...a,
      data: {
        detectedBy: 'reanalysis',
        generation,
        vulnerability: a.finding.id,
        kev: a.finding.kev === true,
        fixedVersion: a.finding.fixedVersions[0] ?? null,
      },
    });
  }
  // 11 columns: 2,000 rows stay under both engines' bound-parameter limits
  const ids = new Map<string, number>();
  for (let i = 0; i < fresh.length; i += 2_000) {
    const rows = await trx
      .insertInto('events')
      .values(
        fresh.slice(i, i + 2_000).map((a) => ({
          at: now,
          type: 'finding.new',
          actor_kind: SYSTEM_ACTOR.kind,
          actor_id: SYSTEM_ACTOR.id,
          repository_id: a.repositoryId,
          image_id: a.imageId,
          vulnerability_id: a.vulnId,
          severity: a.finding.severity,
          request_id: a.requestId,
          data: encodeJson(a.data),
          created_at: now,
        })),
      )
      .returning(['id', 'request_id'])
      .execute();
    for (const r of rows) if (r.request_id) ids.set(r.request_id, Number(r.id));
  }
  await queueNotificationsForEvents(
    trx,
    now,
    fresh.map((a) => {
      const id = ids.get(a.requestId);
      if (id === undefined) throw new Error(`event ${a.requestId} has no row after its insert`);
      return {
        id,
        at: now,
        type: 'finding.new',
        severity: a.finding.severity,
        repositoryId: a.repositoryId,
        vulnerabilityId: a.vulnId,
        data: a.data,
      };
    }),
  );
  for (const repositoryId of new Set(fresh.map((a) => a.repositoryId))) {
    await queueGithubSync(trx, now, repositoryId);
    await queueRebuildCheck(trx, now, repositoryId);
  }
  return fresh.length;
}

/** An inventory (its Lading report, else its SBOM) read back from the blob store under a cap. */
async function storedInventory(blobs: BlobStore, sha256: string, kind: string, digest: string): Promise<Inventory> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await blobs.open(sha256)) {
    size += (chunk as Buffer).length;
    if (size > MAX_INVENTORY_BYTES)
      throw new JobFailure('inventory_too_large', `${digest}: inventory too large`, false);
    chunks.push(chunk as Buffer);
  }
  return (await inventoryFromArtifact(kind, Buffer.concat(chunks), digest)).inventory;
}

/**
 * Vulnerabilities open in a published image that the store's KEV catalog now lists but the server had not marked:
 * marked (the images' has_kev recounted) and alerted like a new finding, once per repository (`reason: kev`).
 */
async function alertNewlyKev(ctx: ServerContext, dbDir: string, now: number): Promise<number> {
  const candidates = await ctx.db
    .selectFrom('vulnerabilities as v')
    .select(['v.id', 'v.vuln_id', 'v.aliases', 'v.severity'])
    .where('v.kev', '=', 0)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('findings as f')
          .innerJoin('repository_images as ri', 'ri.image_id', 'f.image_id')
          .select('f.id')
          .whereRef('f.vulnerability_id', '=', 'v.id')
          .where('f.status', '=', 'open')
          .where('ri.is_current', '=', 1),
      ),
    )
    .execute();
  if (candidates.length === 0) return 0;
  const { VulnStoreReader } = await import('@lading/engine/vulndb');
  const store = VulnStoreReader.open(dbDir);
  if (!store) return 0;
  const listed: { id: number; vulnId: string; severity: string; cve: string }[] = [];
  try {
    for (const v of candidates) {
      const ids = [
        v.vuln_id,
        ...((decodeJson<unknown[]>(v.aliases) ?? []).filter((a) => typeof a === 'string') as string[]),
      ];
      const cve = ids.find((id) => id.startsWith('CVE-') && store.kev(id) !== undefined);
      if (cve) listed.push({ id: Number(v.id), vulnId: v.vuln_id, severity: v.severity, cve });
    }
  } finally {
    store.close();
  }
  let alerts = 0;
  for (const v of listed) {
    alerts += await ctx.db.transaction().execute(async (trx) => {
      await trx.updateTable('vulnerabilities').set({ kev: 1, kev_added_at: now }).where('id', '=', v.id).execute();
      const open = await trx
        .selectFrom('findings as f')
        .select('f.image_id')
        .distinct()
        .where('f.vulnerability_id', '=', v.id)
        .where('f.status', '=', 'open')
        .execute();
      await recountImages(
        trx,
        open.map((r) => Number(r.image_id)),
      );
      const published = await trx
        .selectFrom('findings as f')
        .innerJoin('repository_images as ri', 'ri.image_id', 'f.image_id')
        .select(['ri.repository_id', 'f.image_id'])
        .where('f.vulnerability_id', '=', v.id)
        .where('f.status', '=', 'open')
        .where('ri.is_current', '=', 1)
        .orderBy('ri.repository_id')
        .orderBy('f.image_id')
        .execute();
      const seen = new Set<number>();
      let sent = 0;
      for (const p of published) {
        const repositoryId = Number(p.repository_id);
        if (seen.has(repositoryId)) continue;
        seen.add(repositoryId);
        await recordEvent(trx, {
          at: now,
          type: 'finding.new',
          actor: SYSTEM_ACTOR,
          repositoryId,
          imageId: Number(p.image_id),
          vulnerabilityId: v.id,
          severity: v.severity,
          requestId: `kev:${v.id}:${repositoryId}`,
          data: { detectedBy: 'reanalysis', reason: 'kev', vulnerability: v.vulnId, cve: v.cve, kev: true },
        });
        sent++;
      }
      return sent;
    });
  }
  return alerts;
}
