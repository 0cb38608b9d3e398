// The metrics job kinds: `metrics.daily` (the day's trend points) and `summary.weekly` (the last complete week's
// v3 summary of every scope, or of one scope and week when asked on demand). Both are idempotent.
import type { ServerContext } from '../context.js';
import { JobFailure, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import type { Schedule } from '../jobs/schedules.js';
import { recordDailyMetrics } from './daily.js';
import { allScopes } from './scope.js';
import { lastCompleteWeek, storeWeeklySummary } from './weekly.js';

export const METRICS_DAILY = 'metrics.daily';
export const SUMMARY_WEEKLY = 'summary.weekly';

/** Late in each UTC day (the day's last levels), and Monday 06:00 UTC for the week before. */
export const METRICS_SCHEDULES: readonly Schedule[] = [
  { name: METRICS_DAILY, cron: '55 23 * * *', kind: METRICS_DAILY },
  { name: SUMMARY_WEEKLY, cron: '0 6 * * 1', kind: SUMMARY_WEEKLY },
];

export interface WeeklyPayload {
  /** A stored scope key (`fleet`, `team:<id>`, `repo:<id>`); every scope when absent. */
  scope?: string;
  /** The week's Monday (epoch ms); the last complete week when absent. */
  periodStart?: number;
}

export function registerMetricsJobs(runner: JobRunner, ctx: ServerContext): void {
  registerJobHandler(runner, METRICS_DAILY, async () => ({ scopes: await recordDailyMetrics(ctx.db, ctx.now()) }));
  registerJobHandler(runner, SUMMARY_WEEKLY, async ({ payload }) => {
    const p = (payload ?? {}) as WeeklyPayload;
    const now = ctx.now();
    const periodStart = p.periodStart ?? lastCompleteWeek(now);
    const scopes = (await allScopes(ctx.db)).filter((s) => p.scope === undefined || s.key === p.scope);
    if (p.scope !== undefined && scopes.length === 0)
      throw new JobFailure('unknown_scope', `no scope ${p.scope}`, false);
    const written = [];
    for (const scope of scopes) {
      const s = await storeWeeklySummary(ctx.db, ctx.blobs, scope, periodStart, now);
      written.push({ scope: s.scope, week: s.week, sha256: s.sha256 });
    }
    return { summaries: written };
  });
}
