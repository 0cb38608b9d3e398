// Re-analysis after a data update (SERVER.md section 3, steps 2-4): the images that hold a package named by a changed
// advisory (and are retained: current somewhere, or ingested within 90 days; retired and quarantined digests stay
// frozen) are matched again with the CLI's matcher over the server's store. Only the findings of the changed packages
// are diffed: new ones appear (first seen now, detected_by reanalysis), ones the data dropped are retracted, retracted
// ones that come back reopen. Per image, the findings, its counters and the events change in one transaction.
// `finding.new` is written once per repository per new vulnerability, and only for published images (a current tag).
// CVEs newly in KEV alert the same way (once per repository). The job records its steps: plan → batches → kev →
// finalize.
import type { Finding, Inventory } from '@lading/engine/model';
import type { Transaction } from 'kysely';
import type { BlobStore } from '../blobs/index.js';
import type { ServerContext } from '../context.js';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { recordEvent, SYSTEM_ACTOR } from '../events/index.js';
import { inventoryFromArtifact, upsertVulnerability } from '../ingest/vulnerability-row.js';
import type { JobStep } from '../jobs/queue.js';
import { JobFailure } from '../jobs/runner.js';
import { recountImages } from './counters.js';

export const REANALYZE = 'reanalyze';
export const RETAINED_MS = 90 * 86_400_000;
const IMAGES_PER_BATCH = 50;
const NAMES_PER_QUERY = 500;
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
}

type Trx = Transaction<Database>;

export async function reanalyze(
  ctx: ServerContext,
  blobs: BlobStore,
  dbDir: string,
  generation: number,
  step: (s: JobStep) => Promise<void>,
  signal?: AbortSignal,
  everything = false,
): Promise<ReanalyzeResult> {
  const now = ctx.now();
  let started = Date.now();
  await step({ name: 'plan', state: 'running' });
  const names = everything
    ? (
        await ctx.db
          .selectFrom('packages')
          .select('match_name')
          .distinct()
          .where('match_name', 'is not', null)
          .execute()
      ).map((r) => r.match_name ?? '')
    : (
        await ctx.db
          .selectFrom('db_changes')
          .select('package_name')
          .distinct()
          .where('generation_id', '=', generation)
          .execute()
      ).map((r) => r.package_name);
  const imageIds = new Set<number>();
  for (let i = 0; i < names.length; i += NAMES_PER_QUERY) {
    const rows = await ctx.db
      .selectFrom('images as i')
      .innerJoin('package_occurrences as o', 'o.image_id', 'i.id')
      .innerJoin('packages as p', 'p.id', 'o.package_id')
      .select('i.id')
      .distinct()
      .where('p.match_name', 'in', names.slice(i, i + NAMES_PER_QUERY))
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
      )
      .execute();
    for (const r of rows) imageIds.add(Number(r.id));
  }
  const planned = [...imageIds].sort((a, b) => a - b);
  await step({
    name: 'plan',
    state: 'succeeded',
    ms: Date.now() - started,
    detail: `${names.length} changed packages in ${planned.length} retained images`,
  });

  const changed = new Set(names);
  const totals = { newFindings: 0, retracted: 0, reopened: 0, alerts: 0 };
  const batches = Math.ceil(planned.length / IMAGES_PER_BATCH);
  started = Date.now();
  for (let b = 0; b < batches; b++) {
    if (signal?.aborted) throw new JobFailure('aborted', 'the runner stopped; the job resumes where the data says');
    await step({ name: 'batches', state: 'running', detail: `batch ${b + 1} of ${batches}` });
    for (const imageId of planned.slice(b * IMAGES_PER_BATCH, (b + 1) * IMAGES_PER_BATCH)) {
      const outcome = await reanalyzeImage(ctx, blobs, dbDir, generation, imageId, changed, now);
      totals.newFindings += outcome.new;
      totals.retracted += outcome.retracted;
      totals.reopened += outcome.reopened;
      totals.alerts += outcome.alerts;
    }
  }
  await step({
    name: 'batches',
    state: 'succeeded',
    ms: Date.now() - started,
    detail: `${batches} batches: ${totals.newFindings} new, ${totals.retracted} retracted, ${totals.reopened} reopened`,
  });

  started = Date.now();
  await step({ name: 'kev', state: 'running' });
  totals.alerts += await alertNewlyKev(ctx, dbDir, now);
  await step({ name: 'kev', state: 'succeeded', ms: Date.now() - started });

  started = Date.now();
  await step({ name: 'finalize', state: 'running' });
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('images')
      .set({ analyzed_generation: generation })
      .where('id', 'in', planned.length ? planned : [-1])
      .execute();
    await recordEvent(trx, {
      at: now,
      type: 'reanalysis.finished',
      actor: SYSTEM_ACTOR,
      requestId: `reanalyze:${generation}`,
      data: { generation, images: planned.length, ...totals },
    });
  });
  await step({ name: 'finalize', state: 'succeeded', ms: Date.now() - started });
  return { generation, images: planned.length, ...totals };
}

