// Rebuild triggers: when a published image (one a tag points at now) carries fixable HIGH or CRITICAL findings, ask
// for a rebuild — a GitHub `repository_dispatch` (event type `lading-rebuild`) through the GitHub integration, or a
// webhook signed like notifications — carrying the image, the CVEs and their fixed versions. Once per image digest
// and CVE set: `rebuild_triggers` is unique on (digest, set hash), and, as for notifications, a trigger is marked
// `sending` before its request so one interrupted mid-way is recorded `unknown`, never sent twice. A webhook, and the
// GitHub API base URL of a dispatch, go through the outbound address guard (notify/guard.ts): a private address not
// allowlisted fails, and is not retried.
//
// One check per repository is queued at a time; a check gives its dedupe key up as it starts (before it reads tags
// and findings), so an event during a check queues the next one instead of being folded into a check that may have
// read too early. Two checks of a repository may then overlap: a trigger being sent is claimed by its check's job
// and attempt (see `claimNote`), and another check leaves it alone while that attempt is alive.
import { findingSetHash } from '@lading/engine/github';
import type { Kysely, Transaction } from 'kysely';
import type { ServerContext } from '../context.js';
import { decodeJsonRequired, encodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { serverGithubApi } from '../github/client.js';
import { loadGithubSettings } from '../github/settings.js';
import { oneLine } from '../http/problem.js';
import { enqueue, type JobLease, releaseDedupeKey } from '../jobs/queue.js';
import { beforeRetryOfReleasedKey, JobFailure, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import { postGuarded, TargetRefused } from '../notify/guard.js';
import { integrationKey, openSecret, sealSecret, signBody } from '../notify/index.js';

export const REBUILD_CHECK = 'rebuild.check';
const TARGET_PURPOSE = 'rebuild_targets.target';
const SECRET_PURPOSE = 'rebuild_targets.secret';
const FIXABLE_SEVERITIES = ['CRITICAL', 'HIGH'];

type Db = Kysely<Database> | Transaction<Database>;

export type RebuildTarget =
  | { readonly kind: 'github-dispatch'; readonly repository: string }
  | { readonly kind: 'webhook'; readonly url: string; readonly secret: string };

export interface RebuildPayload {
  readonly repository: string;
  readonly image: string;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly cves: readonly { id: string; severity: string; package: string; installed: string; fixedVersion: string }[];
}

export async function setRebuildTarget(
  db: Db,
  root: Uint8Array,
  repositoryId: number,
  target: RebuildTarget,
  now: number,
): Promise<void> {
  const key = integrationKey(root);
  const values = {
    kind: target.kind,
    target_enc: sealSecret(key, TARGET_PURPOSE, target.kind === 'webhook' ? target.url : target.repository),
    secret_enc: target.kind === 'webhook' ? sealSecret(key, SECRET_PURPOSE, target.secret) : null,
    enabled: 1,
    updated_at: now,
  };
  await db
    .insertInto('rebuild_targets')
    .values({ repository_id: repositoryId, ...values, created_at: now })
    .onConflict((oc) => oc.column('repository_id').doUpdateSet(values))
    .execute();
}

/** Queues a check of one repository (in the caller's transaction) when it has an enabled rebuild target. */
export async function queueRebuildCheck(db: Db, now: number, repositoryId: number): Promise<boolean> {
  const target = await db
    .selectFrom('rebuild_targets')
    .select('repository_id')
    .where('repository_id', '=', repositoryId)
    .where('enabled', '=', 1)
    .executeTakeFirst();
  if (!target) return false;
  await enqueue(db, now, {
    kind: REBUILD_CHECK,
    payload: { repositoryId },
    dedupeKey: rebuildCheckKey(repositoryId),
    // a running check has released the key: this event then queues the next check (see the header)
    releasedWhenStarted: true,
    createdBy: 'system',
  });
  return true;
}

/** The dedupe key of a repository's queued check. */
export function rebuildCheckKey(repositoryId: number): string {
  return `rebuild:${repositoryId}`;
}

/** Who is sending a trigger: the check's job and attempt (a retried job is a new attempt, and the old one is dead). */
export interface RebuildClaimant {
  readonly jobId: number;
  readonly attempt: number;
}

/**
 * A `sending` trigger's claim, kept in its `last_error` (which is otherwise empty while sending, and which an
 * operator reads): `sending: job <id>, attempt <n>`. A trigger marked `sending` without one (a direct call, an older
 * version) counts as abandoned.
 */
function claimNote(claimant: RebuildClaimant): string {
  return `sending: job ${claimant.jobId}, attempt ${claimant.attempt}`;
}

function parseClaimNote(note: string | null): RebuildClaimant | undefined {
  const match = /^sending: job (\d+), attempt (\d+)$/.exec(note ?? '');
  return match ? { jobId: Number(match[1]), attempt: Number(match[2]) } : undefined;
}

/**
 * Whether the check holding a claim is still at work: its job is running that same attempt and its lease has not
 * run out (the table runner's lease; on graphile-worker the lease is empty while a live worker runs it, and the
 * nodes janitor expires it when the worker's node died, before graphile runs the next attempt). A job that
 * finished, failed, or moved on to another attempt left its claim behind: its request may have arrived.
 */
async function claimAlive(db: Db, claimant: RebuildClaimant, now: number): Promise<boolean> {
  const job = await db
    .selectFrom('jobs')
    .select(['state', 'attempts', 'lease_until'])
    .where('id', '=', claimant.jobId)
    .executeTakeFirst();
  return (
    job !== undefined &&
    job.state === 'running' &&
    job.attempts === claimant.attempt &&
    (job.lease_until === null || job.lease_until >= now)
  );
}

/** The published images of a repository and their fixable HIGH/CRITICAL findings, as trigger payloads. */
async function pendingPayloads(db: Db, repositoryId: number): Promise<RebuildPayload[]> {
  const repository = await db
    .selectFrom('repositories')
    .select('name')
    .where('id', '=', repositoryId)
    .executeTakeFirst();
  if (!repository) return [];
  const tagged = await db
    .selectFrom('tags')
    .innerJoin('images', 'images.id', 'tags.current_image_id')
    .select(['images.id', 'images.digest', 'tags.name'])
    .where('tags.repository_id', '=', repositoryId)
    .orderBy('images.id')
    .orderBy('tags.name')
    .execute();
  const byImage = new Map<number, { digest: string; tags: string[] }>();
  for (const t of tagged) {
    const entry = byImage.get(t.id) ?? { digest: t.digest, tags: [] };
    entry.tags.push(t.name);
    byImage.set(t.id, entry);
  }
  const payloads: RebuildPayload[] = [];
  for (const [imageId, { digest, tags }] of byImage) {
    const rows = await db
      .selectFrom('findings')
      .innerJoin('packages', 'packages.id', 'findings.package_id')
      .innerJoin('vulnerabilities', 'vulnerabilities.id', 'findings.vulnerability_id')
      .select([
        'vulnerabilities.vuln_id',
        'findings.severity',
        'packages.name',
        'packages.version',
        'findings.fixed_version',
      ])
      .where('findings.image_id', '=', imageId)
      .where('findings.status', '=', 'open')
      .where('findings.fixed_version', 'is not', null)
      .orderBy('vulnerabilities.vuln_id')
      .orderBy('packages.name')
      .execute();
    const cves = rows
      .filter((r) => FIXABLE_SEVERITIES.includes(r.severity.toUpperCase()))
      .map((r) => ({
        id: r.vuln_id,
        severity: r.severity.toUpperCase(),
        package: r.name,
        installed: r.version,
        fixedVersion: r.fixed_version ?? '',
      }));
    if (cves.length > 0) {
      payloads.push({ repository: repository.name, image: `${repository.name}@${digest}`, digest, tags, cves });
    }
  }
  return payloads;
}

export interface RebuildOutcome {
  readonly digest: string;
  readonly state: string;
}

/**
 * Checks one repository and sends what it owes. `claimant` is the check's job and attempt (the job handler passes
 * it); without one (a direct call) the triggers it sends carry no claim, so an overlapping check would take them for
 * abandoned.
 */
export async function checkRebuilds(
  ctx: ServerContext,
  repositoryId: number,
  claimant?: RebuildClaimant,
): Promise<RebuildOutcome[]> {
  const target = await ctx.db
    .selectFrom('rebuild_targets')
    .selectAll()
    .where('repository_id', '=', repositoryId)
    .where('enabled', '=', 1)
    .executeTakeFirst();
  if (!target) return [];
  const now = ctx.now();
  for (const payload of await pendingPayloads(ctx.db, repositoryId)) {
    await ctx.db
      .insertInto('rebuild_triggers')
      .values({
        repository_id: repositoryId,
        image_digest: payload.digest,
        set_hash: findingSetHash(payload.cves.map((c) => c.id)),
        state: 'pending',
        payload: encodeJson(payload),
        last_error: null,
        sent_at: null,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['image_digest', 'set_hash']).doNothing())
      .execute();
  }
  const open = await ctx.db
    .selectFrom('rebuild_triggers')
    .select(['id', 'image_digest', 'state', 'payload', 'last_error'])
    .where('repository_id', '=', repositoryId)
    .where('state', 'in', ['pending', 'failed', 'sending'])
    .orderBy('id')
    .execute();
  const key = integrationKey(ctx.secrets.key);
  const outcomes: RebuildOutcome[] = [];
  let failure: string | undefined;
  let refused: string | undefined;
  for (const trigger of open) {
    if (trigger.state === 'sending') {
      const holder = parseClaimNote(trigger.last_error);
      if (holder && (await claimAlive(ctx.db, holder, ctx.now()))) {
        // an overlapping check is sending it right now: its outcome is its own to record
        outcomes.push({ digest: trigger.image_digest, state: 'sending' });
        continue;
      }
      // the check that claimed it died mid-request: it may have arrived, so it is not sent again
      const marked = await ctx.db
        .updateTable('rebuild_triggers')
        .set({ state: 'unknown', last_error: 'interrupted while sending; not sent again to avoid a duplicate' })
        .where('id', '=', trigger.id)
        .where('state', '=', 'sending')
        .executeTakeFirst();
      if (Number(marked.numUpdatedRows) === 1) outcomes.push({ digest: trigger.image_digest, state: 'unknown' });
      continue;
    }
    const claimed = await ctx.db
      .updateTable('rebuild_triggers')
      .set({ state: 'sending', last_error: claimant ? claimNote(claimant) : null })
      .where('id', '=', trigger.id)
      .where('state', 'in', ['pending', 'failed'])
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    const payload = decodeJsonRequired<RebuildPayload>(trigger.payload);
    try {
      const destination = openSecret(key, TARGET_PURPOSE, target.target_enc);
      if (target.kind === 'github-dispatch') {
        const settings = await loadGithubSettings(ctx.db, ctx.secrets.key);
        if (!settings) throw new Error('the GitHub integration is not configured');
        // the GitHub base URL goes through the same address guard as a webhook
        const api = serverGithubApi(ctx, settings);
        await api.request('POST', `/repos/${destination}/dispatches`, {
          event_type: 'lading-rebuild',
          client_payload: payload,
        });
      } else {
        const body = JSON.stringify({ type: 'rebuild.requested', ...payload });
        const secret = openSecret(key, SECRET_PURPOSE, target.secret_enc ?? '');
        const status = await postGuarded(
          destination,
          {
            'content-type': 'application/json',
            'x-lading-signature': signBody(secret, body),
            'idempotency-key': `lading-rebuild-${trigger.id}`,
          },
          body,
          { allowPrivate: ctx.config.outbound.allowPrivate, timeoutMs: 30_000 },
        );
        if (status < 200 || status >= 300) throw new Error(`the rebuild webhook answered ${status}`);
      }
    } catch (error) {
      const text = oneLine(error instanceof Error ? error.message : String(error), 300);
      await ctx.db
        .updateTable('rebuild_triggers')
        .set({ state: 'failed', last_error: text })
        .where('id', '=', trigger.id)
        .execute();
      outcomes.push({ digest: trigger.image_digest, state: 'failed' });
      // a refused address stays refused: recorded, but not retried by the job's backoff (the next check, after
      // the next change, tries it again, so an administrator's allowlist fix takes effect then)
      if (error instanceof TargetRefused) refused ??= text;
      else failure ??= text;
      continue;
    }
    await ctx.db
      .updateTable('rebuild_triggers')
      .set({ state: 'sent', sent_at: ctx.now(), last_error: null })
      .where('id', '=', trigger.id)
      .execute();
    outcomes.push({ digest: trigger.image_digest, state: 'sent' });
  }
  // a failed trigger is retried by the job's backoff
  if (failure !== undefined) throw new JobFailure('rebuild_trigger_failed', failure);
  if (refused !== undefined) throw new JobFailure('rebuild_target_refused', refused, false);
  return outcomes;
}

export function registerRebuildJobs(runner: JobRunner, ctx: ServerContext): void {
  registerJobHandler(runner, REBUILD_CHECK, async ({ job, payload }) => {
    const id = (payload as { repositoryId?: unknown } | null)?.repositoryId;
    if (typeof id !== 'number') throw new JobFailure('bad_payload', 'rebuild.check needs a repositoryId', false);
    const lease: JobLease = { id: job.id, attempts: job.attempts, nodeId: job.locked_by ?? '' };
    // before reading anything: from here on, an event about the repository queues the next check
    const key = job.dedupe_key;
    if (key !== null && !(await releaseDedupeKey(ctx.db, lease))) {
      throw new JobFailure('lease_lost', 'the check was taken over before it started', false);
    }
    try {
      return { triggers: await checkRebuilds(ctx, id, { jobId: job.id, attempt: job.attempts }) };
    } catch (error) {
      // a retry takes the repository's key back; with a follow-up queued, that one sends what failed here instead
      throw await beforeRetryOfReleasedKey(ctx, job, lease, error, 'the queued follow-up check tries again');
    }
  });
}
