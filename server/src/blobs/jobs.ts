// `blobs.gc` (SERVER.md section 4): removes the blobs no `artifacts` row names once they are past the grace period,
// daily at 04:30 UTC and when an administrator asks (POST /api/v1/system/blobs/gc). Orphans come from an ingest
// whose transaction never committed after its parts were stored (a crash, a kill -9); refused bundles are discarded
// before they reach the store. The grace period (DEFAULT_GC_AGE_MS, a day) is longer than any ingest takes between
// storing its parts and committing the rows that name them, so an upload in flight is never collected.
import type { ServerContext } from '../context.js';
import { recordEvent, SYSTEM_ACTOR } from '../events/record.js';
import { type JobRunner, registerJobHandler } from '../jobs/runner.js';
import { type Schedule, scheduleKey } from '../jobs/schedules.js';
import { collectOrphanBlobs } from './collect.js';

export const BLOBS_GC = 'blobs.gc';
/** One collection at a time: a request while one is queued or running (the daily one too) gets that job. */
export const BLOBS_GC_DEDUPE_KEY = scheduleKey(BLOBS_GC);

export const BLOBS_SCHEDULES: readonly Schedule[] = [{ name: BLOBS_GC, cron: '30 4 * * *', kind: BLOBS_GC }];

/** How many removed hashes the job's result and its event list (the count is always whole). */
const LISTED = 100;

export interface BlobsGcResult {
  readonly deleted: number;
  readonly kept: number;
  readonly deletedSha256: readonly string[];
}

export function registerBlobJobs(runner: JobRunner, ctx: ServerContext): void {
  registerJobHandler(runner, BLOBS_GC, async (run): Promise<BlobsGcResult> => {
    const started = Date.now();
    await run.step({ name: 'collect', state: 'running' });
    const now = ctx.now();
    const gc = await collectOrphanBlobs(ctx.db, ctx.blobs, now);
    const result = { deleted: gc.deleted.length, kept: gc.kept, deletedSha256: gc.deleted.slice(0, LISTED) };
    // removing stored bytes is a change, so it is an event (none when nothing was removed)
    if (gc.deleted.length > 0) {
      await recordEvent(ctx.db, {
        at: now,
        type: 'blobs.collected',
        actor: SYSTEM_ACTOR,
        requestId: run.job.public_id,
        data: { ...result },
      });
    }
    await run.step({
      name: 'collect',
      state: 'succeeded',
      ms: Date.now() - started,
      detail: `${gc.deleted.length} orphan blobs removed, ${gc.kept} kept`,
    });
    return result;
  });
}
