import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { riskIndex, type WeeklySummary } from '@lading/engine/summary';
import { ROUTE_MODULES } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { enqueue } from '../src/jobs/queue.js';
import { METRICS_DAILY, registerMetricsJobs, type TrendPoint } from '../src/metrics/index.js';
import { bundleBody } from './helpers/bundles.js';
import { type History, makeHistory } from './helpers/history.js';
import {
  type ApiClient,
  createApiClient,
  forEachDatabase,
  startTestServer,
  TestClock,
  type TestServer,
} from './helpers/server.js';

/**
 * Two behaviours of the trend series metrics.test.ts does not reach (issue 19):
 * - a team's `/trends` (daily and weekly) is the sum over the team's repositories, not the fleet's series;
 * - the weekly summary keeps the newest 26 daily points before the week's end, not all of them.
 *
 * The team history (T0 = Monday 2026-11-02 12:00 UTC; images as in metrics.test.ts: alpine-a has 6 HIGH + 2
 * MEDIUM findings, alpine-b 2 HIGH). Team "payments" owns repositories A and B; C has no team.
 *   day 0 (Mon):  A alpine-a, B alpine-b, C alpine-a  → team 8 HIGH, 2 MEDIUM; 10 new
 *   day 3 (Thu):  A alpine-b (resolves 6)              → team 4 HIGH; 6 resolved
 *   day 8 (Tue):  B alpine-a (opens 6)                 → team 8 HIGH, 2 MEDIUM; 6 new
 *   day 9 (Wed):  nothing changes
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2, 12);
const REPO_A = 'registry.example:5000/payments/api';
const REPO_B = 'registry.example:5000/payments/worker';
const REPO_C = 'registry.example:5000/search/api';

let history: History;
before(async () => {
  history = await makeHistory(REPO_A, [{ rootfs: 'alpine-a' }, { rootfs: 'alpine-b' }]);
});
after(() => history.dispose());

type Levels = Omit<TrendPoint, 'date' | 'riskIndex'>;

/** The points of several series summed date by date; the risk index of the summed counts (not a sum of risks). */
function sumByDate(series: readonly (readonly TrendPoint[])[]): TrendPoint[] {
  const byDate = new Map<string, Levels>();
  for (const points of series) {
    for (const p of points) {
      const seen = byDate.get(p.date) ?? {
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        unknown: 0,
        newFindings: 0,
        resolvedFindings: 0,
      };
      byDate.set(p.date, {
        critical: seen.critical + p.critical,
        high: seen.high + p.high,
        medium: seen.medium + p.medium,
        low: seen.low + p.low,
        unknown: seen.unknown + p.unknown,
        newFindings: seen.newFindings + p.newFindings,
        resolvedFindings: seen.resolvedFindings + p.resolvedFindings,
      });
    }
  }
  return [...byDate.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([date, l]) => ({ date, ...l, riskIndex: riskIndex(l) }));
}

