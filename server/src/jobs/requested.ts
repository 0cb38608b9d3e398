// Jobs an administrator asks for (a vulnerability data update, a weekly summary, a blob collection, a GitHub sync)
// are changes like any other: the audit log says who asked (SERVER.md section 1, "Events"). The job and its
// `job.requested` event are written in one transaction, so neither exists without the other.
import type { Kysely, Transaction } from 'kysely';
import type { Caller } from '../auth/index.js';
import type { Database } from '../db/schema.js';
import { actorOf, recordEvent } from '../events/record.js';
import { type EnqueueInput, type EnqueueResult, enqueue } from './queue.js';

/**
 * Runs `queue` (which enqueues one job in the transaction it is given) and records `job.requested` with the caller
 * as actor and `{kind, job, created}` as data (`created` false when a live job with the same dedupe key answered).
 * Returns what `queue` returned; no event when it queued nothing (null).
 */
export async function requestJob<T extends EnqueueResult | null>(
  db: Kysely<Database>,
  now: number,
  requested: { readonly caller: Caller; readonly requestId: string; readonly repositoryId?: number },
  kind: string,
  queue: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const job = await queue(trx);
    if (job !== null) {
      await recordEvent(trx, {
        at: now,
        type: 'job.requested',
        actor: actorOf(requested.caller),
        repositoryId: requested.repositoryId ?? null,
        requestId: requested.requestId,
        data: { kind, job: job.publicId, created: job.created },
      });
    }
    return job;
  });
}

/** `requestJob` for a plain enqueue. */
export function enqueueRequested(
  db: Kysely<Database>,
  now: number,
  requested: { readonly caller: Caller; readonly requestId: string },
  input: EnqueueInput,
): Promise<EnqueueResult> {
  return requestJob(db, now, requested, input.kind, (trx) => enqueue(trx, now, input));
}
