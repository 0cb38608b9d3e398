// The ingest job (SERVER.md section 3): store → verify → inventory → match → reconcile. Each step is recorded on the
// job; the reconcile is ONE transaction, recomputed from the evidence (never deltas), so running the job again
// changes nothing.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Finding, Inventory, Report, TargetInfo } from '@lading/engine/model';
import { buildReport } from '@lading/engine/report';
import { type Kysely, sql, type Transaction } from 'kysely';
import { repositoryPatternMatches } from '../auth/index.js';
import type { BlobStore } from '../blobs/index.js';
import type { ServerContext } from '../context.js';
import { decodeJson, encodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { evaluateEvidence, type Scorecard, type TrustedKey, type VerificationPolicy } from '../evidence/index.js';
import { JobFailure, type JobRun, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import { INGEST_JOB_KIND, type IngestJobPayload } from './accept.js';
import { inventoryFromArtifact, upsertVulnerability } from './vulnerability-row.js';

export interface IngestJobOptions {
  /** The server's vulnerability store (a `lading db` folder); default `<dataDir>/vulndb`. */
  vulndbDir?: string;
}

type Trx = Transaction<Database>;
type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';

/** Registers the ingest job's handler on the runner (explicitly, at start-up; no import side effects). */
export function registerIngestJob(
  runner: JobRunner,
  ctx: ServerContext,
  blobs: BlobStore,
  options: IngestJobOptions = {},
): void {
  const vulndbDir = options.vulndbDir ?? join(ctx.config.dataDir, 'vulndb');
  registerJobHandler(runner, INGEST_JOB_KIND, (run) => processIngest(run, ctx, blobs, vulndbDir));
}

/** The ingest job's `result` (SERVER.md section 2). */
export interface IngestResult {
  image: string;
  counts: { critical: number; high: number; medium: number; low: number; unknown: number };
  new: string[];
  fixed: string[];
  evidence: { state: Scorecard['state']; score: number; max: number };
  quarantined: boolean;
}

export async function processIngest(
  run: JobRun,
  ctx: ServerContext,
  blobs: BlobStore,
  vulndbDir: string,
): Promise<IngestResult> {
  const payload = run.payload as IngestJobPayload;
  const { metadata } = payload;
  const started = performance.now();
  const timed = async <T>(name: string, work: () => Promise<{ value: T; detail: string }>): Promise<T> => {
    const t0 = performance.now();
    await run.step({ name, state: 'running' });
    try {
      const { value, detail } = await work();
      await run.step({ name, state: 'succeeded', ms: Math.round(performance.now() - t0), detail });
      return value;
    } catch (err) {
      const detail = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
      await run.step({ name, state: 'failed', ms: Math.round(performance.now() - t0), detail: detail.slice(0, 300) });
      throw err;
    }
  };

  // store: the blobs were stored before the job existed; read them back (a missing blob is an operator problem)
  const stored = await timed('store', async () => {
    const rows = await ctx.db
      .selectFrom('artifacts')
      .select(['id', 'sha256', 'kind'])
      .where(
        'sha256',
        'in',
        payload.artifacts.map((a) => a.sha256),
      )
      .execute();
    const ids = new Map(rows.map((r) => [r.sha256, r.id]));
    const loaded: { name: string; kind: string; sha256: string; id: number; bytes: Buffer }[] = [];
    for (const a of payload.artifacts) {
      const id = ids.get(a.sha256);
      if (id === undefined) throw new JobFailure('artifact_missing', `artifact ${a.sha256} has no row`, false);
      loaded.push({ name: a.name, kind: a.kind, sha256: a.sha256, id, bytes: await readBlob(blobs, a.sha256) });
    }
    return { value: loaded, detail: `${loaded.length} artifacts` };
  });

  const repository = await ctx.db
    .selectFrom('repositories')
    .select(['id', 'settings'])
    .where('name', '=', metadata.repository)
    .executeTakeFirst();
  const policy = verificationPolicyOf(repository?.settings);

  // verify: the evidence scorecard (pure), against the keys trusted for this repository
  const scorecard = await timed('verify', async () => {
    const keys = await trustedKeysFor(ctx.db, metadata.repository);
    const pick = (p: (kind: string) => boolean) =>
      stored.filter((s) => p(s.kind)).map((s) => ({ id: s.id, sha256: s.sha256, bytes: s.bytes }));
    const card = evaluateEvidence(
      {
        digest: metadata.digest,
        repository: metadata.repository,
        sboms: pick((k) => k.startsWith('sbom-')),
        reports: pick((k) => k === 'report-lading'),
        attestations: pick((k) => k.startsWith('attestation-')),
        signatures: pick((k) => k === 'signature-cosign'),
      },
      policy,
      keys,
    );
    return { value: card, detail: `${card.state} ${card.score}/${card.max} (${policy.mode})` };
  });
  const quarantined = policy.mode === 'enforce' && scorecard.state !== 'verified';

  // inventory: the Lading report's packages, else the SBOM's through the engine's readers
  const { target, inventory, inventoryArtifact } = await timed('inventory', async () => {
    const value = await inventoryOf(stored, metadata.digest);
    return { value, detail: `${value.inventory.packages.length} packages` };
  });

  // match: the server's own data, the CLI's matcher: the same answers as `lading scan`
  const report = await timed('match', async () => {
    // the job's moment is when the bundle was acknowledged: a re-run judges and writes exactly the same
    const now = new Date(payload.receivedAt);
    const { findVulnerabilities } = await import('@lading/engine/match');
    const result = await findVulnerabilities(inventory, {
      dbDir: vulndbDir,
      offline: true,
      now,
      allowMissingData: true,
    });
    const built = buildReport({
      target,
      inventory,
      findings: result.findings,
      warnings: result.warnings,
      gaps: result.gaps,
      db: result.db,
      createdAt: now,
    });
    return { value: built, detail: `${result.findings.length} findings` };
  });

  const outcome = await timed('reconcile', async () => {
    const value = await reconcile(ctx, {
      payload,
      jobId: run.job.id,
      jobPublicId: run.job.public_id,
      createdBy: run.job.created_by,
      policy,
      report,
      scorecard,
      quarantined,
      artifacts: stored,
      inventoryArtifact,
    });
    return { value, detail: `${value.new.length} new, ${value.fixed.length} fixed` };
  });
  if (quarantined) {
    // the image is kept (its evidence and findings are there to look at) but never current, never counted
    throw new JobFailure(
      'verification_failed',
      `evidence ${scorecard.state} (${scorecard.score}/${scorecard.max}) and ${metadata.repository} enforces verification: ${failedChecks(scorecard)}`,
      false,
    );
  }
  ctx.log.info('ingested', { digest: metadata.digest, ms: Math.round(performance.now() - started) });
  return {
    image: metadata.digest,
    counts: countsOf(report.findings),
    new: outcome.new,
    fixed: outcome.fixed,
    evidence: { state: scorecard.state, score: scorecard.score, max: scorecard.max },
    quarantined,
  };
}

function failedChecks(card: Scorecard): string {
  const failed = card.checks
    .filter((c) => c.result === 'fail' || c.result === 'absent')
    .map((c) => `${c.check} ${c.result}`);
  return failed.join(', ') || 'no check passed';
}

async function readBlob(blobs: BlobStore, sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await blobs.open(sha256)) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `settings.verification` of the repository: mode off|warn|enforce (default warn) and its allowlists. */
export function verificationPolicyOf(settings: string | undefined): VerificationPolicy {
  const parsed = decodeJson<{ verification?: Partial<VerificationPolicy> }>(settings ?? '{}') ?? {};
  const v = parsed.verification ?? {};
  const mode = v.mode === 'off' || v.mode === 'enforce' ? v.mode : 'warn';
  return {
    mode,
    ...(v.keys ? { keys: v.keys } : {}),
    ...(v.allowedBuilders ? { allowedBuilders: v.allowedBuilders } : {}),
    ...(v.sourceRepos ? { sourceRepos: v.sourceRepos } : {}),
    ...(v.refs ? { refs: v.refs } : {}),
  };
}

async function trustedKeysFor(db: Kysely<Database>, repository: string): Promise<TrustedKey[]> {
  const rows = await db
    .selectFrom('trusted_keys')
    .select(['public_id', 'public_key_pem', 'repository_pattern'])
    .where('revoked_at', 'is', null)
    .execute();
  return rows
    .filter((r) => repositoryPatternMatches(r.repository_pattern, repository))
    .map((r) => ({ id: r.public_id, pem: r.public_key_pem }));
}

/** The inventory the server matches: from the Lading report (its packages and OS), else from the SBOM. */
async function inventoryOf(
  stored: readonly { kind: string; id: number; bytes: Buffer }[],
  digest: string,
): Promise<{ target: TargetInfo; inventory: Inventory; inventoryArtifact: number | null }> {
  const artifact = stored.find((s) => s.kind === 'report-lading') ?? stored.find((s) => s.kind.startsWith('sbom-'));
  if (artifact)
    return { ...(await inventoryFromArtifact(artifact.kind, artifact.bytes, digest)), inventoryArtifact: artifact.id };
  // attestations or signatures only: evidence without an inventory; the image has no packages
  return {
    target: { kind: 'image', ref: digest, digest, layers: [] },
    inventory: { packages: [], warnings: [] },
    inventoryArtifact: null,
  };
}

const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

function countsOf(findings: readonly Finding[]): IngestResult['counts'] {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const f of findings) {
    if (f.suppressed) continue;
    const key = (
      SEVERITIES.includes(f.severity as Severity) ? f.severity : 'UNKNOWN'
    ).toLowerCase() as keyof typeof counts;
    counts[key]++;
  }
  return counts;
}

/** SERVER.md's risk index: `min(100, round1((10c + 5h + 2m) / 300 * 100))`. */
export function riskIndexOf(c: { critical: number; high: number; medium: number }): number {
  return Math.min(100, Math.round(((10 * c.critical + 5 * c.high + 2 * c.medium) / 300) * 100 * 10) / 10);
}

function publicId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}

