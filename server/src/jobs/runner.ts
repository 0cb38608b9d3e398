// The embedded job runner: claims jobs of the kinds it has handlers for, runs up to `concurrency` at once, keeps
// their leases alive while they work, and records success, retry (with backoff) or failure. It runs in the server
// process (roles worker, and all on PostgreSQL) or in the embedded mode's job thread (jobs/thread.ts).
import type { Kysely } from 'kysely';
import type { ServerContext } from '../context.js';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { oneLine } from '../http/problem.js';
import {
  claimNext,
  completeJob,
  exponentialBackoff,
  extendLease,
  failJob,
  type JobLease,
  type JobRow,
  type JobStep,
  retakeDedupeKey,
  saveSteps,
} from './queue.js';

/** A failure the handler knows the cause of: `code` goes to the API; `retryable: false` ends the job at once. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = true,
  ) {
    super(message);
  }
}

export interface JobRun {
  readonly job: JobRow;
  /** The job's payload, decoded. */
  readonly payload: unknown;
  /** Aborted when the runner stops or the lease was lost: stop at the next safe point. */
  readonly signal: AbortSignal;
  /** Records a step (replacing one of the same name) so `GET /jobs/{id}` shows progress. */
  step(step: JobStep): Promise<void>;
  /**
   * Records the job's success with `result` inside the handler's own transaction, as its last write, so the work
   * and the completion are one commit (on SQLite one fsync fewer per job); false: the lease was taken over. The
   * handler then returns that same result, and must fail if that transaction does not commit. Only the table
   * runner offers it (graphile-worker completes its jobs itself): without it, the runner completes the job after.
   */
  readonly completeIn?: (trx: Kysely<Database>, result: unknown) => Promise<boolean>;
}

/** Does the work; its return value becomes the job's `result`. It may run more than once: make it idempotent. */
export type JobHandler = (run: JobRun) => Promise<unknown>;

export interface RunnerOptions {
  readonly concurrency?: number;
  readonly leaseMs?: number;
  readonly pollMs?: number;
  /** Retry delay after attempt n: default 1 s × 2^(n−1), at most 10 min. */
  readonly backoffMs?: (attempt: number) => number;
}

/**
 * The `step` a handler is given, shared by both runners: replaces or appends the named step and saves the list under
 * the job's lease; a save the lease no longer allows aborts `lost`.
 */
export function stepRecorder(
  ctx: ServerContext,
  lease: JobLease,
  steps: JobStep[],
  lost: AbortController,
): (step: JobStep) => Promise<void> {
  return async (step) => {
    const at = steps.findIndex((s) => s.name === step.name);
    if (at >= 0) steps[at] = step;
    else steps.push(step);
    if (!(await saveSteps(ctx.db, lease, steps))) lost.abort();
  };
}

/** What a handler threw, as a JobFailure (an unexpected error is logged with its stack and is retryable). */
export function asJobFailure(ctx: ServerContext, job: { public_id: string; kind: string }, error: unknown): JobFailure {
  if (error instanceof JobFailure) return error;
  ctx.log.error('job handler threw', {
    job: job.public_id,
    kind: job.kind,
    error: error instanceof Error ? error.stack : String(error),
  });
  return new JobFailure('internal_error', error instanceof Error ? error.message : String(error), true);
}

/**
 * For a job that gave its dedupe key up when it started (EnqueueInput.releasedWhenStarted), what to throw for
 * `error`: a retry takes the key back first, so it stays the key's one queued job and what is enqueued meanwhile joins
 * it; when a follow-up job holds the key already, that one does the work again after this one, so this one ends (not
 * retried beside it), its message saying so (`followUp`). Errors that end the job anyway are returned as they are.
 */
export async function beforeRetryOfReleasedKey(
  ctx: ServerContext,
  job: JobRow,
  lease: JobLease,
  error: unknown,
  followUp: string,
): Promise<unknown> {
  const key = job.dedupe_key;
  const retryable = !(error instanceof JobFailure) || error.retryable;
  if (key === null || !retryable || job.attempts >= job.max_attempts) return error;
  if (await retakeDedupeKey(ctx.db, lease, key)) return error;
  const failure = asJobFailure(ctx, job, error);
  return new JobFailure(failure.code, `${oneLine(failure.message, 300)} (${followUp})`, false);
}