interface ImageOutcome {
  new: number;
  retracted: number;
  reopened: number;
  alerts: number;
}

async function reanalyzeImage(
  ctx: ServerContext,
  blobs: BlobStore,
  dbDir: string,
  generation: number,
  imageId: number,
  changed: ReadonlySet<string>,
  now: number,
): Promise<ImageOutcome> {
  const inventory = await storedInventory(ctx, blobs, imageId);
  const { findVulnerabilities } = await import('@lading/engine/match');
  const result = await findVulnerabilities(inventory, {
    dbDir,
    offline: true,
    now: new Date(now),
    allowMissingData: true,
  });
  // the inventory's package ids → the server's package rows (by purl), for the changed packages alone
  const rows = await ctx.db
    .selectFrom('package_occurrences as o')
    .innerJoin('packages as p', 'p.id', 'o.package_id')
    .select(['p.id', 'p.purl', 'p.match_name'])
    .where('o.image_id', '=', imageId)
    .execute();
  const byPurl = new Map(rows.map((r) => [r.purl, r]));
  const packageIds = new Map<string, number>();
  for (const p of inventory.packages) {
    const row = byPurl.get(p.purl);
    if (row && row.match_name !== null && changed.has(row.match_name)) packageIds.set(p.id, Number(row.id));
  }
  const scope = new Set(
    rows.filter((r) => r.match_name !== null && changed.has(r.match_name)).map((r) => Number(r.id)),
  );
  return ctx.db
    .transaction()
    .execute((trx) => reconcileChanged(trx, generation, imageId, result.findings, packageIds, scope, now));
}

async function reconcileChanged(
  trx: Trx,
  generation: number,
  imageId: number,
  findings: readonly Finding[],
  packageIds: ReadonlyMap<string, number>,
  scope: ReadonlySet<number>,
  now: number,
): Promise<ImageOutcome> {
  const existing = (
    await trx
      .selectFrom('findings')
      .select(['id', 'package_id', 'vulnerability_id', 'status', 'exception_id'])
      .where('image_id', '=', imageId)
      .execute()
  ).filter((r) => scope.has(Number(r.package_id)));
  const byKey = new Map(existing.map((r) => [`${r.package_id}\n${r.vulnerability_id}`, r]));
  const present = new Set<string>();
  const outcome: ImageOutcome = { new: 0, retracted: 0, reopened: 0, alerts: 0 };
  const appeared = new Map<number, Finding>();
  const opened: { vulnId: number; finding: Finding }[] = [];
  for (const f of findings) {
    const packageId = packageIds.get(f.packageId);
    if (packageId === undefined) continue;
    const vulnId = await upsertVulnerability(trx, f, now);
    const key = `${packageId}\n${vulnId}`;
    if (present.has(key)) continue;
    present.add(key);
    const row = byKey.get(key);
    if (!row) {
      await trx
        .insertInto('findings')
        .values({
          image_id: imageId,
          package_id: packageId,
          vulnerability_id: vulnId,
          severity: f.severity,
          fixed_version: f.fixedVersions[0] ?? null,
          status: f.suppressed ? 'suppressed' : 'open',
          exception_id: null,
          first_seen_at: now,
          last_seen_at: now,
          resolved_at: null,
          resolution: null,
          detected_by: 'reanalysis',
          created_at: now,
        })
        .execute();
      outcome.new++;
      if (!f.suppressed) {
        appeared.set(vulnId, f);
        opened.push({ vulnId, finding: f });
      }
    } else {
      const reopening = row.status === 'resolved';
      // an exception that still holds keeps suppressing (the exceptions job ends it when it expires)
      const status =
        row.exception_id !== null && row.status === 'suppressed' ? 'suppressed' : f.suppressed ? 'suppressed' : 'open';
      await trx
        .updateTable('findings')
        .set((eb) => ({
          severity: f.severity,
          fixed_version: f.fixedVersions[0] ?? null,
          status,
          last_seen_at: now,
          resolved_at: null,
          resolution: null,
          ...(reopening ? { reopened_count: eb('reopened_count', '+', 1) } : {}),
        }))
        .where('id', '=', row.id)
        .execute();
      if (reopening) {
        outcome.reopened++;
        if (status === 'open') {
          appeared.set(vulnId, f);
          opened.push({ vulnId, finding: f });
        }
      }
    }
  }
  for (const row of existing) {
    if (present.has(`${row.package_id}\n${row.vulnerability_id}`) || row.status === 'resolved') continue;
    await trx
      .updateTable('findings')
      .set({ status: 'resolved', resolved_at: now, resolution: 'retracted' })
      .where('id', '=', row.id)
      .execute();
    outcome.retracted++;
  }
  if (outcome.new + outcome.retracted + outcome.reopened > 0) await recountImages(trx, [imageId]);
  await openExposures(trx, imageId, opened, now);
  outcome.alerts = await alertPublished(trx, generation, imageId, appeared, now);
  return outcome;
}

