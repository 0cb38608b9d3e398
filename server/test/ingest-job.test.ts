import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { decodeJson } from '../src/db/dialect.js';
import { processIngest, registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { findJob } from '../src/jobs/queue.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

/**
 * The ingest job end to end on real bundles made by the CLI: pushed over the API, processed by the runner, its
 * findings compared with `lading scan -o json` on the same image and data; the second release moves the tag, the
 * track's current image and resolves the exposures it fixed; re-running a job changes no row.
 */

const REPOSITORY = 'registry.example:5000/acme/api';

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

interface JobView {
  id: string;
  state: string;
  steps: { name: string; state: string }[];
  result: {
    image: string;
    counts: Record<string, number>;
    new: string[];
    fixed: string[];
    evidence: { state: string };
  };
  error: { code: string; message: string } | null;
}

forEachDatabase((database) => {
  describe('the ingest job', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        routes: [...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes), ingestRoutes()],
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
    });
    after(() => server.close());

    async function ingest(
      bundle: TestBundles['a'],
      tags: string[],
      observedAt: string,
      parts: 'report' | 'sbom' = 'report',
    ): Promise<JobView> {
      const { body, headers } = await bundleBody(
        { repository: REPOSITORY, digest: bundle.digest, tags, observedAt },
        parts === 'report'
          ? [
              ['sbom', bundle.sbomFile],
              ['report', bundle.reportFile],
            ]
          : [['sbom', bundle.sbomFile]],
      );
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.ok(accepted.status === 202 || accepted.status === 200, accepted.text);
      const job = await server.api.get<JobView>(`${accepted.body.job.url}?wait=60`);
      assert.equal(job.status, 200);
      return job.body;
    }

    async function findingKeys(digest: string): Promise<string[]> {
      const rows = await server.ctx.db
        .selectFrom('findings')
        .innerJoin('images', 'images.id', 'findings.image_id')
        .innerJoin('packages', 'packages.id', 'findings.package_id')
        .innerJoin('vulnerabilities', 'vulnerabilities.id', 'findings.vulnerability_id')
        .select(['vulnerabilities.vuln_id', 'packages.purl', 'findings.severity', 'findings.status'])
        .where('images.digest', '=', digest)
        .execute();
      return rows.map((r) => `${r.vuln_id} ${r.purl} ${r.severity} ${r.status}`).sort();
    }

    async function snapshot(): Promise<Record<string, string>> {
      const tables = [
        'repositories',
        'images',
        'repository_images',
        'tags',
        'tag_history',
        'layers',
        'image_layers',
        'packages',
        'package_occurrences',
        'vulnerabilities',
        'vuln_aliases',
        'findings',
        'exposures',
        'verifications',
        'image_artifacts',
        'events',
      ] as const;
      const out: Record<string, string> = {};
      for (const table of tables) {
        const rows = await server.ctx.db.selectFrom(table).selectAll().execute();
        out[table] = rows
          .map((r) => JSON.stringify(r))
          .sort()
          .join('\n');
      }
      return out;
    }

    it('stores, verifies, inventories, matches and reconciles: the findings of `lading scan -o json`', async () => {
      const job = await ingest(bundles.a, ['3.16', 'latest'], '2026-11-01T00:00:00Z');
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(
        job.steps.map((s) => [s.name, s.state]),
        ['store', 'verify', 'inventory', 'match', 'reconcile'].map((n) => [n, 'succeeded']),
      );
      const cli = JSON.parse(await readFile(bundles.a.reportFile, 'utf8')) as Report;
      assert.ok(cli.findings.length > 0, 'the fixture image has findings');
      const expected = [
        ...new Set(
          cli.findings.map((f) => `${f.id} ${f.package.purl} ${f.severity} ${f.suppressed ? 'suppressed' : 'open'}`),
        ),
      ].sort();
      assert.deepEqual(await findingKeys(bundles.a.digest), expected);
      const counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
      for (const [k, v] of Object.entries(cli.summary.bySeverity)) counts[k as keyof typeof counts] = v;
      assert.deepEqual(job.result.counts, counts);
      assert.equal(job.result.image, bundles.a.digest);
      assert.deepEqual(job.result.new, [...new Set(cli.findings.map((f) => f.id))].sort());

      const image = await server.ctx.db
        .selectFrom('images')
        .selectAll()
        .where('digest', '=', bundles.a.digest)
        .executeTakeFirstOrThrow();
      assert.equal(image.packages, cli.packages.length);
      assert.equal(image.critical, counts.critical);
      assert.equal(image.high, counts.high);
      assert.equal(image.state, 'active');
      const placement = await server.ctx.db
        .selectFrom('repository_images')
        .selectAll()
        .where('image_id', '=', image.id)
        .executeTakeFirstOrThrow();
      assert.equal(placement.is_current, 1);
      const tags = await server.ctx.db
        .selectFrom('tags')
        .select(['name', 'current_image_id'])
        .orderBy('name')
        .execute();
      assert.deepEqual(tags, [
        { name: '3.16', current_image_id: image.id },
        { name: 'latest', current_image_id: image.id },
      ]);
      const open = await server.ctx.db.selectFrom('exposures').select('state').execute();
      assert.ok(open.length > 0 && open.every((e) => e.state === 'open'));
      const events = await server.ctx.db
        .selectFrom('events')
        .select(['type', 'data'])
        .where('image_id', '=', image.id)
        .execute();
      assert.deepEqual(
        events.map((e) => e.type),
        ['image.ingested'],
      );
    });

    it('running the job again changes nothing', async () => {
      const before = await snapshot();
      const row = await server.ctx.db
        .selectFrom('jobs')
        .selectAll()
        .where('kind', '=', 'ingest')
        .orderBy('id')
        .executeTakeFirstOrThrow();
      const again = await findJob(server.ctx.db, row.public_id);
      assert.ok(again);
      await processIngest(
        { job: again, payload: decodeJson(again.payload), signal: new AbortController().signal, step: async () => {} },
        server.ctx,
        blobStoreOf(server.ctx),
        bundles.dbDir,
      );
      const afterwards = await snapshot();
      for (const table of Object.keys(before)) assert.equal(afterwards[table], before[table], table);
    });

    it('a job writes its steps once, in the reconcile commit; a failed step is written at once', async () => {
      const row = await server.ctx.db
        .selectFrom('jobs')
        .selectAll()
        .where('kind', '=', 'ingest')
        .orderBy('id')
        .executeTakeFirstOrThrow();
      const job = await findJob(server.ctx.db, row.public_id);
      assert.ok(job);
      const written: string[] = [];
      const run = (payload: unknown) => ({
        job,
        payload,
        signal: new AbortController().signal,
        step: async (s: { name: string; state: string }) => {
          written.push(`${s.name} ${s.state}`);
        },
      });
      // a fast job: no step goes through the runner (one write per step was ten commits per job)
      await processIngest(run(decodeJson(job.payload)), server.ctx, blobStoreOf(server.ctx), bundles.dbDir);
      assert.deepEqual(written, []);
      // an artifact without its row fails the store step, which is written then, through the runner
      const payload = decodeJson<{ artifacts: { sha256: string }[] }>(job.payload)!;
      const broken = { ...payload, artifacts: [{ ...payload.artifacts[0], sha256: 'ee'.repeat(32) }] };
      await assert.rejects(
        processIngest(run(broken), server.ctx, blobStoreOf(server.ctx), bundles.dbDir),
        /has no row/,
      );
      assert.deepEqual(written, ['store failed']);
    });

    it('the next release moves the tag and the current image, and resolves what it fixed', async () => {
      const job = await ingest(bundles.b, ['latest'], '2026-11-08T00:00:00Z');
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      const cliA = JSON.parse(await readFile(bundles.a.reportFile, 'utf8')) as Report;
      const cliB = JSON.parse(await readFile(bundles.b.reportFile, 'utf8')) as Report;
      const idsA = new Set(cliA.findings.map((f) => f.id));
      const idsB = new Set(cliB.findings.map((f) => f.id));
      const gone = [...idsA].filter((id) => !idsB.has(id));
      assert.ok(gone.length > 0, 'release b fixes something');
      const images = await server.ctx.db.selectFrom('images').select(['id', 'digest']).execute();
      const idOf = (digest: string) => images.find((i) => i.digest === digest)?.id;
      const current = await server.ctx.db
        .selectFrom('repository_images')
        .select(['image_id'])
        .where('is_current', '=', 1)
        .execute();
      assert.deepEqual(
        current.map((c) => c.image_id),
        [idOf(bundles.b.digest)],
      );
      const tags = await server.ctx.db
        .selectFrom('tags')
        .select(['name', 'current_image_id'])
        .orderBy('name')
        .execute();
      assert.deepEqual(tags, [
        { name: '3.16', current_image_id: idOf(bundles.a.digest) },
        { name: 'latest', current_image_id: idOf(bundles.b.digest) },
      ]);
      const history = await server.ctx.db
        .selectFrom('tag_history')
        .innerJoin('tags', 'tags.id', 'tag_history.tag_id')
        .select(['tags.name', 'tag_history.image_id', 'tag_history.to_at'])
        .where('tags.name', '=', 'latest')
        .orderBy('tag_history.from_at')
        .execute();
      assert.deepEqual(history, [
        { name: 'latest', image_id: idOf(bundles.a.digest), to_at: Date.parse('2026-11-08T00:00:00Z') },
        { name: 'latest', image_id: idOf(bundles.b.digest), to_at: null },
      ]);
      const exposures = await server.ctx.db
        .selectFrom('exposures')
        .innerJoin('vulnerabilities', 'vulnerabilities.id', 'exposures.vulnerability_id')
        .select(['vulnerabilities.vuln_id', 'exposures.state', 'exposures.resolved_image_id'])
        .execute();
      for (const id of gone) {
        const e = exposures.filter((x) => x.vuln_id === id);
        assert.ok(
          e.length > 0 && e.every((x) => x.state === 'resolved' && x.resolved_image_id === idOf(bundles.b.digest)),
          id,
        );
      }
      for (const id of idsB)
        assert.ok(
          exposures.some((x) => x.vuln_id === id && x.state === 'open'),
          id,
        );
      // an older observation arriving late does not take the tag or the track back
      const late = await ingest(bundles.a, ['latest'], '2026-10-01T00:00:00Z', 'sbom');
      assert.equal(late.state, 'succeeded', JSON.stringify(late.error));
      const still = await server.ctx.db
        .selectFrom('tags')
        .select('current_image_id')
        .where('name', '=', 'latest')
        .executeTakeFirstOrThrow();
      assert.equal(still.current_image_id, idOf(bundles.b.digest));
    });

    it('a repository that enforces verification quarantines an image whose evidence is not verified', async () => {
      const strict = 'registry.example:5000/acme/strict';
      const now = server.ctx.now();
      await server.ctx.db
        .insertInto('repositories')
        .values({
          public_id: 'repo_strict',
          name: strict,
          name_lc: strict,
          team_id: null,
          source_repo: null,
          settings: JSON.stringify({ verification: { mode: 'enforce' } }),
          archived_at: null,
          purge_after: null,
          created_at: now,
        })
        .execute();
      const { body, headers } = await bundleBody(
        { repository: strict, digest: bundles.b.digest, tags: ['latest'], observedAt: '2026-11-09T00:00:00Z' },
        [
          ['sbom', bundles.b.sbomFile],
          ['report', bundles.b.reportFile],
        ],
      );
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.equal(accepted.status, 202, accepted.text);
      const job = (await server.api.get<JobView>(`${accepted.body.job.url}?wait=60`)).body;
      assert.equal(job.state, 'failed');
      assert.equal(job.error?.code, 'verification_failed');
      assert.match(job.error?.message ?? '', /evidence partial .* enforces verification: .*provenance\.present absent/);
      const repo = await server.ctx.db
        .selectFrom('repositories')
        .select('id')
        .where('name', '=', strict)
        .executeTakeFirstOrThrow();
      const placement = await server.ctx.db
        .selectFrom('repository_images')
        .innerJoin('images', 'images.id', 'repository_images.image_id')
        .select(['repository_images.is_current', 'images.state'])
        .where('repository_images.repository_id', '=', repo.id)
        .execute();
      // kept (with its placement), but never current; and its tag does not move
      assert.deepEqual(placement, [{ is_current: 0, state: 'quarantined' }]);
      const tags = await server.ctx.db
        .selectFrom('tags')
        .select('current_image_id')
        .where('repository_id', '=', repo.id)
        .execute();
      assert.deepEqual(tags, []);
      const events = await server.ctx.db
        .selectFrom('events')
        .select('type')
        .where('repository_id', '=', repo.id)
        .execute();
      assert.deepEqual(
        events.map((e) => e.type),
        ['image.quarantined'],
      );
    });

    it('an SBOM alone is matched by the server: the same findings as the report', async () => {
      const a = await findingKeys(bundles.a.digest);
      assert.ok(a.length > 0);
      // the late SBOM-only ingest of image a (previous test) re-matched it from the CycloneDX inventory
      const cli = JSON.parse(await readFile(bundles.a.reportFile, 'utf8')) as Report;
      assert.deepEqual(
        [...new Set(a.map((k) => k.split(' ')[0]))].sort(),
        [...new Set(cli.findings.map((f) => f.id))].sort(),
      );
    });

    it('an ingest is an event like any other: a notification rule on image.ingested gets its outbox row', async () => {
      const rule = await server.api.post<{ id: string }>('/api/v1/notification-rules', {
        name: 'ingests',
        channel: 'webhook',
        target: 'https://hooks.example/ingests',
        secret: 'a-webhook-secret-of-some-length',
        filter: { eventTypes: ['image.ingested'], repositories: [REPOSITORY] },
      });
      assert.equal(rule.status, 201, rule.text);
      // a new tag makes a new job for a known image: its event is the one the rule must see
      const job = await ingest(bundles.b, ['notified'], '2026-11-12T00:00:00Z');
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      const outbox = await server.ctx.db
        .selectFrom('notifications')
        .innerJoin('events', 'events.id', 'notifications.event_id')
        .select(['events.type', 'events.request_id', 'notifications.state'])
        .execute();
      assert.deepEqual(outbox, [{ type: 'image.ingested', request_id: job.id, state: 'pending' }]);
      // and the delivery job that sends it was queued in the same transaction
      const deliveries = await server.ctx.db
        .selectFrom('jobs')
        .select('kind')
        .where('kind', '=', 'notify.deliver')
        .execute();
      assert.equal(deliveries.length, 1);
    });
  });
});