interface ReconcileInput {
  payload: IngestJobPayload;
  /** Who enqueued the job (`token:12`, `user:3`), the event's actor. */
  createdBy: string | null;
  policy: VerificationPolicy;
  jobId: number;
  jobPublicId: string;
  report: Report;
  scorecard: Scorecard;
  quarantined: boolean;
  artifacts: readonly { name: string; kind: string; id: number }[];
  inventoryArtifact: number | null;
}

/**
 * ONE transaction (under advisory locks on the repository and the digest on PostgreSQL; SQLite writes one at a
 * time): upserts the repository, the image and its counters, placements and `is_current`, tags and their history,
 * layers, packages and occurrences, vulnerabilities and aliases, findings (first seen kept, retracted ones resolved), exposures against
 * the track's previous current image, verifications, builds, image artifacts and the ingest event.
 */
async function reconcile(ctx: ServerContext, input: ReconcileInput): Promise<{ new: string[]; fixed: string[] }> {
  const { payload, report, scorecard } = input;
  const { metadata } = payload;
  // every time written is the acknowledgement's, not the clock's: running the job again writes the same rows
  const now = payload.receivedAt;
  const observedAt = metadata.observedAt ?? payload.receivedAt;
  return ctx.db.transaction().execute(async (trx) => {
    if (ctx.dialect === 'postgres') {
      // The repository's track (current image, tags and their history, exposures) is recomputed by one ingest at a
      // time, and the image (shared between repositories) likewise: always repository first, then digest, so two
      // reconciles never wait on each other in opposite orders. (SQLite runs one write transaction at a time.)
      await sql`select pg_advisory_xact_lock(hashtext(${`repository:${metadata.repository}`}))`.execute(trx);
      await sql`select pg_advisory_xact_lock(hashtext(${`image:${metadata.digest}`}))`.execute(trx);
    }
    // repository
    let repo = await trx
      .selectFrom('repositories')
      .select(['id'])
      .where('name', '=', metadata.repository)
      .executeTakeFirst();
    if (!repo) {
      repo = await trx
        .insertInto('repositories')
        .values({
          public_id: publicId('repo'),
          name: metadata.repository,
          name_lc: metadata.repository.toLowerCase(),
          team_id: null,
          source_repo: null,
          archived_at: null,
          purge_after: null,
          created_at: now,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .returning('id')
        .executeTakeFirst();
      repo ??= await trx
        .selectFrom('repositories')
        .select(['id'])
        .where('name', '=', metadata.repository)
        .executeTakeFirstOrThrow();
    }
    const repositoryId = repo.id;

    // image and its counters (recomputed from this analysis)
    const counts = countsOf(report.findings);
    const suppressed = report.findings.filter((f) => f.suppressed).length;
    const imageValues = {
      index_digest: metadata.indexDigest ?? null,
      platform: metadata.platform ?? report.target.platform ?? '',
      os_ecosystem: report.os ? (report.os.ecosystem ?? `${report.os.family}:${report.os.version}`) : null,
      config_digest: report.target.imageId ?? null,
      last_ingested_at: now,
      state: input.quarantined ? ('quarantined' as const) : ('active' as const),
      inventory_artifact_id: input.inventoryArtifact,
      critical: counts.critical,
      high: counts.high,
      medium: counts.medium,
      low: counts.low,
      unknown: counts.unknown,
      suppressed,
      packages: report.packages.length,
      has_kev: report.findings.some((f) => f.kev && !f.suppressed) ? 1 : 0,
      risk_index: riskIndexOf(counts),
      evidence_state: scorecard.state,
      evidence_score: scorecard.score,
      evidence_max: scorecard.max,
    };
    let image = await trx.selectFrom('images').select(['id']).where('digest', '=', metadata.digest).executeTakeFirst();
    if (image) {
      await trx.updateTable('images').set(imageValues).where('id', '=', image.id).execute();
    } else {
      image = await trx
        .insertInto('images')
        .values({
          digest: metadata.digest,
          image_created_at: null,
          first_ingested_at: now,
          analyzed_generation: null,
          created_at: now,
          ...imageValues,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    }
    const imageId = image.id;

    // placement in the track, and whether it becomes the track's current image (latest observation wins)
    const placement = await trx
      .selectFrom('repository_images')
      .select(['first_seen_at'])
      .where('repository_id', '=', repositoryId)
      .where('image_id', '=', imageId)
      .where('track', '=', metadata.track)
      .executeTakeFirst();
    if (!placement) {
      await trx
        .insertInto('repository_images')
        .values({
          repository_id: repositoryId,
          image_id: imageId,
          track: metadata.track,
          first_seen_at: observedAt,
          is_current: 0,
          created_at: now,
        })
        .execute();
    }
    const seenAt = placement?.first_seen_at ?? observedAt;
    const current = await trx
      .selectFrom('repository_images')
      .select(['image_id', 'first_seen_at'])
      .where('repository_id', '=', repositoryId)
      .where('track', '=', metadata.track)
      .where('is_current', '=', 1)
      .executeTakeFirst();
    const previousCurrent = current && current.image_id !== imageId ? current.image_id : null;
    const becomesCurrent =
      !input.quarantined && (!current || current.image_id === imageId || seenAt >= current.first_seen_at);
    if (becomesCurrent && previousCurrent !== null) {
      await trx
        .updateTable('repository_images')
        .set({ is_current: 0 })
        .where('repository_id', '=', repositoryId)
        .where('track', '=', metadata.track)
        .where('image_id', '=', previousCurrent)
        .execute();
    }
    if (becomesCurrent) {
      await trx
        .updateTable('repository_images')
        .set({ is_current: 1 })
        .where('repository_id', '=', repositoryId)
        .where('track', '=', metadata.track)
        .where('image_id', '=', imageId)
        .execute();
    } else if (input.quarantined) {
      await trx
        .updateTable('repository_images')
        .set({ is_current: 0 })
        .where('repository_id', '=', repositoryId)
        .where('image_id', '=', imageId)
        .execute();
    }

    // tags move to this image when this observation is newer than the tag's last move
    if (!input.quarantined) await moveTags(trx, repositoryId, imageId, metadata.tags, observedAt, now);

    await reconcileLayers(trx, imageId, report.target, now);
    const packageIds = await reconcilePackages(trx, imageId, report, now);
    const changes = await reconcileFindings(trx, imageId, report, packageIds, now);
    if (becomesCurrent) {
      await reconcileExposures(trx, repositoryId, metadata.track, imageId, previousCurrent, report, packageIds, now);
    }

    // evidence: verifications recomputed, the build (from a verified provenance first), the image's artifacts
    await trx.deleteFrom('verifications').where('image_id', '=', imageId).execute();
    const policyHash = createHash('sha256').update(encodeJson(input.policy)).digest('hex');
    for (const check of scorecard.checks) {
      await trx
        .insertInto('verifications')
        .values({
          image_id: imageId,
          check: check.check,
          result: check.result,
          artifact_id: check.artifactId ?? null,
          key_id: check.keyId ?? null,
          identity: null,
          detail: encodeJson({ detail: check.detail }),
          policy_hash: policyHash,
          verified_at: now,
          created_at: now,
        })
        .execute();
    }
    const provenanceArtifact = scorecard.checks.find((c) => c.check === 'provenance.present')?.artifactId;
    if (scorecard.build && provenanceArtifact !== undefined) {
      const b = scorecard.build;
      const values = {
        builder_id: b.builderId,
        build_type: b.buildType,
        source_repo: b.sourceRepo,
        source_commit: b.sourceCommit,
        source_ref: b.sourceRef,
        workflow_path: b.workflowPath,
        run_id: b.runId,
        run_url: b.runUrl,
        started_at: b.startedAt,
        finished_at: b.finishedAt,
      };
      const build = await trx
        .insertInto('builds')
        .values({ image_id: imageId, provenance_artifact_id: provenanceArtifact, created_at: now, ...values })
        .onConflict((oc) => oc.columns(['image_id', 'provenance_artifact_id']).doUpdateSet(values))
        .returning('id')
        .executeTakeFirstOrThrow();
      // the exposures this image resolved were fixed by this build (fix tracing: commit, ref, run)
      if (becomesCurrent) {
        for (const table of ['exposures', 'exposure_episodes'] as const) {
          await trx
            .updateTable(table)
            .set({ resolved_build_id: build.id })
            .where('resolved_image_id', '=', imageId)
            .where('resolved_build_id', 'is', null)
            .execute();
        }
      }
    }
    for (const a of input.artifacts) {
      const role = a.kind.startsWith('sbom-')
        ? 'inventory'
        : a.kind === 'report-lading'
          ? 'report'
          : a.kind === 'signature-cosign'
            ? 'signature'
            : a.id === provenanceArtifact
              ? 'provenance'
              : 'attestation';
      await trx
        .insertInto('image_artifacts')
        .values({
          image_id: imageId,
          artifact_id: a.id,
          role,
          predicate_type: null,
          job_id: input.jobId,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['image_id', 'artifact_id']).doNothing())
        .execute();
    }

    // the audit event, once per job (request_id = the job's id makes a re-run write nothing)
    const logged = await trx
      .selectFrom('events')
      .select('id')
      .where('image_id', '=', imageId)
      .where('type', '=', 'image.ingested')
      .where('request_id', '=', input.jobPublicId)
      .executeTakeFirst();
    if (!logged) {
      const actor = /^(user|token):(\d+)$/.exec(input.createdBy ?? '');
      await trx
        .insertInto('events')
        .values({
          at: now,
          type: input.quarantined ? 'image.quarantined' : 'image.ingested',
          actor_kind: actor ? (actor[1] as 'user' | 'token') : 'system',
          actor_id: actor ? Number(actor[2]) : null,
          repository_id: repositoryId,
          image_id: imageId,
          vulnerability_id: null,
          severity: null,
          request_id: input.jobPublicId,
          data: encodeJson({
            job: input.jobPublicId,
            tags: metadata.tags,
            track: metadata.track,
            counts,
            evidence: { state: scorecard.state, score: scorecard.score, max: scorecard.max },
            new: changes.new,
            fixed: changes.fixed,
            source: payload.source,
          }),
          created_at: now,
        })
        .execute();
    }
    return changes;
  });
}

async function moveTags(
  trx: Trx,
  repositoryId: number,
  imageId: number,
  tags: readonly string[],
  observedAt: number,
  now: number,
): Promise<void> {
  for (const name of tags) {
    let tag = await trx
      .selectFrom('tags')
      .select(['id', 'current_image_id', 'moved_at'])
      .where('repository_id', '=', repositoryId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!tag) {
      const inserted = await trx
        .insertInto('tags')
        .values({ repository_id: repositoryId, name, current_image_id: null, moved_at: 0, created_at: now })
        .onConflict((oc) => oc.columns(['repository_id', 'name']).doNothing())
        .returning(['id', 'current_image_id', 'moved_at'])
        .executeTakeFirst();
      tag =
        inserted ??
        (await trx
          .selectFrom('tags')
          .select(['id', 'current_image_id', 'moved_at'])
          .where('repository_id', '=', repositoryId)
          .where('name', '=', name)
          .executeTakeFirstOrThrow());
    }
    // already here, or an older observation arriving late: the tag stays where the newer one put it
    if (tag.current_image_id === imageId || observedAt < tag.moved_at) continue;
    await trx
      .updateTable('tag_history')
      .set({ to_at: observedAt })
      .where('tag_id', '=', tag.id)
      .where('to_at', 'is', null)
      .execute();
    await trx
      .insertInto('tag_history')
      .values({ tag_id: tag.id, image_id: imageId, from_at: observedAt, to_at: null, source: 'ci', created_at: now })
      .execute();
    await trx
      .updateTable('tags')
      .set({ current_image_id: imageId, moved_at: observedAt })
      .where('id', '=', tag.id)
      .execute();
  }
}

async function reconcileLayers(trx: Trx, imageId: number, target: TargetInfo, now: number): Promise<void> {
  await trx.deleteFrom('image_layers').where('image_id', '=', imageId).execute();
  for (const [position, layer] of target.layers.entries()) {
    await trx
      .insertInto('layers')
      .values({ diff_id: layer.diffId, digest: layer.digest ?? null, size: layer.size ?? null, created_at: now })
      .onConflict((oc) => oc.column('diff_id').doNothing())
      .execute();
    const row = await trx
      .selectFrom('layers')
      .select('id')
      .where('diff_id', '=', layer.diffId)
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('image_layers')
      .values({ image_id: imageId, position, layer_id: row.id, created_by: layer.createdBy ?? null, created_at: now })
      .execute();
  }
}

/** Packages by purl (shared between images) and this image's occurrences, rewritten; the report id → row id. */
async function reconcilePackages(trx: Trx, imageId: number, report: Report, now: number): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const layerIds = new Map<string, number>();
  // Only the layers this report's packages name: the layers table holds every layer of the fleet, and reading it
  // whole on each ingest made an ingest's cost grow with the number of images already stored.
  const named = new Set<string>();
  for (const p of report.packages) {
    const layer = p.locations[0]?.layer;
    if (layer) named.add(layer);
  }
  if (named.size > 0) {
    const rows = await trx
      .selectFrom('layers')
      .select(['id', 'diff_id'])
      .where('diff_id', 'in', Array.from(named))
      .execute();
    for (const l of rows) layerIds.set(l.diff_id, l.id);
  }
  await trx.deleteFrom('package_occurrences').where('image_id', '=', imageId).execute();
  const seen = new Set<string>();
  for (const p of report.packages) {
    await trx
      .insertInto('packages')
      .values({
        purl: p.purl,
        type: p.type,
        name: p.name,
        name_lc: p.name.toLowerCase(),
        version: p.version,
        ecosystem: p.type,
        match_name: p.source?.name ?? p.name,
        match_version: p.source?.version ?? p.version,
        licenses: encodeJson(p.licenses ?? []),
        created_at: now,
      })
      .onConflict((oc) => oc.column('purl').doNothing())
      .execute();
    const row = await trx.selectFrom('packages').select('id').where('purl', '=', p.purl).executeTakeFirstOrThrow();
    ids.set(p.id, row.id);
    const location = p.locations[0];
    const key = `${row.id}\n${location?.path ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    await trx
      .insertInto('package_occurrences')
      .values({
        image_id: imageId,
        package_id: row.id,
        layer_id: location?.layer ? (layerIds.get(location.layer) ?? null) : null,
        path: location?.path ?? '',
        found_by: p.foundBy,
        created_at: now,
      })
      .execute();
  }
  return ids;
}

/** Findings of this image recomputed: new rows first seen now, known ones updated (reopened if resolved), the rest retracted. */
async function reconcileFindings(
  trx: Trx,
  imageId: number,
  report: Report,
  packageIds: Map<string, number>,
  now: number,
): Promise<{ new: string[]; fixed: string[] }> {
  const existing = await trx
    .selectFrom('findings')
    .innerJoin('vulnerabilities', 'vulnerabilities.id', 'findings.vulnerability_id')
    .select([
      'findings.id',
      'findings.package_id',
      'findings.vulnerability_id',
      'findings.status',
      'vulnerabilities.vuln_id',
    ])
    .where('findings.image_id', '=', imageId)
    .execute();
  const byKey = new Map(existing.map((r) => [`${r.package_id}\n${r.vulnerability_id}`, r]));
  const present = new Set<string>();
  const added = new Set<string>();
  for (const f of report.findings) {
    const packageId = packageIds.get(f.packageId);
    if (packageId === undefined) continue;
    const vulnId = await upsertVulnerability(trx, f, now);
    const key = `${packageId}\n${vulnId}`;
    if (present.has(key)) continue;
    present.add(key);
    const status = f.suppressed ? ('suppressed' as const) : ('open' as const);
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
          status,
          exception_id: null,
          first_seen_at: now,
          last_seen_at: now,
          resolved_at: null,
          resolution: null,
          detected_by: 'ingest',
          created_at: now,
        })
        .execute();
      added.add(f.id);
    } else {
      await trx
        .updateTable('findings')
        .set((eb) => ({
          severity: f.severity,
          fixed_version: f.fixedVersions[0] ?? null,
          status,
          resolved_at: null,
          resolution: null,
          ...(row.status === 'resolved' ? { reopened_count: eb('reopened_count', '+', 1) } : {}),
        }))
        .where('id', '=', row.id)
        .execute();
    }
  }
  const fixed = new Set<string>();
  for (const row of existing) {
    if (present.has(`${row.package_id}\n${row.vulnerability_id}`) || row.status === 'resolved') continue;
    await trx
      .updateTable('findings')
      .set({ status: 'resolved', resolved_at: now, resolution: 'retracted' })
      .where('id', '=', row.id)
      .execute();
    fixed.add(row.vuln_id);
  }
  return { new: [...added].sort(), fixed: [...fixed].sort() };
}

/**
 * Exposures of the track (a vulnerability in a package name, while the track's current image has it): opened when
 * the new current image brings it, resolved when it no longer has it, reopened when it comes back. Each open →
 * resolved run is also an `exposure_episodes` row (the history MTTR and fix tracing read); a reopened exposure's new
 * episode is flagged as a regression. `fix_first_seen_at` is the first ingest whose data named a fixed version.
 */
async function reconcileExposures(
  trx: Trx,
  repositoryId: number,
  track: string,
  imageId: number,
  previousImageId: number | null,
  report: Report,
  packageIds: Map<string, number>,
  now: number,
): Promise<void> {
  const present = new Map<
    string,
    {
      vulnId: number;
      severity: string;
      version: string;
      packageName: string;
      publishedAt: number | null;
      fixed: boolean;
    }
  >();
  for (const f of report.findings) {
    if (f.suppressed || !packageIds.has(f.packageId)) continue;
    const vuln = await trx
      .selectFrom('vulnerabilities')
      .select(['id', 'published_at'])
      .where('vuln_id', '=', f.id)
      .executeTakeFirstOrThrow();
    const key = `${vuln.id}\n${f.package.name}`;
    const seen = present.get(key);
    present.set(key, {
      vulnId: vuln.id,
      severity: f.severity,
      version: f.package.version,
      packageName: f.package.name,
      publishedAt: vuln.published_at,
      fixed: (seen?.fixed ?? false) || f.fixedVersions.length > 0,
    });
  }
  const rows = await trx
    .selectFrom('exposures')
    .select(['id', 'vulnerability_id', 'package_name', 'state', 'fix_first_seen_at'])
    .where('repository_id', '=', repositoryId)
    .where('track', '=', track)
    .execute();
  const known = new Map(rows.map((r) => [`${r.vulnerability_id}\n${r.package_name}`, r]));
  for (const [key, p] of present) {
    const row = known.get(key);
    const fixFirstSeenAt = p.fixed ? now : null;
    if (!row) {
      const inserted = await trx
        .insertInto('exposures')
        .values({
          repository_id: repositoryId,
          track,
          vulnerability_id: p.vulnId,
          package_name: p.packageName,
          severity: p.severity,
          state: 'open',
          opened_at: now,
          opened_image_id: imageId,
          resolved_at: null,
          resolved_image_id: null,
          resolved_build_id: null,
          package_from: p.version,
          package_to: null,
          cve_published_at: p.publishedAt,
          fix_first_seen_at: fixFirstSeenAt,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await openEpisode(trx, inserted.id, p, imageId, now, false, fixFirstSeenAt);
    } else if (row.state === 'resolved') {
      await trx
        .updateTable('exposures')
        .set((eb) => ({
          state: 'open',
          resolved_at: null,
          resolved_image_id: null,
          resolved_build_id: null,
          package_to: null,
          severity: p.severity,
          reopened_count: eb('reopened_count', '+', 1),
          fix_first_seen_at: row.fix_first_seen_at ?? fixFirstSeenAt,
        }))
        .where('id', '=', row.id)
        .execute();
      await openEpisode(trx, row.id, p, imageId, now, true, row.fix_first_seen_at ?? fixFirstSeenAt);
    } else if (row.fix_first_seen_at === null && fixFirstSeenAt !== null) {
      await trx.updateTable('exposures').set({ fix_first_seen_at: now }).where('id', '=', row.id).execute();
      await trx
        .updateTable('exposure_episodes')
        .set({ fix_first_seen_at: now })
        .where('exposure_id', '=', row.id)
        .where('resolved_at', 'is', null)
        .execute();
    }
  }
  if (previousImageId === null) return;
  for (const row of rows) {
    if (row.state !== 'open' || present.has(`${row.vulnerability_id}\n${row.package_name}`)) continue;
    const now_version = report.packages.find((p) => p.name === row.package_name)?.version ?? null;
    const resolution = { resolved_at: now, resolved_image_id: imageId, package_to: now_version };
    await trx
      .updateTable('exposures')
      .set({ state: 'resolved', ...resolution })
      .where('id', '=', row.id)
      .execute();
    await trx
      .updateTable('exposure_episodes')
      .set(resolution)
      .where('exposure_id', '=', row.id)
      .where('resolved_at', 'is', null)
      .execute();
  }
}

async function openEpisode(
  trx: Trx,
  exposureId: number,
  p: { severity: string; version: string },
  imageId: number,
  now: number,
  regression: boolean,
  fixFirstSeenAt: number | null,
): Promise<void> {
  await trx
    .insertInto('exposure_episodes')
    .values({
      exposure_id: exposureId,
      severity: p.severity,
      opened_at: now,
      opened_image_id: imageId,
      resolved_at: null,
      resolved_image_id: null,
      resolved_build_id: null,
      package_from: p.version,
      package_to: null,
      regression: regression ? 1 : 0,
      fix_first_seen_at: fixFirstSeenAt,
      created_at: now,
    })
    .execute();
}