/**
 * The tracks this image is current in now expose what appeared in it (SERVER.md section 1, "Exposures"): an exposure
 * (repository, track, vulnerability, package name) opens, or reopens as a regression, with its episode; one already
 * open stays as it is. (A retraction leaves exposures alone: the data changed its mind, nothing was fixed.)
 */
async function openExposures(
  trx: Trx,
  imageId: number,
  opened: readonly { vulnId: number; finding: Finding }[],
  now: number,
): Promise<void> {
  if (opened.length === 0) return;
  const tracks = await trx
    .selectFrom('repository_images')
    .select(['repository_id', 'track'])
    .where('image_id', '=', imageId)
    .where('is_current', '=', 1)
    .execute();
  for (const { repository_id: repositoryId, track } of tracks) {
    const done = new Set<string>();
    for (const { vulnId, finding: f } of opened) {
      const key = `${vulnId}\n${f.package.name}`;
      if (done.has(key)) continue;
      done.add(key);
      const row = await trx
        .selectFrom('exposures')
        .select(['id', 'state', 'fix_first_seen_at'])
        .where('repository_id', '=', repositoryId)
        .where('track', '=', track)
        .where('vulnerability_id', '=', vulnId)
        .where('package_name', '=', f.package.name)
        .executeTakeFirst();
      const fixFirstSeenAt = f.fixedVersions.length > 0 ? now : null;
      let exposureId: number;
      let regression = false;
      if (!row) {
        const vuln = await trx
          .selectFrom('vulnerabilities')
          .select('published_at')
          .where('id', '=', vulnId)
          .executeTakeFirstOrThrow();
        const inserted = await trx
          .insertInto('exposures')
          .values({
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
            cve_published_at: vuln.published_at,
            fix_first_seen_at: fixFirstSeenAt,
            created_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        exposureId = Number(inserted.id);
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
        exposureId = Number(row.id);
        regression = true;
      } else {
        continue;
      }
      await trx
        .insertInto('exposure_episodes')
        .values({
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
        })
        .execute();
    }
  }
}

/**
 * One `finding.new` per repository per vulnerability per generation, for the repositories where this image is
 * published (a current tag); the request id names (generation, repository, vulnerability), so a second image of
 * the same repository with the same new vulnerability, or a re-run, writes nothing.
 */
async function alertPublished(
  trx: Trx,
  generation: number,
  imageId: number,
  appeared: ReadonlyMap<number, Finding>,
  now: number,
): Promise<number> {
  if (appeared.size === 0) return 0;
  const published = await trx
    .selectFrom('repository_images')
    .select('repository_id')
    .distinct()
    .where('image_id', '=', imageId)
    .where('is_current', '=', 1)
    .execute();
  let alerts = 0;
  for (const { repository_id: repositoryId } of published) {
    for (const [vulnId, f] of appeared) {
      const requestId = `reanalyze:${generation}:${repositoryId}:${vulnId}`;
      const sent = await trx
        .selectFrom('events')
        .select('id')
        .where('type', '=', 'finding.new')
        .where('request_id', '=', requestId)
        .executeTakeFirst();
      if (sent) continue;
      await recordEvent(trx, {
        at: now,
        type: 'finding.new',
        actor: SYSTEM_ACTOR,
        repositoryId: Number(repositoryId),
        imageId,
        vulnerabilityId: vulnId,
        severity: f.severity,
        requestId,
        data: {
          detectedBy: 'reanalysis',
          generation,
          vulnerability: f.id,
          kev: f.kev === true,
          fixedVersion: f.fixedVersions[0] ?? null,
        },
      });
      alerts++;
    }
  }
  return alerts;
}

/** The image's stored inventory (its Lading report, else its SBOM), read back from the blob store under a cap. */
async function storedInventory(ctx: ServerContext, blobs: BlobStore, imageId: number): Promise<Inventory> {
  const artifact = await ctx.db
    .selectFrom('images as i')
    .innerJoin('artifacts as a', 'a.id', 'i.inventory_artifact_id')
    .select(['a.sha256', 'a.kind', 'i.digest'])
    .where('i.id', '=', imageId)
    .executeTakeFirstOrThrow();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await blobs.open(artifact.sha256)) {
    size += (chunk as Buffer).length;
    if (size > MAX_INVENTORY_BYTES)
      throw new JobFailure('inventory_too_large', `${artifact.digest}: inventory too large`, false);
    chunks.push(chunk as Buffer);
  }
  return (await inventoryFromArtifact(artifact.kind, Buffer.concat(chunks), artifact.digest)).inventory;
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