forEachDatabase((database) => {
  describe('trends of a team', () => {
    let server: TestServer;
    let api: ApiClient;
    const clock = new TestClock(T0);

    async function waitJob(url: string): Promise<void> {
      const job = await api.get<{ state: string; error: unknown }>(`${url}?wait=60`);
      assert.equal(job.status, 200);
      assert.equal(job.body.state, 'succeeded', JSON.stringify(job.body.error));
    }
    async function ingest(repository: string, build: number): Promise<void> {
      const b = history.builds[build];
      assert.ok(b);
      const { body, headers } = await bundleBody(
        { repository, digest: b.digest, tags: ['latest'], observedAt: new Date(clock.ms).toISOString() },
        [['report', b.reportFile]],
      );
      const accepted = await api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.equal(accepted.status, 202, accepted.text);
      await waitJob(accepted.body.job.url);
    }
    async function recordDay(): Promise<void> {
      const job = await enqueue(server.ctx.db, clock.ms, { kind: METRICS_DAILY });
      server.ctx.jobSignals.enqueued();
      await waitJob(`/api/v1/jobs/${job.publicId}`);
    }
    const at = (day: number) => {
      clock.ms = T0 + day * DAY;
    };
    const trends = async (scope: string, interval: 'day' | 'week'): Promise<TrendPoint[]> => {
      const res = await api.get<{ points: TrendPoint[] }>(
        `/api/v1/trends?scope=${encodeURIComponent(scope)}&from=2026-11-01&to=2026-11-30&interval=${interval}`,
      );
      assert.equal(res.status, 200, res.text);
      return res.body.points;
    };

    before(async () => {
      server = await startTestServer({
        database,
        clock,
        routes: ROUTE_MODULES,
        jobHandlers: (runner, ctx) => {
          registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: history.dbDir });
          registerMetricsJobs(runner, ctx);
        },
      });
      const { token } = await createApiToken(server.ctx, {
        name: 'team trends test',
        scopes: ['ingest', 'read', 'admin'],
        repositoryPattern: '*',
        expiresAt: T0 + 60 * DAY,
        ownerUserId: server.admin.userId,
      });
      api = createApiClient(server.url, token, server.validator);
      at(0);
      await ingest(REPO_A, 0);
      await ingest(REPO_B, 1);
      await ingest(REPO_C, 0);
      const team = await server.ctx.db
        .insertInto('teams')
        .values({ name: 'payments', created_at: clock.ms })
        .returning('id')
        .executeTakeFirstOrThrow();
      await server.ctx.db
        .updateTable('repositories')
        .set({ team_id: team.id })
        .where('name', 'in', [REPO_A, REPO_B])
        .execute();
      await recordDay();
      at(3);
      await ingest(REPO_A, 1);
      await recordDay();
      at(8);
      await ingest(REPO_B, 0);
      await recordDay();
      at(9);
      await recordDay();
    });
    after(() => server.close());

    it("a team's daily and weekly trends are the sums over its repositories, not the fleet's", async () => {
      for (const interval of ['day', 'week'] as const) {
        const a = await trends(`repository:${REPO_A}`, interval);
        const b = await trends(`repository:${REPO_B}`, interval);
        const team = await trends('team:payments', interval);
        assert.deepEqual(team, sumByDate([a, b]), interval);
        assert.notDeepEqual(team, await trends('fleet', interval), `${interval}: the fleet also counts C`);
      }
      // the sums by hand, so an empty or constant series cannot pass
      const p = (date: string, high: number, medium: number, newFindings: number, resolvedFindings: number) => ({
        date,
        critical: 0,
        high,
        medium,
        low: 0,
        unknown: 0,
        newFindings,
        resolvedFindings,
        riskIndex: riskIndex({ critical: 0, high, medium }),
      });
      assert.deepEqual(await trends('team:payments', 'day'), [
        p('2026-11-02', 8, 2, 10, 0),
        p('2026-11-05', 2 + 2, 0, 0, 6),
        p('2026-11-10', 8, 2, 6, 0),
        p('2026-11-11', 8, 2, 0, 0),
      ]);
      // weeks by Monday: the week's last levels, the sums of its new and resolved counts
      assert.deepEqual(await trends('team:payments', 'week'), [
        p('2026-11-02', 4, 0, 10, 6),
        p('2026-11-09', 8, 2, 6, 0),
      ]);
    });
  });

  describe('weekly summary trend length', () => {
    let server: TestServer;
    let api: ApiClient;
    // Wednesday 9 Dec: the last complete week is 30 Nov – 7 Dec (ISO 2026-W49)
    const clock = new TestClock(Date.UTC(2026, 11, 9, 12));
    const FIRST_DAY = Date.UTC(2026, 9, 28);
    const POINTS = 42; // 28 Oct … 8 Dec: 40 days before the week's end, 2 after it

    before(async () => {
      server = await startTestServer({
        database,
        clock,
        routes: ROUTE_MODULES,
        jobHandlers: (runner, ctx) => registerMetricsJobs(runner, ctx),
      });
      api = createApiClient(server.url, server.admin.token, server.validator);
      // each day's HIGH count is its index, so the kept points say which days they are
      await server.ctx.db
        .insertInto('metrics_daily')
        .values(
          Array.from({ length: POINTS }, (_, i) => ({
            day: FIRST_DAY + i * DAY,
            scope: 'fleet',
            critical: 0,
            high: i,
            medium: 1,
            low: 0,
            unknown: 0,
            suppressed: 0,
            images: 1,
            packages: 10,
            new_findings: 0,
            resolved_findings: 0,
            risk_index: 0,
            threshold_fail_images: 1,
            created_at: FIRST_DAY + i * DAY,
          })),
        )
        .execute();
    });
    after(() => server.close());

    it('keeps exactly the newest 26 daily points before the week ends', async () => {
      const queued = await api.post<{ job: { url: string } }>('/api/v1/summaries/weekly', { week: '2026-W49' });
      assert.equal(queued.status, 202, queued.text);
      const job = await api.get<{ state: string; error: unknown }>(`${queued.body.job.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', JSON.stringify(job.body.error));
      const res = await api.get<WeeklySummary>('/api/v1/summaries/weekly/2026-W49?scope=fleet');
      assert.equal(res.status, 200, res.text);
      const { trend } = res.body;
      assert.equal(trend.length, 26);
      // days 14 … 39 (11 Nov … 6 Dec), oldest first; 7 and 8 Dec are after the period's end
      assert.deepEqual(
        trend.map((t) => [t.date, t.high]),
        Array.from({ length: 26 }, (_, k) => [new Date(FIRST_DAY + (14 + k) * DAY).toISOString().slice(0, 10), 14 + k]),
      );
      assert.equal(trend[trend.length - 1]?.date, '2026-12-06');
    });
  });
});
