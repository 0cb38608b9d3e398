// Re-analysis end to end on both engines: two real CLI bundles ingested by the ingest job into two repositories, then
// an advisory imported into the server's store (a new data generation) re-matches the images holding its package:
// the finding appears in both images (detected_by reanalysis), one finding.new per repository and only for the
// published image, counters move; a withdrawal retracts it, and its return reopens it.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { TARGET_PURPOSE } from '../src/notify/deliver.js';
import { integrationKey, seal } from '../src/notify/secret-box.js';
import { registerReanalysisJobs } from '../src/reanalysis/index.js';
import { registerVulndataJobs } from '../src/vulndata/index.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const R1 = 'registry.example:5000/acme/api';
const R2 = 'registry.example:5000/acme/worker';
const CVE = 'ALPINE-CVE-2099-0001';
/** The matcher may name the finding by the advisory or by its upstream CVE. */
const FINDING_IDS = [CVE, 'CVE-2099-0001'];

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('re-analysis after a data update', () => {
    let server: TestServer;
    let dbDir = '';
    let work = '';
    let pkg = '';
    let perImage = 0;
    let found = 0;
    const modified = ['2026-11-20T00:00:00Z'];

    const importRecord = async (withdrawn: boolean) => {
      const stamp = new Date(Date.parse(modified.at(-1) ?? '') + 3_600_000).toISOString().replace('.000', '');
      modified.push(stamp);
      const record = {
        id: CVE,
        modified: stamp,
        published: '2026-11-19T00:00:00Z',
        ...(withdrawn ? { withdrawn: stamp } : {}),
        upstream: ['CVE-2099-0001'],
        details: 'a test advisory',
        affected: [
          {
            package: { ecosystem: 'Alpine:v3.16', name: pkg },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
          },
        ],
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      };
      const res = await server.api.request<{ url: string }>('POST', '/api/v1/system/vulndb/import', {
        body: JSON.stringify(record),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 202, res.text);
      const job = await server.api.get<{ state: string; result: { generation: number } }>(`${res.body.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', job.text);
      const generation = job.body.result.generation;
      // the re-analysis job the generation queued
      const queued = await server.ctx.db
        .selectFrom('jobs')
        .select(['public_id'])
        .where('kind', '=', 'reanalyze')
        .where('dedupe_key', '=', `reanalyze:${generation}`)
        .executeTakeFirstOrThrow();
      const done = await server.api.get<{ state: string; steps: { name: string; state: string }[]; result: unknown }>(
        `/api/v1/jobs/${queued.public_id}?wait=60`,
      );
      assert.equal(done.body.state, 'succeeded', done.text);
      assert.deepEqual(
        done.body.steps.map((s) => `${s.name}:${s.state}`),
        ['plan:succeeded', 'batches:succeeded', 'kev:succeeded', 'finalize:succeeded'],
      );
      return done.body.result as {
        images: number;
        newFindings: number;
        retracted: number;
        reopened: number;
        alerts: number;
        packagesMatched: number;
      };
    };

    /** The advisory imported again after the last generation was made by an older matcher: everything re-matched. */
    const rematch = async () => {
      const last = await server.ctx.db
        .selectFrom('db_generations')
        .select('id')
        .where('state', '=', 'done')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      await server.ctx.db
        .updateTable('db_generations')
        .set({ matcher_version: '0.0.0-old' })
        .where('id', '=', last.id)
        .execute();
      return importRecord(false);
    };

    const findingsOf = async () =>
      server.ctx.db
        .selectFrom('findings as f')
        .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
        .innerJoin('images as i', 'i.id', 'f.image_id')
        .select(['i.digest', 'f.status', 'f.detected_by', 'f.resolution', 'f.reopened_count'])
        .where('v.vuln_id', 'in', FINDING_IDS)
        .orderBy('i.digest')
        .execute();
    const alerts = async () =>
      server.ctx.db
        .selectFrom('events as e')
        .innerJoin('repositories as r', 'r.id', 'e.repository_id')
        .innerJoin('images as i', 'i.id', 'e.image_id')
        .innerJoin('vulnerabilities as v', 'v.id', 'e.vulnerability_id')
        .select(['r.name', 'i.digest'])
        .where('e.type', '=', 'finding.new')
        .where('v.vuln_id', 'in', FINDING_IDS)
        .orderBy('e.id')
        .execute();
    const criticalOf = async (digest: string) =>
      Number(
        (
          await server.ctx.db
            .selectFrom('images')
            .select('critical')
            .where('digest', '=', digest)
            .executeTakeFirstOrThrow()
        ).critical,
      );

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'lading-reanalysis-'));
      dbDir = join(work, 'db');
      await cp(bundles.dbDir, dbDir, { recursive: true });
      server = await startTestServer({
        database,
        routes: [...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes), ingestRoutes()],
        jobHandlers: (runner, ctx) => {
          registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: dbDir });
          registerVulndataJobs(runner, ctx, { dbDir });
          registerReanalysisJobs(runner, ctx, { dbDir });
        },
      });
      // R1: a, then b takes the tag (a stays, unpublished); R2: a, published
      for (const [repository, bundle, observedAt] of [
        [R1, bundles.a, '2026-11-01T10:00:00Z'],
        [R1, bundles.b, '2026-11-08T10:00:00Z'],
        [R2, bundles.a, '2026-11-09T10:00:00Z'],
      ] as const) {
        const { body, headers } = await bundleBody(
          { repository, digest: bundle.digest, tags: ['latest'], observedAt },
          [
            ['sbom', bundle.sbomFile],
            ['report', bundle.reportFile],
          ],
        );
        const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', {
          body,
          headers,
        });
        assert.equal(accepted.status, 202, accepted.text);
        const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
        assert.equal(job.body.state, 'succeeded', job.text);
      }
      // a package both images hold, named by the advisory the test adds
      const names = async (digest: string) =>
        new Set(
          (
            await server.ctx.db
              .selectFrom('package_occurrences as o')
              .innerJoin('packages as p', 'p.id', 'o.package_id')
              .innerJoin('images as i', 'i.id', 'o.image_id')
              .select('p.match_name')
              .where('i.digest', '=', digest)
              .where('p.type', '=', 'apk')
              .execute()
          ).map((r) => r.match_name ?? ''),
        );
      const inB = await names(bundles.b.digest);
      pkg = [...(await names(bundles.a.digest))].filter((n) => n && inB.has(n)).sort()[0] ?? '';
      assert.ok(pkg, 'the two images share an apk package');
    });
    after(async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    });

    it('a new advisory appears in every retained image holding the package; one alert per repository, published images only', async () => {
      const criticalA = await criticalOf(bundles.a.digest);
      // a rule for every new finding: each alert queues its outbox row in the same transaction
      const rule = await server.ctx.db
        .insertInto('notification_rules')
        .values({
          name: 'every new finding',
          channel: 'webhook',
          target_enc: seal(integrationKey(server.ctx.secrets.key), TARGET_PURPOSE, 'https://hooks.example/lading'),
          secret_enc: null,
          filter: JSON.stringify({ eventTypes: ['finding.new'] }),
          enabled: 1,
          created_by: null,
          updated_at: server.ctx.now(),
          created_at: server.ctx.now(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const result = await importRecord(false);
      assert.equal(result.images, 2);
      // each distinct package is matched once per job, however many images hold it (both are Alpine:v3.16)
      const held = await server.ctx.db
        .selectFrom('package_occurrences as o')
        .innerJoin('packages as p', 'p.id', 'o.package_id')
        .select('p.purl')
        .distinct()
        .where('p.match_name', '=', pkg)
        .execute();
      assert.equal(result.packagesMatched, held.length);
      // one finding per package the advisory names (several binary packages can share one origin)
      const rows = await findingsOf();
      assert.equal(result.newFindings, rows.length);
      assert.deepEqual([...new Set(rows.map((f) => f.digest))].sort(), [bundles.a.digest, bundles.b.digest].sort());
      assert.ok(rows.every((f) => f.status === 'open' && f.detected_by === 'reanalysis'));
      perImage = rows.filter((f) => f.digest === bundles.a.digest).length;
      found = rows.length;
      assert.equal(await criticalOf(bundles.a.digest), criticalA + perImage);
      // R1 through b (its current image; a is no longer published there), R2 through a
      const sent = (await alerts()).map((e) => `${e.name} ${e.digest}`).sort();
      assert.deepEqual(sent, [`${R1} ${bundles.b.digest}`, `${R2} ${bundles.a.digest}`].sort());
      assert.equal(result.alerts, 2);
      const outbox = await server.ctx.db
        .selectFrom('notifications as n')
        .innerJoin('events as e', 'e.id', 'n.event_id')
        .select(['e.type', 'e.request_id'])
        .where('n.rule_id', '=', rule.id)
        .execute();
      assert.equal(outbox.length, 2);
      assert.ok(outbox.every((n) => n.type === 'finding.new' && n.request_id?.startsWith('reanalyze:')));
      await server.ctx.db.updateTable('notification_rules').set({ enabled: 0 }).where('id', '=', rule.id).execute();
      // the tracks where the image is current are exposed, each with its open episode
      const exposures = await server.ctx.db
        .selectFrom('exposures as x')
        .innerJoin('repositories as r', 'r.id', 'x.repository_id')
        .innerJoin('vulnerabilities as v', 'v.id', 'x.vulnerability_id')
        .innerJoin('exposure_episodes as ep', 'ep.exposure_id', 'x.id')
        .select(['r.name', 'x.state', 'x.package_name', 'ep.resolved_at'])
        .where('v.vuln_id', 'in', FINDING_IDS)
        .execute();
      assert.deepEqual([...new Set(exposures.map((x) => x.name))].sort(), [R1, R2].sort());
      assert.ok(exposures.every((x) => x.state === 'open' && x.resolved_at === null));
    });

    it('a matcher version change matches every retained image again, changing nothing that still holds', async () => {
      const before = await findingsOf();
      const again = await rematch();
      assert.equal(again.images, 2);
      assert.deepEqual(again, { ...again, newFindings: 0, retracted: 0, reopened: 0, alerts: 0 });
      const payload = await server.ctx.db
        .selectFrom('jobs')
        .select('payload')
        .where('kind', '=', 'reanalyze')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      assert.equal(JSON.parse(String(payload.payload)).everything, true);
      assert.deepEqual(await findingsOf(), before);
    });

    it('matches from the package rows what ingest matched from the inventory; rows from before 0010 fall back to it', async () => {
      // ingest recorded what the matcher reads: every row of these images has it, and each image its OS release
      const rows = await server.ctx.db.selectFrom('packages').select(['purl', 'match_extra']).execute();
      assert.ok(rows.length > 0);
      assert.ok(
        rows.every((r) => r.match_extra !== null && r.match_extra !== '*'),
        'every row stands for its images',
      );
      const images = await server.ctx.db.selectFrom('images').select('match_os').execute();
      assert.ok(images.every((i) => i.match_os !== null && JSON.parse(i.match_os).ecosystem === 'Alpine:v3.16'));
      const snapshot = async () =>
        server.ctx.db
          .selectFrom('findings')
          .select(['image_id', 'package_id', 'vulnerability_id', 'status', 'severity', 'fixed_version'])
          .orderBy('image_id')
          .orderBy('package_id')
          .orderBy('vulnerability_id')
          .execute();
      const before = await snapshot();
      // every package of both images matched from its row: nothing ingest found is lost or added
      const fromRows = await rematch();
      assert.deepEqual(fromRows, { ...fromRows, newFindings: 0, retracted: 0, reopened: 0 });
      assert.deepEqual(await snapshot(), before);
      // as a server upgraded from before 0010 holds them: the job reads the inventories back, with the same result
      // (without the fallback every finding of these rows would be retracted)
      await server.ctx.db.updateTable('packages').set({ match_extra: null }).execute();
      await server.ctx.db.updateTable('images').set({ match_os: null }).execute();
      const fromInventories = await rematch();
      assert.deepEqual(fromInventories, { ...fromInventories, newFindings: 0, retracted: 0, reopened: 0 });
      assert.deepEqual(await snapshot(), before);
      // one row two inventories disagree on: those images' inventories are read for it, the rest from rows
      await server.ctx.db.updateTable('packages').set({ match_extra: '*' }).execute();
      const ambiguous = await rematch();
      assert.deepEqual(ambiguous, { ...ambiguous, newFindings: 0, retracted: 0, reopened: 0 });
      assert.deepEqual(await snapshot(), before);
    });

    it('a CVE newly in KEV alerts once per repository where it is open in a published image', async () => {
      const catalog = {
        title: 'CISA Catalog of Known Exploited Vulnerabilities',
        catalogVersion: '2026.11.21',
        count: 1,
        vulnerabilities: [{ cveID: 'CVE-2099-0001', dateAdded: '2026-11-21', knownRansomwareCampaignUse: 'Unknown' }],
      };
      const res = await server.api.request<{ url: string }>('POST', '/api/v1/system/vulndb/import', {
        body: JSON.stringify(catalog),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 202, res.text);
      const job = await server.api.get<{ state: string; result: { generation: number } }>(`${res.body.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', job.text);
      const queued = await server.ctx.db
        .selectFrom('jobs')
        .select('public_id')
        .where('dedupe_key', '=', `reanalyze:${job.body.result.generation}`)
        .executeTakeFirstOrThrow();
      const done = await server.api.get<{ state: string; result: { alerts: number } }>(
        `/api/v1/jobs/${queued.public_id}?wait=60`,
      );
      assert.equal(done.body.state, 'succeeded', done.text);
      assert.equal(done.body.result.alerts, 2);
      const kevAlerts = await server.ctx.db
        .selectFrom('events')
        .select(['repository_id', 'data'])
        .where('type', '=', 'finding.new')
        .where('request_id', 'like', 'kev:%')
        .execute();
      assert.equal(kevAlerts.length, 2);
      assert.ok(kevAlerts.every((e) => JSON.parse(String(e.data)).reason === 'kev'));
      const image = await server.ctx.db
        .selectFrom('images')
        .select('has_kev')
        .where('digest', '=', bundles.b.digest)
        .executeTakeFirstOrThrow();
      assert.equal(Number(image.has_kev), 1);
    });

    it('a withdrawal retracts the findings; the advisory coming back reopens them', async () => {
      const before = await criticalOf(bundles.a.digest);
      const alerted = (await alerts()).length;
      const withdrawn = await importRecord(true);
      assert.equal(withdrawn.retracted, found);
      assert.ok((await findingsOf()).every((f) => f.status === 'resolved' && f.resolution === 'retracted'));
      assert.equal(await criticalOf(bundles.a.digest), before - perImage);
      assert.equal((await alerts()).length, alerted, 'no alert for a retraction');

      const back = await importRecord(false);
      assert.equal(back.reopened, found);
      const rows = await findingsOf();
      assert.ok(rows.every((f) => f.status === 'open' && Number(f.reopened_count) === 1));
      assert.equal(await criticalOf(bundles.a.digest), before);
    });

    it('an exception holds for what re-analysis brings back: the finding returns suppressed, with no alert', async () => {
      // image a is placed in R2 (and R1); an exception in R2 covers a's finding, not b's
      const created = await server.api.post<{ suppressedFindings: number }>('/api/v1/exceptions', {
        vulnerability: CVE,
        repository: R2,
        status: 'not_affected',
        reason: 'the package is present but never loaded',
        expiresAt: new Date(server.ctx.now() + 30 * 86_400_000).toISOString(),
      });
      assert.equal(created.status, 201, created.text);
      assert.ok(created.body.suppressedFindings > 0);
      const before = await criticalOf(bundles.a.digest);
      await importRecord(true);
      const alerted = (await alerts()).length;
      const back = await importRecord(false);
      assert.equal(back.reopened, found);
      const rows = await findingsOf();
      assert.ok(rows.length > 0);
      for (const f of rows) {
        assert.equal(f.status, f.digest === bundles.a.digest ? 'suppressed' : 'open', JSON.stringify(f));
      }
      const excepted = await server.ctx.db
        .selectFrom('findings as f')
        .innerJoin('images as i', 'i.id', 'f.image_id')
        .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
        .select('f.exception_id')
        .where('i.digest', '=', bundles.a.digest)
        .where('v.vuln_id', 'in', FINDING_IDS)
        .execute();
      assert.ok(excepted.every((r) => r.exception_id !== null));
      assert.equal(await criticalOf(bundles.a.digest), before, 'the suppressed finding stays out of the counts');
      const newAlerts = (await alerts()).slice(alerted);
      assert.ok(
        newAlerts.every((a) => a.digest !== bundles.a.digest),
        `no alert for the excepted image: ${JSON.stringify(newAlerts)}`,
      );
    });
  });
});
