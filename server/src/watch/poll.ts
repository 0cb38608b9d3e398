// Registry watch (issue 18): the server polls a watched repository's tags with the engine's registry client — from
// allowlisted registries only, through the pull ingest's address guard — and remembers what each tag pointed at
// (`registry_tags`). A digest it has not seen is pulled once through the pull-ingest path (the evidence read from
// the registry, the same `ingest` job as POST /api/v1/ingest/pull; `registry_pulls` makes it once per repository and
// digest). Tags then follow the registry: once a digest's image is stored, each tag pointing at it in the registry
// is moved there with a `tag_history` row of source `registry-sync` and a `tag.moved` event — the event that also
// asks the repository's rebuild target whether a published image now carries a fixable HIGH/CRITICAL finding.
// Everything is recomputed from the registry's answer and the stored rows, so a poll run twice does nothing twice.
import { RegistryClient } from '@lading/engine/registry';
import { sql, type Transaction } from 'kysely';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';
import { recordEvent, SYSTEM_ACTOR } from '../events/index.js';
import { oneLine } from '../http/problem.js';
import { acceptBundle } from '../ingest/accept.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../ingest/limits.js';
import { validateMetadata } from '../ingest/metadata.js';
import { pullEvidence, pullGuard, registryRules } from '../ingest/pull.js';
import { IngestRefusal } from '../ingest/refusal.js';
import { JobFailure, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import type { Schedule } from '../jobs/schedules.js';

export const REGISTRY_WATCH = 'registry.watch';
/**
 * Every minute: each watch is polled when its own interval has passed (`next_poll_at`). A tick with no watch at all
 * and no pull waiting for its tags (a watch removed after its pull was queued) enqueues nothing: no job row a
 * minute on a server that watches nothing.
 */
export const WATCH_SCHEDULES: readonly Schedule[] = [
  {
    name: REGISTRY_WATCH,
    cron: '* * * * *',
    kind: REGISTRY_WATCH,
    onlyIfRows: [{ table: 'repository_watches' }, { table: 'registry_pulls', column: 'state', equals: 'queued' }],
  },
];

export const MIN_WATCH_INTERVAL_SECONDS = 60;
export const MAX_WATCH_INTERVAL_SECONDS = 7 * 24 * 3600;
/** Tags read per poll (sorted by name): a repository with more is watched on its first this-many tags. */
export const MAX_WATCHED_TAGS = 500;
/** A digest whose pull was refused (no evidence yet, say) is tried again at later polls, this many times at most. */
export const MAX_PULL_ATTEMPTS = 5;
/** cosign's signature/attestation/SBOM tags (`sha256-<hex>.sig` …) are evidence, not image tags. */
const COSIGN_TAG = /^sha256-[0-9a-f]{64}(\.[a-z]+)?$/;
/** A tag as the distribution spec allows it; anything else a registry lists is ignored, never stored. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** One poll's registry requests end within this (a registry that trickles answers cannot hold the job forever). */
const POLL_DEADLINE_MS = 5 * 60_000;

type Trx = Transaction<Database>;

/** `host[:port]/path` of a repository name, when it names a registry (the pull ingest's rule for a registry). */
export function registryOf(name: string): { registry: string; repository: string } | undefined {
  const m = /^([^/@]+)\/([a-z0-9._/-]+)$/.exec(name);
  const registry = m?.[1];
  if (!m || !registry || !(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    return undefined;
  }
  return { registry, repository: m[2] ?? '' };
}

export interface WatchPollOutcome {
  readonly repository: string;
  /** Set when the poll was refused or failed (also kept as the watch's last_error). */
  readonly error?: string;
  readonly tags: number;
  readonly moved: readonly { tag: string; from: string | null; to: string }[];
  readonly pulled: readonly { digest: string; job: string }[];
  readonly refused: readonly { digest: string; error: string }[];
  readonly tagsApplied: readonly { tag: string; digest: string }[];
}

export interface WatchOptions {
  readonly limits?: IngestLimits;
}

/** Polls every watch whose interval has passed (each claimed by moving its next poll forward first). */
export async function pollDueWatches(ctx: ServerContext, options: WatchOptions = {}): Promise<WatchPollOutcome[]> {
  const now = ctx.now();
  const due = await ctx.db
    .selectFrom('repository_watches')
    .select(['id', 'repository_id', 'interval_seconds', 'next_poll_at'])
    .where('next_poll_at', '<=', now)
    .orderBy('next_poll_at')
    .orderBy('id')
    .execute();
  const outcomes: WatchPollOutcome[] = [];
  for (const watch of due) {
    // compare-and-set: with several worker nodes, the one that moves next_poll_at polls
    const claimed = await ctx.db
      .updateTable('repository_watches')
      .set({ next_poll_at: now + Number(watch.interval_seconds) * 1000 })
      .where('id', '=', watch.id)
      .where('next_poll_at', '=', watch.next_poll_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue;
    outcomes.push(await pollWatch(ctx, Number(watch.repository_id), options));
  }
  // digests pulled at an earlier poll whose ingest has finished since: their tags follow without waiting a whole
  // interval for the next registry poll
  const waiting = await ctx.db
    .selectFrom('registry_pulls')
    .select('repository_id')
    .distinct()
    .where('state', '=', 'queued')
    .execute();
  const polled = new Set(due.map((w) => Number(w.repository_id)));
  for (const { repository_id } of waiting) {
    if (!polled.has(Number(repository_id))) await applyTags(ctx, Number(repository_id));
  }
  return outcomes;
}

async function recordWatchError(ctx: ServerContext, repositoryId: number, error: string | null): Promise<void> {
  await ctx.db
    .updateTable('repository_watches')
    .set({ last_polled_at: ctx.now(), last_error: error })
    .where('repository_id', '=', repositoryId)
    .execute();
}

/** One poll of one watched repository: read the registry, record moves, pull new digests, move tags. */
export async function pollWatch(
  ctx: ServerContext,
  repositoryId: number,
  options: WatchOptions = {},
): Promise<WatchPollOutcome> {
  const repo = await ctx.db
    .selectFrom('repositories')
    .select(['id', 'name'])
    .where('id', '=', repositoryId)
    .executeTakeFirstOrThrow();
  const empty = { repository: repo.name, tags: 0, moved: [], pulled: [], refused: [], tagsApplied: [] };
  const fail = async (error: string): Promise<WatchPollOutcome> => {
    await recordWatchError(ctx, repositoryId, error);
    ctx.log.warn('registry watch', { repository: repo.name, error });
    return { ...empty, error };
  };
  const ref = registryOf(repo.name);
  if (!ref) return fail(`${repo.name} does not name a registry (host[:port]/path)`);
  const rules = await registryRules(ctx.db);
  const rule = rules.find((r) => r.host === ref.registry);
  if (!rule) return fail(`registry ${ref.registry} is not on this server's pull allowlist`);

  // the registry's answer: tag → digest
  const guard = pullGuard(rules);
  const observed = new Map<string, string>();
  try {
    guard.checkUrl(new URL(`http://${ref.registry}/`));
    const client = new RegistryClient({
      insecureRegistries: rule.insecure ? [ref.registry] : [],
      // never the server's own docker credentials
      dockerConfigPath: '/nonexistent/lading-server/config.json',
      connectGuard: guard,
      maxRedirects: 3,
      timeoutMs: 30_000,
      retry: { retries: 1 },
      signal: AbortSignal.timeout(POLL_DEADLINE_MS),
    });
    const names = [...new Set(await client.listTags(ref))]
      .filter((t) => TAG.test(t) && !COSIGN_TAG.test(t))
      .sort()
      .slice(0, MAX_WATCHED_TAGS);
    for (const tag of names) {
      const head = await client.headManifest({ ...ref, tag });
      if (head) observed.set(tag, head.digest);
    }
  } catch (error) {
    const text = guard.refusal?.detail ?? (error instanceof IngestRefusal ? error.detail : undefined);
    return fail(
      text ?? `polling ${repo.name}: ${oneLine(error instanceof Error ? error.message : String(error), 300)}`,
    );
  }

  // tag moves, against what the last poll saw
  const now = ctx.now();
  const previous = new Map(
    (
      await ctx.db
        .selectFrom('registry_tags')
        .select(['tag', 'digest'])
        .where('repository_id', '=', repositoryId)
        .execute()
    ).map((r) => [r.tag, r.digest]),
  );
  const moved: { tag: string; from: string | null; to: string }[] = [];
  for (const [tag, digest] of observed) {
    if (previous.get(tag) !== digest) moved.push({ tag, from: previous.get(tag) ?? null, to: digest });
  }
  const vanished = [...previous.keys()].filter((t) => !observed.has(t));
  if (moved.length > 0 || vanished.length > 0) {
    await ctx.db.transaction().execute(async (trx) => {
      for (const m of moved) {
        await trx
          .insertInto('registry_tags')
          .values({ repository_id: repositoryId, tag: m.tag, digest: m.to, observed_at: now, created_at: now })
          .onConflict((oc) => oc.columns(['repository_id', 'tag']).doUpdateSet({ digest: m.to, observed_at: now }))
          .execute();
      }
      if (vanished.length > 0) {
        await trx
          .deleteFrom('registry_tags')
          .where('repository_id', '=', repositoryId)
          .where('tag', 'in', vanished)
          .execute();
      }
    });
  }

  // digests to pull: new to this repository (neither pulled before nor ingested some other way)
  const digests = [...new Set(observed.values())];
  const pulls = new Map(
    (
      await ctx.db
        .selectFrom('registry_pulls')
        .leftJoin('jobs', 'jobs.id', 'registry_pulls.job_id')
        .select(['registry_pulls.digest', 'registry_pulls.state', 'registry_pulls.attempts', 'jobs.state as job_state'])
        .where('registry_pulls.repository_id', '=', repositoryId)
        .where('registry_pulls.digest', 'in', digests.length > 0 ? digests : [''])
        .execute()
    ).map((p) => [p.digest, p]),
  );
  const stored = new Set(
    (
      await ctx.db
        .selectFrom('repository_images')
        .innerJoin('images', 'images.id', 'repository_images.image_id')
        .select('images.digest')
        .where('repository_images.repository_id', '=', repositoryId)
        .where('images.digest', 'in', digests.length > 0 ? digests : [''])
        .execute()
    ).map((r) => r.digest),
  );
  const pulled: { digest: string; job: string }[] = [];
  const refused: { digest: string; error: string }[] = [];
  for (const digest of digests) {
    const pull = pulls.get(digest);
    // an ingest job that failed for good (its retries spent) is pulled again, within the same attempt limit
    const jobFailed = pull?.job_state === 'failed' || pull?.job_state === 'canceled';
    if (stored.has(digest) || pull?.state === 'ingested' || (pull?.state === 'queued' && !jobFailed)) continue;
    const attempts = Number(pull?.attempts ?? 0);
    if (attempts >= MAX_PULL_ATTEMPTS) continue;
    let outcome: { state: 'queued' | 'refused'; jobId: number | null; job?: string; error: string | null };
    try {
      const metadata = validateMetadata({ repository: repo.name, digest });
      const parts = await pullEvidence(
        { metadata, registry: ref.registry, repository: ref.repository, rules },
        ctx.blobs,
        options.limits ?? DEFAULT_INGEST_LIMITS,
      );
      const answer = await acceptBundle(ctx.db, { metadata, parts, now, createdBy: 'system', source: 'pull' });
      const job = await ctx.db
        .selectFrom('jobs')
        .select('id')
        .where('public_id', '=', answer.body.job.id)
        .executeTakeFirstOrThrow();
      outcome = { state: 'queued', jobId: Number(job.id), job: answer.body.job.id, error: null };
    } catch (error) {
      if (!(error instanceof IngestRefusal)) throw error;
      outcome = { state: 'refused', jobId: null, error: error.detail };
    }
    const values = {
      state: outcome.state,
      job_id: outcome.jobId,
      attempts: attempts + 1,
      last_error: outcome.error,
      updated_at: now,
    };
    await ctx.db
      .insertInto('registry_pulls')
      .values({ repository_id: repositoryId, digest, ...values, created_at: now })
      .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet(values))
      .execute();
    if (outcome.job) pulled.push({ digest, job: outcome.job });
    else refused.push({ digest, error: outcome.error ?? '' });
  }
  if (pulled.length > 0) ctx.jobSignals.enqueued();
  await recordWatchError(
    ctx,
    repositoryId,
    refused.length > 0 ? `pull of ${refused[0]?.digest} refused: ${refused[0]?.error}` : null,
  );
  const tagsApplied = await applyTags(ctx, repositoryId);
  return { repository: repo.name, tags: observed.size, moved, pulled, refused, tagsApplied };
}

/**
 * Moves the repository's tags to where the registry last said they point, for the digests whose image is stored
 * (an image still being ingested gets its tags at a later poll): one transaction per tag, each with its
 * `tag_history` row (source `registry-sync`) and its `tag.moved` event. Pulls whose image is stored are marked
 * `ingested`.
 */
async function applyTags(ctx: ServerContext, repositoryId: number): Promise<{ tag: string; digest: string }[]> {
  const wanted = await ctx.db
    .selectFrom('registry_tags')
    .innerJoin('images', 'images.digest', 'registry_tags.digest')
    .innerJoin('repository_images', (join) =>
      join
        .onRef('repository_images.image_id', '=', 'images.id')
        .on('repository_images.repository_id', '=', repositoryId),
    )
    .leftJoin('tags', (join) =>
      join.onRef('tags.name', '=', 'registry_tags.tag').on('tags.repository_id', '=', repositoryId),
    )
    .select([
      'registry_tags.tag',
      'registry_tags.digest',
      'registry_tags.observed_at',
      'images.id as image_id',
      'tags.current_image_id',
    ])
    .distinct()
    .where('registry_tags.repository_id', '=', repositoryId)
    // a quarantined image (verification enforced and failed) never gets tags, as in the ingest
    .where('images.state', '!=', 'quarantined')
    .orderBy('registry_tags.tag')
    .execute();
  const applied: { tag: string; digest: string }[] = [];
  for (const w of wanted) {
    if (w.current_image_id !== null && Number(w.current_image_id) === Number(w.image_id)) continue;
    const moved = await ctx.db.transaction().execute(async (trx) => {
      const name = await lockRepository(ctx, trx, repositoryId);
      return moveTag(trx, {
        repositoryId,
        repository: name,
        tag: w.tag,
        imageId: Number(w.image_id),
        digest: w.digest,
        observedAt: Number(w.observed_at),
        now: ctx.now(),
      });
    });
    if (moved) applied.push({ tag: w.tag, digest: w.digest });
  }
  await ctx.db
    .updateTable('registry_pulls')
    .set({ state: 'ingested', updated_at: ctx.now() })
    .where('repository_id', '=', repositoryId)
    .where('state', '=', 'queued')
    .where('digest', 'in', (eb) =>
      eb
        .selectFrom('images')
        .innerJoin('repository_images', 'repository_images.image_id', 'images.id')
        .select('images.digest')
        .where('repository_images.repository_id', '=', repositoryId),
    )
    .execute();
  return applied;
}

/** As the ingest's reconcile does on PostgreSQL: a repository's tags are changed by one transaction at a time. */
async function lockRepository(ctx: ServerContext, trx: Trx, repositoryId: number): Promise<string> {
  const repo = await trx
    .selectFrom('repositories')
    .select('name')
    .where('id', '=', repositoryId)
    .executeTakeFirstOrThrow();
  if (ctx.dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(hashtext(${`repository:${repo.name}`}))`.execute(trx);
  }
  return repo.name;
}

async function moveTag(
  trx: Trx,
  m: {
    repositoryId: number;
    repository: string;
    tag: string;
    imageId: number;
    digest: string;
    observedAt: number;
    now: number;
  },
): Promise<boolean> {
  await trx
    .insertInto('tags')
    .values({ repository_id: m.repositoryId, name: m.tag, current_image_id: null, moved_at: 0, created_at: m.now })
    .onConflict((oc) => oc.columns(['repository_id', 'name']).doNothing())
    .execute();
  const tag = await trx
    .selectFrom('tags')
    .leftJoin('images', 'images.id', 'tags.current_image_id')
    .select(['tags.id', 'tags.current_image_id', 'tags.moved_at', 'images.digest'])
    .where('tags.repository_id', '=', m.repositoryId)
    .where('tags.name', '=', m.tag)
    .executeTakeFirstOrThrow();
  // already there, or moved by a newer observation (a CI ingest after this poll): the newer one stands
  if (tag.current_image_id !== null && Number(tag.current_image_id) === m.imageId) return false;
  if (m.observedAt < Number(tag.moved_at)) return false;
  await trx
    .updateTable('tag_history')
    .set({ to_at: m.observedAt })
    .where('tag_id', '=', tag.id)
    .where('to_at', 'is', null)
    .execute();
  await trx
    .insertInto('tag_history')
    .values({
      tag_id: tag.id,
      image_id: m.imageId,
      from_at: m.observedAt,
      to_at: null,
      source: 'registry-sync',
      created_at: m.now,
    })
    .onConflict((oc) => oc.columns(['tag_id', 'from_at']).doUpdateSet({ image_id: m.imageId, to_at: null }))
    .execute();
  await trx
    .updateTable('tags')
    .set({ current_image_id: m.imageId, moved_at: m.observedAt })
    .where('id', '=', tag.id)
    .execute();
  await recordEvent(trx, {
    at: m.now,
    type: 'tag.moved',
    actor: SYSTEM_ACTOR,
    repositoryId: m.repositoryId,
    imageId: m.imageId,
    data: { repository: m.repository, tag: m.tag, from: tag.digest ?? null, to: m.digest, source: 'registry-sync' },
  });
  return true;
}

export function registerWatchJobs(runner: JobRunner, ctx: ServerContext, options: WatchOptions = {}): void {
  registerJobHandler(runner, REGISTRY_WATCH, async () => {
    try {
      const outcomes = await pollDueWatches(ctx, options);
      return {
        polled: outcomes.length,
        pulled: outcomes.reduce((n, o) => n + o.pulled.length, 0),
        failed: outcomes.filter((o) => o.error !== undefined).length,
      };
    } catch (error) {
      // a database or blob store failure: the runner's backoff tries again
      throw new JobFailure('registry_watch_failed', oneLine(error instanceof Error ? error.message : String(error)));
    }
  });
}