export class JobRunner {
  readonly #ctx: ServerContext;
  readonly #handlers = new Map<string, JobHandler>();
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #backoffMs: (attempt: number) => number;
  readonly #active = new Set<Promise<void>>();
  #stopping: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(ctx: ServerContext, options: RunnerOptions = {}) {
    this.#ctx = ctx;
    this.#concurrency = options.concurrency ?? ctx.config.jobs.concurrency;
    this.#leaseMs = options.leaseMs ?? ctx.config.jobs.leaseMs;
    this.#pollMs = options.pollMs ?? ctx.config.jobs.pollMs;
    this.#backoffMs = options.backoffMs ?? exponentialBackoff(1_000, 600_000);
  }

  register(kind: string, handler: JobHandler): void {
    if (this.#handlers.has(kind)) throw new Error(`a handler for job kind ${kind} is already registered`);
    this.#handlers.set(kind, handler);
  }

  /** The handler for a kind (the graphile runner runs the same registrations). */
  handler(kind: string): JobHandler | undefined {
    return this.#handlers.get(kind);
  }

  get kinds(): readonly string[] {
    return [...this.#handlers.keys()];
  }

  /** Starts claiming in the background until stop(). */
  start(): void {
    if (this.#loop) return;
    this.#stopping = new AbortController();
    this.#loop = this.#run(this.#stopping.signal);
  }

  /** Stops claiming, aborts running handlers' signals and waits for them to settle. */
  async stop(): Promise<void> {
    this.#stopping?.abort();
    await this.#loop;
    await Promise.allSettled([...this.#active]);
    this.#loop = undefined;
  }

  /** Claims and runs one job to its end, if one is runnable now (tests, and `--role worker` drains). */
  async runOnce(): Promise<JobRow | undefined> {
    const job = await this.#claim();
    if (job) await this.#execute(job, new AbortController().signal);
    return job;
  }

  async #claim(): Promise<JobRow | undefined> {
    return claimNext(this.#ctx.db, this.#ctx.dialect, {
      nodeId: this.#ctx.nodeId,
      now: this.#ctx.now(),
      leaseMs: this.#leaseMs,
      kinds: this.kinds,
    });
  }

  async #run(stopping: AbortSignal): Promise<void> {
    while (!stopping.aborted) {
      if (this.#active.size >= this.#concurrency) {
        await Promise.race([
          ...this.#active,
          new Promise((r) => stopping.addEventListener('abort', r, { once: true })),
        ]);
        continue;
      }
      let job: JobRow | undefined;
      const seen = this.#ctx.jobSignals.enqueueCount;
      try {
        job = await this.#claim();
      } catch (error) {
        // the database is away (restart, failover): say so and try again after the poll interval
        this.#ctx.log.warn('job claim failed', { error: String(error) });
      }
      if (job) {
        const running = this.#execute(job, stopping).finally(() => this.#active.delete(running));
        this.#active.add(running);
        continue;
      }
      await this.#ctx.jobSignals.nextEnqueue(this.#pollMs, stopping, seen);
    }
  }

  async #execute(job: JobRow, stopping: AbortSignal): Promise<void> {
    const ctx = this.#ctx;
    const lease: JobLease = { id: job.id, attempts: job.attempts, nodeId: ctx.nodeId };
    const lost = new AbortController();
    const signal = AbortSignal.any([stopping, lost.signal]);
    const steps: JobStep[] = decodeJson<JobStep[]>(job.steps) ?? [];
    // keep the lease: renew at a third of its length, so two missed renewals still leave time
    const renew = setInterval(
      () => {
        extendLease(ctx.db, lease, ctx.now() + this.#leaseMs)
          .then((ours) => {
            if (!ours) lost.abort();
          })
          .catch((error) => ctx.log.warn('job lease renewal failed', { job: job.public_id, error: String(error) }));
      },
      Math.max(50, Math.floor(this.#leaseMs / 3)),
    );
    const handler = this.#handlers.get(job.kind);
    // set when the handler completed the job inside its own transaction (completeIn)
    let completedIn = false;
    try {
      if (!handler) throw new JobFailure('unknown_kind', `no handler for job kind ${job.kind}`, false);
      const result = await handler({
        job,
        payload: decodeJson(job.payload),
        signal,
        step: stepRecorder(ctx, lease, steps, lost),
        completeIn: async (trx, result) => {
          completedIn = await completeJob(trx, lease, ctx.now(), result);
          return completedIn;
        },
      });
      if (!completedIn && !(await completeJob(ctx.db, lease, ctx.now(), result))) {
        ctx.log.warn('job finished after its lease was taken over; result dropped', { job: job.public_id });
      }
    } catch (error) {
      const failure = asJobFailure(ctx, job, error);
      try {
        const outcome = await failJob(
          ctx.db,
          { ...lease, maxAttempts: job.max_attempts },
          ctx.now(),
          { code: failure.code, message: failure.message },
          { retryable: failure.retryable, backoffMs: this.#backoffMs },
        );
        if (outcome === 'lost') ctx.log.warn('job failed after its lease was taken over', { job: job.public_id });
      } catch (recordError) {
        // the lease runs out and another claim retries it
        ctx.log.error('could not record a job failure', { job: job.public_id, error: String(recordError) });
      }
    } finally {
      clearInterval(renew);
      ctx.jobSignals.changed(job.public_id);
    }
  }
}

/** Explicit registration (no handler registers itself on import). */
export function registerJobHandler(runner: JobRunner, kind: string, handler: JobHandler): void {
  runner.register(kind, handler);
}
