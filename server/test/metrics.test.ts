import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WEEKLY_SUMMARY_SCHEMA, type WeeklySummary } from '@lading/engine/summary';
import AjvModule from 'ajv';
import addFormats from 'ajv-formats';
import { ROUTE_MODULES } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { insertGrant, insertTeam } from '../src/auth/store.js';
import { collectOrphanBlobs } from '../src/blobs/index.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { enqueue } from '../src/jobs/queue.js';
import { type FleetMetrics, METRICS_DAILY, registerMetricsJobs, SLA_SETTING } from '../src/metrics/index.js';
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
 * Fleet metrics, trends, fix tracing and the weekly summary over a real history: six builds of one repository over
 * 30 simulated days (an injected clock), made by the CLI and pushed through the ingest API.
 *
 * The images (findings by the server's own matcher on the e2e OSV data; 14 packages each):
 *   alpine-a (openssl 1.1.1q-r0): CVE-2022-4304 MEDIUM, CVE-2023-0215 HIGH, CVE-2023-0286 HIGH, CVE-2023-0464 HIGH,
 *     each in libcrypto1.1 and libssl1.1 → 8 exposures (2 MEDIUM, 6 HIGH), all with a fixed version known.
 *   alpine-b (openssl 1.1.1t-r0): CVE-2023-0464 HIGH in both packages (fixed only in 1.1.1t-r1) → 2 exposures.
 * The history (T0 = Monday 2026-11-02 12:00 UTC):
 *   build 1, day 0:  alpine-a, no provenance                  → opens 8 episodes
 *   build 2, day 4:  alpine-a, provenance commit C1, run 1002  → nothing changes
 *   build 3, day 10: alpine-b, provenance commit C2, run 1003  → resolves 6 (2 MEDIUM, 4 HIGH) after 10 days
 *   build 4, day 16: alpine-a, commit C1 rebuilt, run 1004     → reopens those 6 (regressions)
 *   build 5, day 20: alpine-b, provenance commit C5, run 1005  → resolves the 6 again after 4 days
 *   build 6, day 30: alpine-b, no provenance                   → nothing changes
 * Metrics at day 31 (window 90d):
 *   MTTR HIGH: [10,10,10,10,4,4,4,4] → n 8, mean 7; median (type 7, position 3.5) (4+10)/2 = 7; p90 (position 6.3) 10
 *   MTTR MEDIUM: [10,10,4,4] → n 4, mean 7, median (position 1.5) 7, p90 (position 2.7) 10
 *   open: CVE-2023-0464 × 2 HIGH, opened day 0 → ages 31, 31 (n 2, median 31, max 31)
 *   SLA defaults (HIGH 30 d): open 2, openBreaches 2 (31 > 30), resolvedLate 0, in time 8;
 *     with HIGH set to 7 d in settings: resolvedLate 4 (the 10-day ones), in time 4
 *   density: the current image (build 6) has 2 open findings and 14 packages → 2 per image, 2/14×100 = 14.29
 *   riskIndex: (2×5)/300×100 = 3.33 → 3.3; exposures: open 2, opened 8+6 = 14, resolved 6+6 = 12, reopened 6
 */

const REPOSITORY = 'registry.example:5000/acme/api';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 2, 12);
const C1 = 'a1'.repeat(20);
const C2 = 'b2'.repeat(20);
const C5 = 'c5'.repeat(20);

let history: History;
before(async () => {
  history = await makeHistory(REPOSITORY, [
    { rootfs: 'alpine-a' },
    { rootfs: 'alpine-a', provenance: { commit: C1, runId: '1002' } },
    { rootfs: 'alpine-b', provenance: { commit: C2, runId: '1003' } },
    { rootfs: 'alpine-a', provenance: { commit: C1, runId: '1004' } },
    { rootfs: 'alpine-b', provenance: { commit: C5, runId: '1005' } },
    { rootfs: 'alpine-b' },
    { rootfs: 'alpine-a' }, // build 7: pushed under enforced verification, quarantined
  ]);
});
after(() => history.dispose());

