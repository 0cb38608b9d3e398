// The `github.sync` job (SERVER.md section 3, "GitHub issue per image"): for each current image of one repository,
// its open MEDIUM+ findings (suppressed ones excluded) go through the engine's issue lifecycle — the same code the
// GitHub Action runs — and the outcome is recorded in github_issues / github_posts. A sync whose (issue, digest,
// finding set) is already recorded makes no GitHub call; one interrupted after a POST finds its comment by the
// marker on GitHub instead.
//
// One sync per repository is queued at a time (`gh:<id>`); a running sync gives that key up as it starts (before it
// reads the repository's images and findings), so an event committed during a sync queues a follow-up that writes
// what the event changed, instead of being folded into a sync that may have read too early. Syncs of one repository
// still never run at the same time: each holds the repository's lock (lock.ts) for its whole run, and gives its key
// up only once it holds the lock, so a follow-up waiting for it is the repository's one queued sync (later events
// join it).
import { findingSetHash, issueLifecycle, type LifecycleFinding } from '@lading/engine/github';
import type { Kysely, Transaction } from 'kysely';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { type EnqueueResult, enqueue, type JobLease, releaseDedupeKey } from '../jobs/queue.js';
import { beforeRetryOfReleasedKey, JobFailure, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import { TargetRefused } from '../notify/guard.js';
import { serverGithubApi } from './client.js';
import { withRepositorySyncLock } from './lock.js';
import { githubConfigured, githubRepoOf, loadGithubSettings } from './settings.js';

export const GITHUB_SYNC = 'github.sync';
const REPORTED = ['CRITICAL', 'HIGH', 'MEDIUM'];

type Db = Kysely<Database> | Transaction<Database>;

/** Queues a sync of one repository's issues (in the caller's transaction) when the integration is configured: the job, else null. */
export async function queueGithubSync(db: Db, now: number, repositoryId: number): Promise<EnqueueResult | null> {
  if (!(await githubConfigured(db))) return null;
  return enqueue(db, now, {
    kind: GITHUB_SYNC,
    payload: { repositoryId },
    dedupeKey: githubSyncKey(repositoryId),
    // a running sync has released the key: this event then queues the next sync (see the header)
    releasedWhenStarted: true,
    createdBy: 'system',
  });
}

/** The dedupe key of a repository's queued sync. */
export function githubSyncKey(repositoryId: number): string {
  return `gh:${repositoryId}`;
}

export interface TrackOutcome {
  readonly track: string;
  readonly digest: string;
  readonly action: string;
  readonly issue: number | null;
}

/**
 * Syncs one repository's issues now, holding its sync lock: when a sync of it is running, `waiting` is called and
 * this waits for that sync to end.
 */
export function syncRepositoryIssues(
  ctx: ServerContext,
  repositoryId: number,
  waiting: () => Promise<void> = async () => {},
): Promise<TrackOutcome[]> {
  return withRepositorySyncLock(ctx, repositoryId, waiting, (db) => syncLocked(ctx, db, repositoryId));
}

/** The sync itself, its queries on `db`: the caller holds the repository's sync lock. */
async function syncLocked(ctx: ServerContext, db: Kysely<Database>, repositoryId: number): Promise<TrackOutcome[]> {
  const settings = await loadGithubSettings(db, ctx.secrets.key);
  if (!settings) return [];
  const repository = await db
    .selectFrom('repositories')
    .select(['name', 'source_repo'])
    .where('id', '=', repositoryId)
    .executeTakeFirst();
  const ghRepo = githubRepoOf(repository?.source_repo ?? null);
  if (!repository || ghRepo === null) return [];
  // through the outbound address guard: a base URL at a private address needs LADING_OUTBOUND_ALLOW_PRIVATE
  const api = serverGithubApi(ctx, settings);
  const current = await db
    .selectFrom('repository_images')
    .innerJoin('images', 'images.id', 'repository_images.image_id')
    .select(['repository_images.track', 'images.id', 'images.digest'])
    .where('repository_images.repository_id', '=', repositoryId)
    .where('repository_images.is_current', '=', 1)
    .orderBy('repository_images.track')
    .execute();
  const outcomes: TrackOutcome[] = [];
  for (const image of current) {
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
      .where('findings.image_id', '=', image.id)
      .where('findings.status', '=', 'open')
      .orderBy('vulnerabilities.vuln_id')
      .orderBy('packages.name')
      .execute();
    const findings: LifecycleFinding[] = rows
      .filter((r) => REPORTED.includes(r.severity.toUpperCase()))
      .map((r) => ({
        id: r.vuln_id,
        severity: r.severity.toUpperCase(),
        package: r.name,
        version: r.version,
        ...(r.fixed_version ? { fixedVersion: r.fixed_version } : {}),
      }));
    const build = await db
      .selectFrom('builds')
      .select(['source_commit', 'run_url'])
      .where('image_id', '=', image.id)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    const label = image.track === 'default' ? repository.name : `${repository.name} (${image.track})`;
    const now = ctx.now();
    const row = await db
      .insertInto('github_issues')
      .values({
        repository_id: repositoryId,
        track: image.track,
        gh_repo: ghRepo,
        number: null,
        state: 'none',
        closed_at: null,
        last_set_hash: null,
        last_digest: null,
        updated_at: now,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['repository_id', 'track', 'gh_repo']).doUpdateSet({ updated_at: now }))
      .returningAll()
      .executeTakeFirstOrThrow();
    if (row.last_digest === image.digest && row.last_set_hash === findingSetHash(findings.map((f) => f.id))) {
      // recorded already: this digest's finding set is on GitHub (as opened, commented, closed or nothing to do)
      outcomes.push({ track: image.track, digest: image.digest, action: 'recorded', issue: row.number });
      continue;
    }
    const result = await issueLifecycle(api, {
      repository: ghRepo,
      image: label,
      digest: image.digest,
      ...(build?.source_commit ? { commit: build.source_commit } : {}),
      ...(build?.run_url ? { runUrl: build.run_url } : {}),
      findings,
      now: new Date(now),
    });
    const state =
      result.issue === undefined
        ? 'none'
        : result.action === 'closed'
          ? 'closed'
          : result.action === 'none'
            ? row.state
            : 'open';
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('github_issues')
        .set({
          number: result.issue ?? row.number,
          state,
          closed_at: result.action === 'closed' ? now : result.action === 'reopened' ? null : row.closed_at,
          last_set_hash: result.setHash,
          last_digest: image.digest,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      if (result.action !== 'none' && result.action !== 'unchanged') {
        await trx
          .insertInto('github_posts')
          .values({
            issue_id: row.id,
            image_digest: image.digest,
            set_hash: result.setHash,
            comment_id: result.comment?.id ?? null,
            action: result.action,
            created_at: now,
          })
          .onConflict((oc) => oc.columns(['issue_id', 'image_digest', 'set_hash']).doNothing())
          .execute();
      }
    });
    outcomes.push({ track: image.track, digest: image.digest, action: result.action, issue: result.issue ?? null });
  }
  return outcomes;
}

export function registerGithubJobs(runner: JobRunner, ctx: ServerContext): void {
  registerJobHandler(runner, GITHUB_SYNC, async ({ job, payload, step }) => {
    const id = (payload as { repositoryId?: unknown } | null)?.repositoryId;
    if (typeof id !== 'number') throw new JobFailure('bad_payload', 'github.sync needs a repositoryId', false);
    const lease: JobLease = { id: job.id, attempts: job.attempts, nodeId: job.locked_by ?? '' };
    const key = job.dedupe_key;
    let waitedSince: number | undefined;
    try {
      return await withRepositorySyncLock(
        ctx,
        id,
        async () => {
          waitedSince = Date.now();
          await step({ name: 'wait', state: 'running', detail: 'another sync of this repository is running' });
        },
        async (db) => {
          if (waitedSince !== undefined) {
            await step({ name: 'wait', state: 'succeeded', ms: Date.now() - waitedSince });
          }
          // holding the lock, before reading anything: from here on, an event about the repository queues the next
          // sync (which waits for this one's lock)
          if (key !== null && !(await releaseDedupeKey(db, lease))) {
            throw new JobFailure('lease_lost', 'the sync was taken over before it started', false);
          }
          return { tracks: await syncLocked(ctx, db, id) };
        },
      );
    } catch (error) {
      // a refused address stays refused until an administrator changes the allowlist: not retried by the backoff
      // (the next change to the repository syncs again)
      const failure =
        error instanceof TargetRefused ? new JobFailure('github_target_refused', error.message, false) : error;
      // a retry takes the repository's key back; with a follow-up queued, that one writes the current state instead
      throw await beforeRetryOfReleasedKey(ctx, job, lease, failure, 'the queued follow-up sync tries again');
    }
  });
}
