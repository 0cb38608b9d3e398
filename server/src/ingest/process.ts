// The ingest job (SERVER.md section 3): store → verify → inventory → match → reconcile. Each step is recorded on the
// job; the reconcile is ONE transaction, recomputed from the evidence (never deltas), so running the job again
// changes nothing.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Finding, Inventory, Report, TargetInfo } from '@lading/engine/model';
import { buildReport } from '@lading/engine/report';
import { type Insertable, type Kysely, sql } from 'kysely';
import { repositoryPatternMatches } from '../auth/index.js';
import type { BlobStore } from '../blobs/index.js';
import type { ServerContext } from '../context.js';
import { writeTransaction } from '../db/connection.js';
import { decodeJson, encodeJson } from '../db/dialect.js';
import type { Database, ImageArtifactsTable } from '../db/schema.js';
import { recordEvent, SYSTEM_ACTOR } from '../events/record.js';
import { evaluateEvidence, type Scorecard, type TrustedKey, type VerificationPolicy } from '../evidence/index.js';
import { type JobStep, saveSteps } from '../jobs/queue.js';
import { JobFailure, type JobRun, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import type { VulnReaders } from '../vulndata/reader.js';
import { INGEST_JOB_KIND, type IngestJobPayload } from './accept.js';
import { applyServerExceptions, findingKey } from './exceptions.js';
import { AMBIGUOUS_MATCH_EXTRA, matchExtrasByPurl, matchOsOf } from './match-input.js';
import {
  chunked,
  inventoryFromArtifact,
  upsertVulnerabilities,
  type VulnerabilityRowRef,
} from './vulnerability-row.js';

export interface IngestJobOptions {
  /** The server's vulnerability store (a `lading db` folder); default `<dataDir>/vulndb`. */
  vulndbDir?: string;
  /**
   * The process's shared reader of that store (vulndata/reader.ts), kept open across jobs; without it the job opens
   * the store for itself (tests that register only this handler).
   */
  readers?: VulnReaders;
}

type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';

/** Registers the ingest job's handler on the runner (explicitly, at start-up; no import side effects). */
export function registerIngestJob(
  runner: JobRunner,
  ctx: ServerContext,
  blobs: BlobStore,
  options: IngestJobOptions = {},
): void {
  const vulndb = options.readers ?? options.vulndbDir ?? join(ctx.config.dataDir, 'vulndb');
  registerJobHandler(runner, INGEST_JOB_KIND, (run) => processIngest(run, ctx, blobs, vulndb));
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
  /** The shared reader of the vulnerability store, or its folder (opened and closed for this job). */
  vulndb: VulnReaders | string,
): Promise<IngestResult> {
  const payload = run.payload as IngestJobPayload;
  const { metadata } = payload;
  const started = performance.now();
  // The steps are kept here and written ONCE, with the reconcile, in its transaction: a write per step (ten per
  // job) was ten more commits, each taking SQLite's single write lock (and an fsync) or a PostgreSQL round trip.
  // A step still running after STEP_PROGRESS_MS is written as running, so a slow match shows its progress; a
  // failed step is written at once.
  const steps: JobStep[] = [];
  const put = (step: JobStep) => {
    const at = steps.findIndex((s) => s.name === step.name);
    if (at >= 0) steps[at] = step;
    else steps.push(step);
  };
  const timed = async <T>(
    name: string,
    work: () => Promise<{ value: T; detail: string }>,
    showProgress = true,
  ): Promise<T> => {
    const t0 = performance.now();
    let progress: Promise<void> | undefined;
    const slow = setTimeout(() => {
      if (showProgress) progress = writeSteps(run, [...steps, { name, state: 'running' }]).catch(() => {});
    }, STEP_PROGRESS_MS);
    try {
      const { value, detail } = await work();
      put({ name, state: 'succeeded', ms: Math.round(performance.now() - t0), detail });
      return value;
    } catch (err) {
      const detail = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
      put({ name, state: 'failed', ms: Math.round(performance.now() - t0), detail: detail.slice(0, 300) });
      clearTimeout(slow);
      await progress;
      await writeSteps(run, steps);
      throw err;
    } finally {
      clearTimeout(slow);
      // a progress write in flight lands before the next one (the final steps must not be overwritten by it)
      await progress;
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
    const { findVulnerabilities, matchVulnerabilities } = await import('@lading/engine/match');
    // no store yet (or only a folder): findVulnerabilities opens what is there and reports the rest as gaps
    const opening = (dbDir: string) =>
      findVulnerabilities(inventory, { dbDir, offline: true, now, allowMissingData: true });
    const result =
      typeof vulndb === 'string'
        ? await opening(vulndb)
        : ((await vulndb.use((store) =>
            store ? matchVulnerabilities(inventory, store, { now, allowMissingData: true }) : undefined,
          )) ?? (await opening(vulndb.dir)));
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

  const lease = { id: run.job.id, attempts: run.job.attempts, nodeId: run.job.locked_by ?? '' };
  let changes: { new: string[]; fixed: string[] } = { new: [], fixed: [] };
  const resultOf = (outcome: { new: string[]; fixed: string[] }): IngestResult => ({
    image: metadata.digest,
    counts: countsOf(report.findings),
    new: outcome.new,
    fixed: outcome.fixed,
    evidence: { state: scorecard.state, score: scorecard.score, max: scorecard.max },
    quarantined,
  });
  const outcome = await timed(
    'reconcile',
    async () => {
      const t0 = performance.now();
      let detail = '';
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
        finish: async (trx) => {
          // the steps, the reconcile's own included (its time up to here), in the reconcile's commit; a lease taken
          // over meanwhile writes nothing here (the reconcile itself is idempotent, so the other run's is the same)
          put({ name: 'reconcile', state: 'succeeded', ms: Math.round(performance.now() - t0), detail });
          await saveSteps(trx, lease, steps);
          // the job's success in the same commit too (the table runner offers it; a quarantine fails the job below)
          if (!quarantined && run.completeIn) await run.completeIn(trx, resultOf(changes));
        },
        describe: (outcome) => {
          changes = outcome;
          detail = `${outcome.new.length} new, ${outcome.fixed.length} fixed`;
        },
      });
      return { value, detail };
    },
    // no progress write for the reconcile: queued behind its transaction, it would land after the commit and
    // overwrite the steps the transaction wrote
    false,
  );
  if (quarantined) {
    // the image is kept (its evidence and findings are there to look at) but never current, never counted
    throw new JobFailure(
      'verification_failed',
      `evidence ${scorecard.state} (${scorecard.score}/${scorecard.max}) and ${metadata.repository} enforces verification: ${failedChecks(scorecard)}`,
      false,
    );
  }
  ctx.log.info('ingested', { digest: metadata.digest, ms: Math.round(performance.now() - started) });
  return resultOf(outcome);
}

/** How long a step runs before it is written as running (most ingests take less in total, and write steps once). */
const STEP_PROGRESS_MS = 1_000;

/** Writes the job's steps through the runner (progress and failures; the runner saves its whole list each time). */
async function writeSteps(run: JobRun, steps: readonly JobStep[]): Promise<void> {
  for (const step of steps) await run.step(step);
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
  /** Told the outcome before `finish`, which records it. */
  describe: (changes: { new: string[]; fixed: string[] }) => void;
  /** The job's own bookkeeping (its steps), written last inside the same transaction: one commit, not two. */
  finish: (trx: Db) => Promise<void>;
}

type Db = Kysely<Database>;

/** Rows per multi-row statement: far below SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const ROWS_PER_STATEMENT = 500;

/**
 * ONE write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: under advisory locks on the repository and the
 * digest): upserts the repository, the image and its counters, placements and `is_current`, tags and their history,
 * layers, packages and occurrences, vulnerabilities and aliases, findings (first seen kept, retracted ones
 * resolved), exposures against the track's previous current image, verifications, builds, image artifacts and the
 * ingest event. Everything that needs no database (the match, the scorecard, the counts) was computed before it.
 * Rows are written with multi-row statements and read back with one `in (…)` select per table, so the number of
 * statements does not grow with the number of packages or findings: each statement is a round trip on
 * PostgreSQL, and on SQLite the transaction holds the single write lock for as short a time as possible.
 */
async function reconcile(ctx: ServerContext, input: ReconcileInput): Promise<{ new: string[]; fixed: string[] }> {
  const { payload, scorecard } = input;
  const { metadata } = payload;
  // every time written is the acknowledgement's, not the clock's: running the job again writes the same rows
  const now = payload.receivedAt;
  const observedAt = metadata.observedAt ?? payload.receivedAt;
  const policyHash = createHash('sha256').update(encodeJson(input.policy)).digest('hex');
  return writeTransaction(ctx.db, ctx.dialect, async (trx) => {
    if (ctx.dialect === 'postgres') {
      // The repository's track (current image, tags and their history, exposures) is recomputed by one ingest at a
      // time, and the image (shared between repositories) likewise: always repository first, then digest, so two
      // reconciles never wait on each other in opposite orders (one statement: its target list is evaluated in
      // order). SQLite's BEGIN IMMEDIATE already makes this the only writer.
      await sql`select pg_advisory_xact_lock(hashtext(${`repository:${metadata.repository}`})), pg_advisory_xact_lock(hashtext(${`image:${metadata.digest}`}))`.execute(
        trx,
      );
    }
    const repositoryId = await repositoryIdOf(trx, metadata.repository, now);
    // the repository's exceptions judge this analysis too (CI's report does not know them): counters, findings and
    // exposures below are all written from the judged report
    const { report, exceptionOf } = await applyServerExceptions(trx, repositoryId, metadata.digest, input.report, now);
    const counts = countsOf(report.findings);
    const suppressed = report.findings.filter((f) => f.suppressed).length;

    // image and its counters (recomputed from this analysis): one upsert
    const imageValues = {
      index_digest: metadata.indexDigest ?? null,
      platform: metadata.platform ?? report.target.platform ?? '',
      os_ecosystem: report.os ? (report.os.ecosystem ?? `${report.os.family}:${report.os.version}`) : null,
      match_os: matchOsOf(report.os),
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
    const image = await trx
      .insertInto('images')
      .values({
        digest: metadata.digest,
        image_created_at: null,
        first_ingested_at: now,
        analyzed_generation: null,
        created_at: now,
        ...imageValues,
      })
      .onConflict((oc) => oc.column('digest').doUpdateSet(imageValues))
      .returning('id')
      .executeTakeFirstOrThrow();
    const imageId = Number(image.id);

    // placement in the track, and whether it becomes the track's current image (latest observation wins)
    const placed = await trx
      .selectFrom('repository_images')
      .select(['image_id', 'first_seen_at', 'is_current'])
      .where('repository_id', '=', repositoryId)
      .where('track', '=', metadata.track)
      .where((eb) => eb.or([eb('image_id', '=', imageId), eb('is_current', '=', 1)]))
      .execute();
    const placement = placed.find((r) => r.image_id === imageId);
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
    const current = placed.find((r) => r.is_current === 1);
    const previousCurrent = current && current.image_id !== imageId ? current.image_id : null;
    const becomesCurrent =
      !input.quarantined && (!current || current.image_id === imageId || seenAt >= current.first_seen_at);
    if (becomesCurrent && (previousCurrent !== null || placement?.is_current !== 1)) {
      // this image current, the previous one not, in one statement
      await trx
        .updateTable('repository_images')
        .set((eb) => ({
          is_current: eb.case().when('image_id', '=', imageId).then(1).else(0).end(),
        }))
        .where('repository_id', '=', repositoryId)
        .where('track', '=', metadata.track)
        .where('image_id', 'in', previousCurrent === null ? [imageId] : [imageId, previousCurrent])
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

    const layerIds = await reconcileLayers(trx, imageId, report.target, now);
    const packageIds = await reconcilePackages(trx, imageId, report, layerIds, now);
    const vulnerabilities = await upsertVulnerabilities(
      trx,
      report.findings.filter((f) => packageIds.has(f.packageId)),
      now,
    );
    const changes = await reconcileFindings(trx, imageId, report, packageIds, vulnerabilities, exceptionOf, now);
    if (becomesCurrent) {
      await reconcileExposures(trx, {
        repositoryId,
        track: metadata.track,
        imageId,
        previousImageId: previousCurrent,
        report,
        packageIds,
        vulnerabilities,
        now,
      });
    }

    // evidence: verifications recomputed, the build (from a verified provenance first), the image's artifacts
    await trx.deleteFrom('verifications').where('image_id', '=', imageId).execute();
    const verificationRows = scorecard.checks.map((check) => ({
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
    }));
    for (const chunk of chunked(verificationRows, ROWS_PER_STATEMENT)) {
      await trx.insertInto('verifications').values(chunk).execute();
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
    const artifactRows = new Map<number, { role: ImageArtifactsTable['role'] }>();
    for (const a of input.artifacts) {
      const role: ImageArtifactsTable['role'] = a.kind.startsWith('sbom-')
        ? 'inventory'
        : a.kind === 'report-lading'
          ? 'report'
          : a.kind === 'signature-cosign'
            ? 'signature'
            : a.id === provenanceArtifact
              ? 'provenance'
              : 'attestation';
      // the first of the same artifact wins, as one insert-or-ignore per artifact in order did
      if (!artifactRows.has(a.id)) artifactRows.set(a.id, { role });
    }
    if (artifactRows.size > 0) {
      await trx
        .insertInto('image_artifacts')
        .values(
          [...artifactRows].map(([artifactId, { role }]) => ({
            image_id: imageId,
            artifact_id: artifactId,
            role,
            predicate_type: null,
            job_id: input.jobId,
            created_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['image_id', 'artifact_id']).doNothing())
        .execute();
    }

    // the audit event, once per job (request_id = the job's id makes a re-run write nothing), through the events
    // module so that notification rules, GitHub issue sync and rebuild checks see ingests like any other change
    const logged = await trx
      .selectFrom('events')
      .select('id')
      .where('image_id', '=', imageId)
      .where('type', 'in', ['image.ingested', 'image.quarantined'])
      .where('request_id', '=', input.jobPublicId)
      .executeTakeFirst();
    if (!logged) {
      const actor = /^(user|token):(\d+)$/.exec(input.createdBy ?? '');
      await recordEvent(trx, {
        at: now,
        type: input.quarantined ? 'image.quarantined' : 'image.ingested',
        actor: actor ? { kind: actor[1] as 'user' | 'token', id: Number(actor[2]) } : SYSTEM_ACTOR,
        repositoryId,
        imageId,
        requestId: input.jobPublicId,
        data: {
          job: input.jobPublicId,
          tags: metadata.tags,
          track: metadata.track,
          counts,
          evidence: { state: scorecard.state, score: scorecard.score, max: scorecard.max },
          new: changes.new,
          fixed: changes.fixed,
          source: payload.source,
        },
      });
    }
    input.describe(changes);
    await input.finish(trx);
    return changes;
  });
}

/** The repository's id, created on its first ingest (a concurrent first ingest may create it first). */
async function repositoryIdOf(trx: Db, name: string, now: number): Promise<number> {
  const found = await trx.selectFrom('repositories').select(['id']).where('name', '=', name).executeTakeFirst();
  if (found) return Number(found.id);
  const inserted = await trx
    .insertInto('repositories')
    .values({
      public_id: publicId('repo'),
      name,
      name_lc: name.toLowerCase(),
      team_id: null,
      source_repo: null,
      archived_at: null,
      purge_after: null,
      created_at: now,
    })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return Number(inserted.id);
  const row = await trx.selectFrom('repositories').select(['id']).where('name', '=', name).executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Tags created if new; those whose last move is older than this observation move here (history closed and opened). */
async function moveTags(
  trx: Db,
  repositoryId: number,
  imageId: number,
  tags: readonly string[],
  observedAt: number,
  now: number,
): Promise<void> {
  const names = [...new Set(tags)];
  if (names.length === 0) return;
  const existing = await trx
    .selectFrom('tags')
    .select(['id', 'name', 'current_image_id', 'moved_at'])
    .where('repository_id', '=', repositoryId)
    .where('name', 'in', names)
    .execute();
  const missing = names.filter((n) => !existing.some((t) => t.name === n));
  let rows = existing;
  if (missing.length > 0) {
    await trx
      .insertInto('tags')
      .values(
        missing.map((name) => ({
          repository_id: repositoryId,
          name,
          current_image_id: null,
          moved_at: 0,
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['repository_id', 'name']).doNothing())
      .execute();
    rows = await trx
      .selectFrom('tags')
      .select(['id', 'name', 'current_image_id', 'moved_at'])
      .where('repository_id', '=', repositoryId)
      .where('name', 'in', names)
      .execute();
  }
  // already here, or an older observation arriving late: the tag stays where the newer one put it
  const moving = rows.filter((t) => !(t.current_image_id === imageId || observedAt < t.moved_at)).map((t) => t.id);
  if (moving.length === 0) return;
  await trx
    .updateTable('tag_history')
    .set({ to_at: observedAt })
    .where('tag_id', 'in', moving)
    .where('to_at', 'is', null)
    .execute();
  await trx
    .insertInto('tag_history')
    .values(
      moving.map((tagId) => ({
        tag_id: tagId,
        image_id: imageId,
        from_at: observedAt,
        to_at: null,
        source: 'ci',
        created_at: now,
      })),
    )
    // two observations of the same instant (two pushes in one millisecond moving one tag): the later one processed
    // replaces the interval the first opened, which the update above has just closed at that same instant
    .onConflict((oc) =>
      oc.columns(['tag_id', 'from_at']).doUpdateSet((eb) => ({ image_id: eb.ref('excluded.image_id'), to_at: null })),
    )
    .execute();
  await trx
    .updateTable('tags')
    .set({ current_image_id: imageId, moved_at: observedAt })
    .where('id', 'in', moving)
    .execute();
}

/** The image's layers rewritten (the shared `layers` rows created if new); returns diff id → layer row id. */
async function reconcileLayers(
  trx: Db,
  imageId: number,
  target: TargetInfo,
  now: number,
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  await trx.deleteFrom('image_layers').where('image_id', '=', imageId).execute();
  if (target.layers.length === 0) return ids;
  // the first mention of a layer gives its digest and size, as one insert-or-ignore per layer in order did
  const layers = new Map<string, { digest: string | null; size: number | null }>();
  for (const l of target.layers) {
    if (!layers.has(l.diffId)) layers.set(l.diffId, { digest: l.digest ?? null, size: l.size ?? null });
  }
  const diffIds = [...layers.keys()];
  for (const chunk of chunked(diffIds, ROWS_PER_STATEMENT)) {
    await trx
      .insertInto('layers')
      .values(chunk.map((diffId) => ({ diff_id: diffId, ...layers.get(diffId)!, created_at: now })))
      .onConflict((oc) => oc.column('diff_id').doNothing())
      .execute();
    const rows = await trx.selectFrom('layers').select(['id', 'diff_id']).where('diff_id', 'in', chunk).execute();
    for (const r of rows) ids.set(r.diff_id, Number(r.id));
  }
  const imageLayers = target.layers.map((layer, position) => ({
    image_id: imageId,
    position,
    layer_id: ids.get(layer.diffId)!,
    created_by: layer.createdBy ?? null,
    created_at: now,
  }));
  for (const chunk of chunked(imageLayers, ROWS_PER_STATEMENT)) {
    await trx.insertInto('image_layers').values(chunk).execute();
  }
  return ids;
}

/**
 * Packages by purl (shared between images) and this image's occurrences, rewritten; the report id → row id.
 * `layerIds` holds the image's own layers; a layer a package names beyond them is looked up by its diff id only
 * (the layers table holds every layer of the fleet: reading it whole made an ingest's cost grow with the fleet).
 */
async function reconcilePackages(
  trx: Db,
  imageId: number,
  report: Report,
  imageLayerIds: ReadonlyMap<string, number>,
  now: number,
): Promise<Map<string, number>> {
  const layerIds = new Map(imageLayerIds);
  const unknownLayers = new Set<string>();
  for (const p of report.packages) {
    const layer = p.locations[0]?.layer;
    if (layer && !layerIds.has(layer)) unknownLayers.add(layer);
  }
  for (const chunk of chunked([...unknownLayers], ROWS_PER_STATEMENT)) {
    const rows = await trx.selectFrom('layers').select(['id', 'diff_id']).where('diff_id', 'in', chunk).execute();
    for (const l of rows) layerIds.set(l.diff_id, Number(l.id));
  }
  await trx.deleteFrom('package_occurrences').where('image_id', '=', imageId).execute();
  // the first package with a purl gives the shared row's values, as one insert-or-ignore per package in order did
  const byPurl = new Map<string, Report['packages'][number]>();
  for (const p of report.packages) if (!byPurl.has(p.purl)) byPurl.set(p.purl, p);
  // what re-analysis matches the row with (0010): a row another inventory wrote differently is marked ambiguous
  const extras = matchExtrasByPurl(report.packages);
  const disagreeing: number[] = [];
  const purlIds = new Map<string, number>();
  for (const chunk of chunked([...byPurl.values()], ROWS_PER_STATEMENT)) {
    await trx
      .insertInto('packages')
      .values(
        chunk.map((p) => ({
          purl: p.purl,
          type: p.type,
          name: p.name,
          name_lc: p.name.toLowerCase(),
          version: p.version,
          ecosystem: p.type,
          match_name: p.source?.name ?? p.name,
          match_version: p.source?.version ?? p.version,
          match_extra: extras.get(p.purl) ?? null,
          licenses: encodeJson(p.licenses ?? []),
          created_at: now,
        })),
      )
      .onConflict((oc) => oc.column('purl').doNothing())
      .execute();
    const rows = await trx
      .selectFrom('packages')
      .select(['id', 'purl', 'match_extra'])
      .where(
        'purl',
        'in',
        chunk.map((p) => p.purl),
      )
      .execute();
    for (const r of rows) {
      purlIds.set(r.purl, Number(r.id));
      if (r.match_extra !== AMBIGUOUS_MATCH_EXTRA && r.match_extra !== extras.get(r.purl))
        disagreeing.push(Number(r.id));
    }
  }
  // rare (the same purl built differently, or a row from before 0010): an update only then, so the common path takes
  // no row locks on shared package rows
  for (const chunk of chunked(disagreeing, ROWS_PER_STATEMENT)) {
    await trx.updateTable('packages').set({ match_extra: AMBIGUOUS_MATCH_EXTRA }).where('id', 'in', chunk).execute();
  }
  const ids = new Map<string, number>();
  const occurrences = new Map<
    string,
    {
      image_id: number;
      package_id: number;
      layer_id: number | null;
      path: string;
      found_by: string;
      created_at: number;
    }
  >();
  for (const p of report.packages) {
    const packageId = purlIds.get(p.purl);
    if (packageId === undefined) throw new Error(`package ${p.purl} has no row after its insert`);
    ids.set(p.id, packageId);
    const location = p.locations[0];
    const key = `${packageId}\n${location?.path ?? ''}`;
    if (occurrences.has(key)) continue;
    occurrences.set(key, {
      image_id: imageId,
      package_id: packageId,
      layer_id: location?.layer ? (layerIds.get(location.layer) ?? null) : null,
      path: location?.path ?? '',
      found_by: p.foundBy,
      created_at: now,
    });
  }
  for (const chunk of chunked([...occurrences.values()], ROWS_PER_STATEMENT)) {
    await trx.insertInto('package_occurrences').values(chunk).execute();
  }
  return ids;
}

/**
 * Findings of this image recomputed: new rows first seen now, known ones updated only where they changed (reopened
 * if resolved), the rest retracted.
 */
async function reconcileFindings(
  trx: Db,
  imageId: number,
  report: Report,
  packageIds: ReadonlyMap<string, number>,
  vulnerabilities: ReadonlyMap<string, VulnerabilityRowRef>,
  exceptionOf: ReadonlyMap<string, number>,
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
      'findings.severity',
      'findings.fixed_version',
      'findings.resolved_at',
      'findings.resolution',
      'findings.exception_id',
      'vulnerabilities.vuln_id',
    ])
    .where('findings.image_id', '=', imageId)
    .execute();
  const byKey = new Map(existing.map((r) => [`${r.package_id}\n${r.vulnerability_id}`, r]));
  const present = new Set<string>();
  const added = new Set<string>();
  const inserts: Insertable<Database['findings']>[] = [];
  for (const f of report.findings) {
    const packageId = packageIds.get(f.packageId);
    const vuln = vulnerabilities.get(f.id);
    if (packageId === undefined || vuln === undefined) continue;
    const key = `${packageId}\n${vuln.id}`;
    if (present.has(key)) continue;
    present.add(key);
    const status = f.suppressed ? ('suppressed' as const) : ('open' as const);
    const fixedVersion = f.fixedVersions[0] ?? null;
    const exceptionId = exceptionOf.get(findingKey(f)) ?? null;
    const row = byKey.get(key);
    if (!row) {
      inserts.push({
        image_id: imageId,
        package_id: packageId,
        vulnerability_id: vuln.id,
        severity: f.severity,
        fixed_version: fixedVersion,
        status,
        exception_id: exceptionId,
        first_seen_at: now,
        last_seen_at: now,
        resolved_at: null,
        resolution: null,
        detected_by: 'ingest',
        created_at: now,
      });
      added.add(f.id);
    } else if (
      row.status !== status ||
      row.severity !== f.severity ||
      row.fixed_version !== fixedVersion ||
      (row.exception_id === null ? null : Number(row.exception_id)) !== exceptionId ||
      row.resolved_at !== null ||
      row.resolution !== null
    ) {
      // a re-run or a replay finds every row as it was and writes none of them
      await trx
        .updateTable('findings')
        .set((eb) => ({
          severity: f.severity,
          fixed_version: fixedVersion,
          status,
          exception_id: exceptionId,
          resolved_at: null,
          resolution: null,
          ...(row.status === 'resolved' ? { reopened_count: eb('reopened_count', '+', 1) } : {}),
        }))
        .where('id', '=', row.id)
        .execute();
    }
  }
  for (const chunk of chunked(inserts, ROWS_PER_STATEMENT)) {
    await trx.insertInto('findings').values(chunk).execute();
  }
  const fixed = new Set<string>();
  const retracted: number[] = [];
  for (const row of existing) {
    if (present.has(`${row.package_id}\n${row.vulnerability_id}`) || row.status === 'resolved') continue;
    retracted.push(Number(row.id));
    fixed.add(row.vuln_id);
  }
  for (const chunk of chunked(retracted, ROWS_PER_STATEMENT)) {
    await trx
      .updateTable('findings')
      .set({ status: 'resolved', resolved_at: now, resolution: 'retracted' })
      .where('id', 'in', chunk)
      .execute();
  }
  return { new: [...added].sort(), fixed: [...fixed].sort() };
}

interface ExposureInput {
  repositoryId: number;
  track: string;
  imageId: number;
  previousImageId: number | null;
  report: Report;
  packageIds: ReadonlyMap<string, number>;
  vulnerabilities: ReadonlyMap<string, VulnerabilityRowRef>;
  now: number;
}

/**
 * Exposures of the track (a vulnerability in a package name, while the track's current image has it): opened when
 * the new current image brings it, resolved when it no longer has it, reopened when it comes back. Each open →
 * resolved run is also an `exposure_episodes` row (the history MTTR and fix tracing read); a reopened exposure's new
 * episode is flagged as a regression. `fix_first_seen_at` is the first ingest whose data named a fixed version.
 */
async function reconcileExposures(trx: Db, input: ExposureInput): Promise<void> {
  const { repositoryId, track, imageId, report, now } = input;
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
    if (f.suppressed || !input.packageIds.has(f.packageId)) continue;
    const vuln = input.vulnerabilities.get(f.id);
    if (!vuln) throw new Error(`vulnerability ${f.id} has no row after its upsert`);
    const key = `${vuln.id}\n${f.package.name}`;
    const seen = present.get(key);
    present.set(key, {
      vulnId: vuln.id,
      severity: f.severity,
      version: f.package.version,
      packageName: f.package.name,
      publishedAt: vuln.publishedAt,
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
  const opened: { key: string; p: typeof present extends Map<string, infer V> ? V : never; fix: number | null }[] = [];
  const fixSeen: number[] = [];
  for (const [key, p] of present) {
    const row = known.get(key);
    const fixFirstSeenAt = p.fixed ? now : null;
    if (!row) {
      opened.push({ key, p, fix: fixFirstSeenAt });
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
      await trx
        .insertInto('exposure_episodes')
        .values(episodeRow(Number(row.id), p, imageId, now, true, row.fix_first_seen_at ?? fixFirstSeenAt))
        .execute();
    } else if (row.fix_first_seen_at === null && fixFirstSeenAt !== null) {
      fixSeen.push(Number(row.id));
    }
  }
  for (const chunk of chunked(opened, ROWS_PER_STATEMENT)) {
    const inserted = await trx
      .insertInto('exposures')
      .values(
        chunk.map(({ p, fix }) => ({
          repository_id: repositoryId,
          track,
          vulnerability_id: p.vulnId,
          package_name: p.packageName,
          severity: p.severity,
          state: 'open' as const,
          opened_at: now,
          opened_image_id: imageId,
          resolved_at: null,
          resolved_image_id: null,
          resolved_build_id: null,
          package_from: p.version,
          package_to: null,
          cve_published_at: p.publishedAt,
          fix_first_seen_at: fix,
          created_at: now,
        })),
      )
      .returning(['id', 'vulnerability_id', 'package_name'])
      .execute();
    const idOf = new Map(inserted.map((r) => [`${r.vulnerability_id}\n${r.package_name}`, Number(r.id)]));
    await trx
      .insertInto('exposure_episodes')
      .values(
        chunk.map(({ key, p, fix }) => {
          const id = idOf.get(key);
          if (id === undefined) throw new Error(`exposure ${key} has no row after its insert`);
          return episodeRow(id, p, imageId, now, false, fix);
        }),
      )
      .execute();
  }
  for (const chunk of chunked(fixSeen, ROWS_PER_STATEMENT)) {
    await trx.updateTable('exposures').set({ fix_first_seen_at: now }).where('id', 'in', chunk).execute();
    await trx
      .updateTable('exposure_episodes')
      .set({ fix_first_seen_at: now })
      .where('exposure_id', 'in', chunk)
      .where('resolved_at', 'is', null)
      .execute();
  }
  if (input.previousImageId === null) return;
  // resolved: grouped by the package's version in this image (one update per version, not per exposure)
  const versionOf = new Map<string, string>();
  for (const p of report.packages) if (!versionOf.has(p.name)) versionOf.set(p.name, p.version);
  const resolvedTo = new Map<string | null, number[]>();
  for (const row of rows) {
    if (row.state !== 'open' || present.has(`${row.vulnerability_id}\n${row.package_name}`)) continue;
    const to = versionOf.get(row.package_name) ?? null;
    const ids = resolvedTo.get(to) ?? [];
    ids.push(Number(row.id));
    resolvedTo.set(to, ids);
  }
  for (const [packageTo, all] of resolvedTo) {
    for (const chunk of chunked(all, ROWS_PER_STATEMENT)) {
      const resolution = { resolved_at: now, resolved_image_id: imageId, package_to: packageTo };
      await trx
        .updateTable('exposures')
        .set({ state: 'resolved', ...resolution })
        .where('id', 'in', chunk)
        .execute();
      await trx
        .updateTable('exposure_episodes')
        .set(resolution)
        .where('exposure_id', 'in', chunk)
        .where('resolved_at', 'is', null)
        .execute();
    }
  }
}

function episodeRow(
  exposureId: number,
  p: { severity: string; version: string },
  imageId: number,
  now: number,
  regression: boolean,
  fixFirstSeenAt: number | null,
): Insertable<Database['exposure_episodes']> {
  return {
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
  };
}