interface Fix {
  vulnerability: string;
  package: string;
  resolvedAt: string;
  resolvedIn: string;
  openedIn: string;
  packageChange: { from: string; to: string | null };
  kind: string;
  regression: boolean;
  build: { commit: string | null; runId: string | null; runUrl: string | null; previousCommit: string | null } | null;
  timeToFixDays: number;
  timeFromFixAvailableDays: number | null;
  cvePublishedAt: string | null;
  fixFirstSeenAt: string | null;
}

// the engine's weekly-summary-v3 schema is draft-07
const Ajv = AjvModule.default;

forEachDatabase((database) => {
  describe('metrics, trends, fixes and weekly summaries', () => {
    let server: TestServer;
    let api: ApiClient;
    const clock = new TestClock(T0);

    async function waitJob(url: string): Promise<{ state: string; result: unknown }> {
      const job = await api.get<{ state: string; result: unknown; error: unknown }>(`${url}?wait=60`);
      assert.equal(job.status, 200);
      assert.equal(job.body.state, 'succeeded', JSON.stringify(job.body.error));
      return job.body;
    }
    async function ingestBuild(index: number, expect: 'succeeded' | 'failed' = 'succeeded'): Promise<void> {
      const build = history.builds[index - 1];
      assert.ok(build);
      const parts: [string, string][] = [['report', build.reportFile]];
      if (build.attestationFile) parts.push(['attestation', build.attestationFile]);
      const { body, headers } = await bundleBody(
        {
          repository: REPOSITORY,
          digest: build.digest,
          tags: ['latest'],
          observedAt: new Date(clock.ms).toISOString(),
        },
        parts,
      );
      const accepted = await api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.equal(accepted.status, 202, accepted.text);
      if (expect === 'succeeded') await waitJob(accepted.body.job.url);
      else {
        const job = await api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
        assert.equal(job.body.state, expect);
      }
    }
    async function recordDay(): Promise<void> {
      const job = await enqueue(server.ctx.db, clock.ms, { kind: METRICS_DAILY });
      server.ctx.jobSignals.enqueued();
      await waitJob(`/api/v1/jobs/${job.publicId}`);
    }
    const at = (day: number) => {
      clock.ms = T0 + day * DAY;
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
      // the harness's admin token lives 30 days; the history spans 32
      const { token } = await createApiToken(server.ctx, {
        name: 'metrics test',
        scopes: ['ingest', 'read', 'triage', 'admin'],
        repositoryPattern: '*',
        expiresAt: T0 + 80 * DAY,
        ownerUserId: server.admin.userId,
      });
      api = createApiClient(server.url, token, server.validator);
      await server.ctx.db
        .insertInto('trusted_keys')
        .values({
          public_id: 'key_ci',
          repository_pattern: '*',
          algorithm: 'ecdsa-p256',
          public_key_pem: history.publicKeyPem,
          fingerprint: createHash('sha256').update(history.publicKeyPem).digest('hex'),
          keyless_issuer: null,
          keyless_identity: null,
          revoked_at: null,
          created_at: clock.ms,
        })
        .execute();
      // the history, with a daily point recorded on the days marked
      for (const [index, day, record] of [
        [1, 0, true],
        [2, 4, false],
        [3, 10, true],
        [4, 16, true],
        [5, 20, true],
        [6, 30, true],
      ] as const) {
        at(day);
        await ingestBuild(index);
        if (record) await recordDay();
      }
      await recordDay(); // a second run of day 30 replaces its own row
      at(31);
    });
    after(() => server.close());

    it('records the exposure history as episodes, the rebuild of the old version as regressions', async () => {
      const episodes = await server.ctx.db.selectFrom('exposure_episodes').selectAll().orderBy('id').execute();
      assert.equal(episodes.length, 14);
      assert.equal(episodes.filter((e) => e.regression === 1).length, 6);
      assert.equal(episodes.filter((e) => e.resolved_at === null).length, 2);
      const reopened = await server.ctx.db
        .selectFrom('exposures')
        .select(['reopened_count'])
        .where('reopened_count', '>', 0)
        .execute();
      assert.equal(reopened.length, 6);
      assert.ok(reopened.every((r) => r.reopened_count === 1));
    });

    it('GET /metrics: MTTR, open ages, SLA, density, risk and exposures equal the hand-computed values', async () => {
      const res = await api.get<FleetMetrics>('/api/v1/metrics?scope=fleet&window=90d');
      assert.equal(res.status, 200, res.text);
      const m = res.body;
      assert.deepEqual(m.mttrDays.high, { n: 8, meanDays: 7, medianDays: 7, p90Days: 10 });
      assert.deepEqual(m.mttrDays.medium, { n: 4, meanDays: 7, medianDays: 7, p90Days: 10 });
      assert.deepEqual(m.mttrDays.critical, { n: 0, meanDays: null, medianDays: null, p90Days: null });
      assert.deepEqual(m.openAgesDays.high, { n: 2, medianDays: 31, maxDays: 31 });
      assert.deepEqual(m.openAgesDays.medium, { n: 0, medianDays: null, maxDays: null });
      assert.deepEqual(m.sla.high, { targetDays: 30, open: 2, openBreaches: 2, resolvedLate: 0, resolvedInTime: 8 });
      assert.deepEqual(m.sla.critical, { targetDays: 7, open: 0, openBreaches: 0, resolvedLate: 0, resolvedInTime: 0 });
      assert.deepEqual(m.density, { openFindings: 2, packages: 14, perImage: 2, per100Packages: 14.29 });
      assert.deepEqual(m.riskIndex, { summary: 3.3, meanPerImage: 3.3, max: 3.3 });
      assert.deepEqual(m.exposures, { open: 2, opened: 14, resolved: 12, reopened: 6 });
      assert.equal(m.images, 1);

      // the same numbers for the repository's scope; a 15-day window only sees build 5's resolutions
      const repo = await api.get<FleetMetrics>(
        `/api/v1/metrics?scope=repository:${encodeURIComponent(REPOSITORY)}&window=15d`,
      );
      assert.equal(repo.status, 200, repo.text);
      assert.deepEqual(repo.body.mttrDays.high, { n: 4, meanDays: 4, medianDays: 4, p90Days: 4 });
      assert.deepEqual(repo.body.exposures, { open: 2, opened: 6, resolved: 6, reopened: 6 });

      // SLA targets are settings: HIGH at 7 days makes the 10-day fixes late
      await server.ctx.db
        .insertInto('settings')
        .values({ key: SLA_SETTING, value: JSON.stringify({ high: 7 }), updated_at: clock.ms, created_at: clock.ms })
        .execute();
      const strict = await api.get<FleetMetrics>('/api/v1/metrics');
      assert.deepEqual(strict.body.sla.high, {
        targetDays: 7,
        open: 2,
        openBreaches: 2,
        resolvedLate: 4,
        resolvedInTime: 4,
      });
      await server.ctx.db.deleteFrom('settings').where('key', '=', SLA_SETTING).execute();
    });

    it('GET /metrics refuses a bad scope or window and hides unknown scopes', async () => {
      assert.equal((await api.get('/api/v1/metrics?scope=galaxy')).status, 400);
      assert.equal((await api.get('/api/v1/metrics?window=forever')).status, 400);
      assert.equal((await api.get('/api/v1/metrics?scope=repository:nope')).status, 404);
    });

    it('GET /trends: the daily points as recorded, and per ISO week', async () => {
      const daily = await api.get<{ points: Record<string, unknown>[] }>(
        '/api/v1/trends?scope=fleet&from=2026-11-01&to=2026-12-03&interval=day',
      );
      assert.equal(daily.status, 200, daily.text);
      // risk: 6 HIGH + 2 MEDIUM → (30+4)/300×100 = 11.3; 2 HIGH → 3.3
      const p = (
        date: string,
        high: number,
        medium: number,
        newFindings: number,
        resolvedFindings: number,
        riskIndex: number,
      ) => ({
        date,
        critical: 0,
        high,
        medium,
        low: 0,
        unknown: 0,
        newFindings,
        resolvedFindings,
        riskIndex,
      });
      assert.deepEqual(daily.body.points, [
        p('2026-11-02', 6, 2, 8, 0, 11.3),
        p('2026-11-12', 2, 0, 0, 6, 3.3),
        p('2026-11-18', 6, 2, 6, 0, 11.3),
        p('2026-11-22', 2, 0, 0, 6, 3.3),
        p('2026-12-02', 2, 0, 0, 0, 3.3),
      ]);
      const weekly = await api.get<{ points: Record<string, unknown>[] }>(
        '/api/v1/trends?scope=fleet&from=2026-11-01&to=2026-12-03&interval=week',
      );
      // weeks by Monday; the week of 16 Nov holds days 18 and 22: the last levels, the sums of the counts
      assert.deepEqual(weekly.body.points, [
        p('2026-11-02', 6, 2, 8, 0, 11.3),
        p('2026-11-09', 2, 0, 0, 6, 3.3),
        p('2026-11-16', 2, 0, 6, 6, 3.3),
        p('2026-11-30', 2, 0, 0, 0, 3.3),
      ]);
      const repo = await api.get<{ points: unknown[] }>(
        `/api/v1/trends?scope=repository:${encodeURIComponent(REPOSITORY)}&from=2026-11-01&to=2026-12-03`,
      );
      assert.deepEqual(repo.body.points, daily.body.points);
      assert.equal((await api.get('/api/v1/trends?interval=month')).status, 400);
      assert.equal((await api.get('/api/v1/trends?from=yesterday')).status, 400);
    });

    it('/gates/evaluate and /trends agree: the delta between two builds is the difference of their trend points', async () => {
      // build 4 (day 16: 6 HIGH, 2 MEDIUM) → build 6 (day 30: 2 HIGH): the trend says high −4, medium −2
      const gate = await api.post<{ deltaBySeverity: Record<string, number>; direction: string }>(
        '/api/v1/gates/evaluate',
        { digest: history.builds[5]?.digest, baseline: history.builds[3]?.digest },
      );
      assert.equal(gate.status, 200, gate.text);
      const trend = await api.get<{ points: { date: string; critical: number; high: number; medium: number }[] }>(
        '/api/v1/trends?from=2026-11-18&to=2026-12-02',
      );
      const first = trend.body.points[0];
      const last = trend.body.points[trend.body.points.length - 1];
      assert.ok(first && last);
      assert.deepEqual([first.date, last.date], ['2026-11-18', '2026-12-02']);
      assert.equal(gate.body.deltaBySeverity.critical, last.critical - first.critical);
      assert.equal(gate.body.deltaBySeverity.high, last.high - first.high);
      assert.equal(gate.body.deltaBySeverity.medium, last.medium - first.medium);
      assert.deepEqual([gate.body.deltaBySeverity.high, gate.body.deltaBySeverity.medium], [-4, -2]);
      assert.equal(gate.body.direction, 'better');
    });

    it('GET /fixes: the CVE resolved in build 3 with its commit, package change and run; the regression fixed again', async () => {
      const res = await api.get<{ items: Fix[] }>(
        `/api/v1/fixes?repository=${encodeURIComponent(REPOSITORY)}&vulnerability=CVE-2023-0286`,
      );
      assert.equal(res.status, 200, res.text);
      const crypto = res.body.items.filter((f) => f.package === 'libcrypto1.1');
      assert.equal(crypto.length, 2);
      const [second, first] = crypto; // newest first
      assert.ok(first && second);
      assert.equal(first.resolvedIn, history.builds[2]?.digest);
      assert.equal(first.openedIn, history.builds[0]?.digest);
      assert.deepEqual(first.packageChange, { from: '1.1.1q-r0', to: '1.1.1t-r0' });
      assert.equal(first.build?.commit, C2);
      assert.equal(first.build?.previousCommit, C1);
      assert.equal(first.build?.runId, '1003');
      assert.match(first.build?.runUrl ?? '', /\/actions\/runs\/1003/);
      assert.equal(first.timeToFixDays, 10);
      // the data named the fixed version from the first ingest on: available for the whole 10 days
      assert.equal(first.timeFromFixAvailableDays, 10);
      assert.equal(first.fixFirstSeenAt, new Date(T0).toISOString());
      assert.match(first.cvePublishedAt ?? '', /^2023-02-08T20:15:23/);
      assert.equal(first.regression, false);
      // the OS package sat in the first layer, which changed, and the OS release did not: a base rebuild
      assert.equal(first.kind, 'base-rebuild');
      assert.equal(second.resolvedIn, history.builds[4]?.digest);
      assert.equal(second.regression, true);
      assert.equal(second.build?.commit, C5);
      assert.equal(second.build?.previousCommit, C1);
      assert.equal(second.timeToFixDays, 4);

      // a window on the resolution time, and the page envelope
      const early = await api.get<{ items: Fix[]; total: { count: number } }>(
        `/api/v1/fixes?from=2026-11-01&to=2026-11-15`,
      );
      assert.equal(early.body.items.length, 6);
      assert.ok(early.body.items.every((f) => f.build?.commit === C2));
      const paged = await api.get<{ items: Fix[]; next_page_token: string | null }>('/api/v1/fixes?limit=5');
      assert.equal(paged.body.items.length, 5);
      assert.ok(paged.body.next_page_token);
      const rest = await api.get<{ items: Fix[]; next_page_token: string | null }>(
        `/api/v1/fixes?limit=200&page_token=${encodeURIComponent(paged.body.next_page_token ?? '')}`,
      );
      assert.equal(rest.body.items.length, 7);
      assert.equal(rest.body.next_page_token, null);
      assert.equal((await api.get('/api/v1/fixes?repository=nope')).status, 404);
      assert.equal((await api.get('/api/v1/fixes?vulnerability=CVE-1999-0001')).status, 200);
    });

    it('GET /fixes.jsonl: the fixes corpus as JSON lines, oldest first, the same as ?format=jsonl', async () => {
      const res = await api.get<string>('/api/v1/fixes.jsonl');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      const lines = res.text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Fix);
      assert.equal(lines.length, 12);
      assert.deepEqual(
        lines.map((l) => l.build?.commit),
        [...Array(6).fill(C2), ...Array(6).fill(C5)],
      );
      const same = await api.get<string>('/api/v1/fixes?format=jsonl');
      assert.equal(same.text, res.text);
    });

    it('weekly summaries: made on demand, v3-valid, stored once per scope and week, served as the same bytes', async () => {
      // the vulnerability data generation in force is named among the sources
      const generation = await server.ctx.db
        .insertInto('db_generations')
        .values({
          finished_at: T0 - DAY,
          matcher_version: 'test',
          changed_count: 0,
          snapshot_key: null,
          state: 'done',
          created_at: T0 - DAY,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const queued = await api.post<{ job: { url: string } }>('/api/v1/summaries/weekly', {});
      assert.equal(queued.status, 202, queued.text);
      await waitJob(queued.body.job.url);
      // at day 31 (Thursday 3 Dec) the last complete week is 23–30 Nov, ISO week 48
      const latest = await api.get<WeeklySummary>('/api/v1/summaries/weekly/latest?scope=fleet');
      assert.equal(latest.status, 200, latest.text);
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats.default(ajv);
      const validate = ajv.compile(WEEKLY_SUMMARY_SCHEMA as object);
      assert.ok(validate(latest.body), JSON.stringify(validate.errors));
      const doc = latest.body;
      assert.deepEqual(doc.period, { start: '2026-11-23T00:00:00Z', end: '2026-11-30T00:00:00Z' });
      assert.deepEqual(doc.images, [{ name: REPOSITORY, critical: 0, high: 2, medium: 0, low: 0, unknown: 0 }]);
      assert.equal(doc.riskIndex, 3.3);
      assert.equal(doc.direction, 'stable');
      assert.deepEqual(doc.sources, [
        `${REPOSITORY}@${history.builds[5]?.digest}`,
        `vulndb:gen-${generation.id}@2026-11-01T12:00:00Z`,
      ]);
      // the trend: the daily points recorded before the period's end
      assert.deepEqual(
        doc.trend.map((t) => t.date),
        ['2026-11-02', '2026-11-12', '2026-11-18', '2026-11-22'],
      );
      const byWeek = await api.get('/api/v1/summaries/weekly/2026-W48?scope=fleet');
      assert.equal(byWeek.text, latest.text);
      assert.equal(latest.headers.get('etag'), `"${createHash('sha256').update(latest.text).digest('hex')}"`);
      // published to the blob store: the served bytes under their digest (the row's sha256), named by an artifact so
      // that orphan collection keeps them
      const sha256 = createHash('sha256').update(latest.text).digest('hex');
      const row = await server.ctx.db
        .selectFrom('summaries')
        .select('sha256')
        .where('scope', '=', 'fleet')
        .executeTakeFirstOrThrow();
      assert.equal(row.sha256, sha256);
      const blobs = blobStoreOf(server.ctx);
      const published = async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of await blobs.open(sha256)) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      };
      assert.equal(await published(), latest.text);
      const artifact = await server.ctx.db
        .selectFrom('artifacts')
        .select(['kind', 'size'])
        .where('sha256', '=', sha256)
        .executeTakeFirstOrThrow();
      assert.deepEqual([artifact.kind, Number(artifact.size)], ['summary-weekly', Buffer.byteLength(latest.text)]);
      await collectOrphanBlobs(server.ctx.db, blobs, Date.now() + DAY, 0);
      assert.ok(await blobs.has(sha256), 'orphan collection keeps a published summary');
      // a summary whose blob went missing is published again when its week is asked for
      await blobs.delete(sha256);
      const republish = await api.post<{ job: { url: string } }>('/api/v1/summaries/weekly', { week: '2026-W48' });
      await waitJob(republish.body.job.url);
      assert.equal(await published(), latest.text);
      // asked again later: the stored week is not rewritten
      clock.ms += DAY;
      const again = await api.post<{ job: { url: string } }>('/api/v1/summaries/weekly', { week: '2026-W48' });
      await waitJob(again.body.job.url);
      assert.equal((await api.get('/api/v1/summaries/weekly/2026-W48?scope=fleet')).text, latest.text);
      const list = await api.get<{ items: { week: string }[] }>(
        `/api/v1/summaries/weekly?scope=repository:${encodeURIComponent(REPOSITORY)}`,
      );
      assert.deepEqual(
        list.body.items.map((i) => i.week),
        ['2026-W48'],
      );
      assert.equal((await api.get('/api/v1/summaries/weekly/2026-W60?scope=fleet')).status, 400);
      assert.equal((await api.get('/api/v1/summaries/weekly/2026-W40?scope=fleet')).status, 404);
      assert.equal((await api.post('/api/v1/summaries/weekly', { week: '2027-W01' })).status, 400);
    });

    it("team and caller scopes: a team's metrics are its repositories'; a reader of other repositories sees none of them", async () => {
      const team = await server.ctx.db
        .insertInto('teams')
        .values({ name: 'payments', created_at: clock.ms })
        .returning('id')
        .executeTakeFirstOrThrow();
      await server.ctx.db
        .updateTable('repositories')
        .set({ team_id: team.id })
        .where('name', '=', REPOSITORY)
        .execute();
      const byTeam = await api.get<FleetMetrics>('/api/v1/metrics?scope=team:payments');
      assert.equal(byTeam.status, 200, byTeam.text);
      assert.deepEqual(byTeam.body.mttrDays.high, { n: 8, meanDays: 7, medianDays: 7, p90Days: 10 });
      assert.equal((await api.get(`/api/v1/metrics?scope=team:${team.id}`)).status, 200);
      assert.equal((await api.get('/api/v1/metrics?scope=team:nobody')).status, 404);

      // a team-owned read token of another team, whose grant covers other repositories only
      const others = await insertTeam(server.ctx.db, 'others', clock.ms);
      await insertGrant(server.ctx.db, others.id, 'registry.example:5000/other/*', clock.ms);
      const { token } = await createApiToken(server.ctx, {
        name: 'other reader',
        scopes: ['read'],
        repositoryPattern: '*',
        expiresAt: clock.ms + 30 * DAY,
        ownerTeamId: others.id,
      });
      const fleet = await api.get<FleetMetrics>('/api/v1/metrics', { token });
      assert.equal(fleet.status, 200, fleet.text);
      assert.equal(fleet.body.repositories, 0);
      assert.deepEqual(fleet.body.exposures, { open: 0, opened: 0, resolved: 0, reopened: 0 });
      const repoScope = `scope=repository:${encodeURIComponent(REPOSITORY)}`;
      assert.equal((await api.get(`/api/v1/metrics?${repoScope}`, { token })).status, 404);
      assert.equal((await api.get(`/api/v1/trends?${repoScope}`, { token })).status, 404);
      assert.equal((await api.get('/api/v1/trends?scope=fleet', { token })).status, 404);
      assert.equal((await api.get(`/api/v1/summaries/weekly/latest?${repoScope}`, { token })).status, 404);
      assert.equal(
        (await api.get(`/api/v1/fixes?repository=${encodeURIComponent(REPOSITORY)}`, { token })).status,
        404,
      );
      const none = await api.get<{ items: unknown[] }>('/api/v1/fixes', { token });
      assert.deepEqual(none.body.items, []);
      assert.equal((await api.post('/api/v1/summaries/weekly', {}, { token })).status, 403);
    });

    it('a quarantined image is never counted: metrics, trends and fixes stay as they were', async () => {
      await server.ctx.db
        .updateTable('repositories')
        .set({ settings: JSON.stringify({ verification: { mode: 'enforce' } }) })
        .where('name', '=', REPOSITORY)
        .execute();
      const before = await api.get<FleetMetrics>('/api/v1/metrics');
      await ingestBuild(7, 'failed');
      const state = await server.ctx.db
        .selectFrom('images')
        .select('state')
        .where('digest', '=', history.builds[6]?.digest ?? '')
        .executeTakeFirstOrThrow();
      assert.equal(state.state, 'quarantined');
      const afterwards = await api.get<FleetMetrics>('/api/v1/metrics');
      assert.deepEqual(afterwards.body, before.body);
      await recordDay();
      const today = await api.get<{ points: { high: number; medium: number; newFindings: number }[] }>(
        `/api/v1/trends?from=${new Date(clock.ms).toISOString().slice(0, 10)}`,
      );
      assert.deepEqual(
        today.body.points.map((p) => [p.high, p.medium, p.newFindings]),
        [[2, 0, 0]],
      );
      assert.equal((await api.get<string>('/api/v1/fixes.jsonl')).text.trimEnd().split('\n').length, 12);

      // the next week's summary (made Tuesday 8 Dec) counts build 6, not the quarantined build 7 (6 HIGH, 2 MEDIUM),
      // and its delta is against the stored week 48: no change
      clock.ms = Date.UTC(2026, 11, 8, 9);
      const queued = await api.post<{ job: { url: string } }>('/api/v1/summaries/weekly', {});
      await waitJob(queued.body.job.url);
      const w49 = await api.get<WeeklySummary>('/api/v1/summaries/weekly/latest?scope=fleet');
      assert.deepEqual(w49.body.period, { start: '2026-11-30T00:00:00Z', end: '2026-12-07T00:00:00Z' });
      assert.deepEqual(w49.body.images, [{ name: REPOSITORY, critical: 0, high: 2, medium: 0, low: 0, unknown: 0 }]);
      assert.deepEqual(w49.body.delta, { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 });
      assert.equal(w49.body.direction, 'stable');
      const listed = await api.get<{ items: { week: string }[] }>('/api/v1/summaries/weekly?scope=fleet');
      assert.deepEqual(
        listed.body.items.map((i) => i.week),
        ['2026-W49', '2026-W48'],
      );
    });
  });
});
