// Registry watch on both engines, against Debian's docker-registry on 127.0.0.1: two images pushed with an attested
// CycloneDX SBOM each (the engine's registry client, as cosign lays out an attestation), watched, polled ("ticks"):
// both digests pulled through the pull-ingest path and their tags moved with history source `registry-sync`; the
// repository's rebuild webhook asked for the published image's fixable HIGH/CRITICAL findings; a tick with nothing
// new makes no jobs; a moved tag is recorded and its new digest pulled; a registry off the allowlist, or on it but
// at a private address without allowPrivate, is refused before any request reaches it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '@lading/engine/registry';
import {
  pushOneLayerImage,
  startRegistry,
  suiteCleanup,
  type TestRegistry,
} from '../../engine/test/helpers/registry.js';
import { encodeJson } from '../src/db/dialect.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { REGISTRIES_SETTING, type RegistryRule } from '../src/ingest/pull.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { enqueue } from '../src/jobs/queue.js';
import { parseSchedules } from '../src/jobs/schedules.js';
import { SCHEDULES } from '../src/node.js';
import {
  pollDueWatches,
  REGISTRY_WATCH,
  registerRebuildJobs,
  registerWatchJobs,
  type WatchPollOutcome,
} from '../src/watch/index.js';
import { makeBundles, type TestBundles } from './helpers/bundles.js';
import { type HttpReceiver, startHttpReceiver } from './helpers/receivers.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SECRET = 'rebuild-webhook-secret-0123456789';

const cleanup = suiteCleanup();
let registry: TestRegistry;
let bundles: TestBundles;
const client = new RegistryClient({ insecureRegistries: ['127.0.0.1'] });

before(async () => {
  registry = await startRegistry(cleanup, { accessLog: true });
  bundles = await makeBundles();
});
after(() => bundles.dispose());

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Pushes a one-layer image at `tag` and, as `cosign attest` lays it out, a DSSE envelope of its CycloneDX SBOM. */
async function pushAttested(repository: string, tag: string, content: string, sbomFile: string): Promise<string> {
  const { digest } = await pushOneLayerImage(client, registry.host, repository, tag, content);
  const repo = { registry: registry.host, repository };
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `${registry.host}/${repository}`, digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType: 'https://cyclonedx.org/bom',
    predicate: JSON.parse(await readFile(sbomFile, 'utf8')),
  };
  const envelope = Buffer.from(
    JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      signatures: [],
    }),
  );
  const config = Buffer.from('{}');
  await client.pushBlob(repo, envelope);
  await client.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', digest: sha256(envelope), size: envelope.length }],
    }),
  );
  await client.putManifest(repo, `sha256-${digest.slice('sha256:'.length)}.att`, manifest, OCI_MANIFEST);
  return digest;
}

describe('the registry.watch schedule', () => {
  it('is among the scheduled jobs, every minute (each watch keeps its own interval)', () => {
    const schedule = parseSchedules(SCHEDULES).find((s) => s.kind === REGISTRY_WATCH);
    assert.equal(schedule?.cron, '* * * * *');
  });
});

forEachDatabase((database) => {
  describe('registry watch', () => {
    const path = `acme/watch-${database}`;
    let name = '';
    let server: TestServer;
    let receiver: HttpReceiver;
    const clock = new TestClock();
    const digests: Record<string, string> = {};

    async function allow(rules: RegistryRule[]): Promise<void> {
      const now = server.ctx.now();
      await server.ctx.db.deleteFrom('settings').where('key', '=', REGISTRIES_SETTING).execute();
      await server.ctx.db
        .insertInto('settings')
        .values({ key: REGISTRIES_SETTING, value: encodeJson(rules), updated_at: now, created_at: now })
        .execute();
    }

    const watchPath = () => `/api/v1/repositories/${encodeURIComponent(name)}/watch`;
    const jobCount = async () =>
      Number(
        (
          await server.ctx.db
            .selectFrom('jobs')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    /** Waits until every job of a kind (but `except`) finished; fails with the error of one that failed. */
    async function settle(kind: string, except: readonly string[] = []): Promise<void> {
      server.ctx.jobSignals.enqueued();
      const deadline = Date.now() + 120_000;
      for (;;) {
        const jobs = await server.ctx.db
          .selectFrom('jobs')
          .select(['state', 'error'])
          .where('kind', '=', kind)
          .where('public_id', 'not in', ['', ...except])
          .execute();
        const failed = jobs.find((j) => j.state === 'failed');
        if (failed) throw new Error(`a ${kind} job failed: ${failed.error}`);
        if (jobs.every((j) => j.state === 'succeeded')) return;
        if (Date.now() > deadline) throw new Error(`${kind} jobs still ${jobs.map((j) => j.state).join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    const repositoryView = async () => {
      const res = await server.api.get<{
        id: string;
        tags: {
          name: string;
          current: string | null;
          history: { digest: string; to: string | null; source: string }[];
        }[];
      }>(`/api/v1/repositories/${encodeURIComponent(name)}`);
      assert.equal(res.status, 200, res.text);
      return res.body;
    };

    before(async () => {
      name = `${registry.host}/${path}`;
      receiver = await startHttpReceiver();
      server = await startTestServer({
        database,
        clock,
        // the rebuild webhook below listens on 127.0.0.1: allowlisted explicitly, as an administrator would
        config: { outbound: { allowPrivate: ['127.0.0.1'], smtpCaFile: undefined } },
        jobHandlers: (runner, ctx) => {
          registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir });
          registerRebuildJobs(runner, ctx);
          registerWatchJobs(runner, ctx);
        },
      });
      digests.a = await pushAttested(path, '1.0', `${database} build a`, bundles.a.sbomFile);
      digests.b = await pushAttested(path, '2.0', `${database} build b`, bundles.b.sbomFile);
    });
    after(async () => {
      await server.close();
      await receiver.close();
    });

    it('watches only registry repositories on the pull allowlist; watching one creates it', async () => {
      await allow([{ host: registry.host, insecure: true, allowPrivate: true }]);
      const off = await server.api.request<{ detail: string }>(
        'PUT',
        `/api/v1/repositories/${encodeURIComponent('registry.other.example:5000/acme/api')}/watch`,
        { json: { intervalSeconds: 300 } },
      );
      assert.equal(off.status, 422, off.text);
      assert.match(off.body.detail, /registry registry\.other\.example:5000 is not on this server's pull allowlist/);
      // a refused watch leaves no repository behind
      const missing = await server.api.get(
        `/api/v1/repositories/${encodeURIComponent('registry.other.example:5000/acme/api')}`,
      );
      assert.equal(missing.status, 404);
      const bad = await server.api.request('PUT', watchPath(), { json: { intervalSeconds: 5 } });
      assert.equal(bad.status, 400, bad.text);

      const res = await server.api.request<{ watched: boolean; intervalSeconds: number; nextPollAt: string }>(
        'PUT',
        watchPath(),
        { json: { intervalSeconds: 300 } },
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.watched, true);
      assert.equal(res.body.intervalSeconds, 300);
      assert.equal(res.body.nextPollAt, new Date(clock.now()).toISOString());
      const audit = await server.ctx.db
        .selectFrom('events')
        .select(['type', 'actor_kind', 'data'])
        .where('type', 'like', 'watch.%')
        .execute();
      assert.deepEqual(
        audit.map((e) => [e.type, e.actor_kind, JSON.parse(String(e.data)).intervalSeconds]),
        [['watch.created', 'token', 300]],
      );
    });

    it('first tick: reads both tags, pulls both digests through the pull ingest; tags follow with registry-sync history', async () => {
      // the repository asks for rebuilds at a webhook: the tag moves below make its images published
      const target = await server.api.request(
        'PUT',
        `/api/v1/repositories/${encodeURIComponent(name)}/rebuild-target`,
        {
          json: { kind: 'webhook', url: `${receiver.url}/rebuild`, secret: SECRET },
        },
      );
      assert.equal(target.status, 200, target.text);

      // the tick through the scheduled job's handler
      await enqueue(server.ctx.db, clock.now(), {
        kind: REGISTRY_WATCH,
        payload: {},
        dedupeKey: `test:${REGISTRY_WATCH}:1`,
        createdBy: 'system',
      });
      await settle(REGISTRY_WATCH);
      const watch = await server.api.get<{
        tags: { tag: string; digest: string }[];
        pulls: { digest: string; state: string; job: string | null }[];
        lastError: string | null;
      }>(watchPath());
      assert.equal(watch.body.lastError, null);
      assert.deepEqual(
        watch.body.tags.map((t) => [t.tag, t.digest]),
        [
          ['1.0', digests.a],
          ['2.0', digests.b],
        ],
      );
      assert.deepEqual(watch.body.pulls.map((p) => p.digest).sort(), [digests.a, digests.b].sort());
      // `ingested` already when an ingest finished before the tick ended (its tag then followed in that tick)
      assert.ok(watch.body.pulls.every((p) => ['queued', 'ingested'].includes(p.state) && p.job !== null));
      const jobs = await server.ctx.db.selectFrom('jobs').select(['payload']).where('kind', '=', 'ingest').execute();
      assert.equal(jobs.length, 2);
      for (const job of jobs) assert.equal(JSON.parse(job.payload).source, 'pull');
      await settle('ingest');

      // the next tick (not due: only the settling of finished pulls) moves the tags
      const outcomes = await pollDueWatches(server.ctx);
      assert.deepEqual(outcomes, []);
      const view = await repositoryView();
      const tags = Object.fromEntries(view.tags.map((t) => [t.name, t]));
      assert.equal(tags['1.0']?.current, digests.a);
      assert.equal(tags['2.0']?.current, digests.b);
      assert.deepEqual(
        tags['1.0']?.history.map((h) => [h.digest, h.to, h.source]),
        [[digests.a, null, 'registry-sync']],
      );
      const pulls = await server.api.get<{ pulls: { state: string }[] }>(watchPath());
      assert.ok(pulls.body.pulls.every((p) => p.state === 'ingested'));
      const moves = await server.ctx.db.selectFrom('events').select('data').where('type', '=', 'tag.moved').execute();
      assert.equal(moves.length, 2);

      // a published image with fixable HIGH/CRITICAL findings: the rebuild webhook is asked, with the CVEs
      // (a check that was running when the tags moved left them to the follow-up check their events queued)
      await settle('rebuild.check');
      assert.ok(receiver.requests.length >= 1, 'the rebuild webhook was called');
      for (const request of receiver.requests) {
        const body = JSON.parse(request.body) as {
          type: string;
          digest: string;
          tags: string[];
          cves: { severity: string; fixedVersion: string }[];
        };
        assert.equal(body.type, 'rebuild.requested');
        assert.ok([digests.a, digests.b].includes(body.digest));
        assert.ok(body.cves.length > 0);
        for (const cve of body.cves) {
          assert.ok(['HIGH', 'CRITICAL'].includes(cve.severity), cve.severity);
          assert.ok(cve.fixedVersion.length > 0);
        }
      }
      assert.ok(receiver.requests.some((r) => JSON.parse(r.body).digest === digests.a));
    });

    it('a tick with nothing new makes no jobs and no history', async () => {
      clock.advance(300_000);
      const before = await jobCount();
      const [outcome] = await pollDueWatches(server.ctx);
      assert.ok(outcome);
      assert.equal(outcome.error, undefined);
      assert.equal(outcome.tags, 2);
      assert.deepEqual([outcome.moved, outcome.pulled, outcome.refused, outcome.tagsApplied], [[], [], [], []]);
      assert.equal(await jobCount(), before);
      // not due again until the interval has passed
      assert.deepEqual(await pollDueWatches(server.ctx), []);
    });

    it('a moved tag is recorded, its new digest pulled once; a tag moved to a stored digest follows at once', async () => {
      digests.c = await pushAttested(path, '1.0', `${database} build c`, bundles.b.sbomFile);
      // 2.0 goes back to a's manifest: a digest the server holds already
      const manifestA = await client.getManifest({ registry: registry.host, repository: path, digest: digests.a });
      await client.putManifest({ registry: registry.host, repository: path }, '2.0', manifestA.bytes, OCI_MANIFEST);
      clock.advance(300_000);
      const [outcome] = (await pollDueWatches(server.ctx)) as WatchPollOutcome[];
      assert.ok(outcome);
      assert.deepEqual(
        [...outcome.moved].sort((x, y) => x.tag.localeCompare(y.tag)),
        [
          { tag: '1.0', from: digests.a, to: digests.c },
          { tag: '2.0', from: digests.b, to: digests.a },
        ],
      );
      assert.deepEqual(
        outcome.pulled.map((p) => p.digest),
        [digests.c],
      );
      // 2.0 follows at once; 1.0 too when c's ingest happened to finish before the tick ended
      assert.deepEqual(
        outcome.tagsApplied.filter((t) => t.tag !== '1.0'),
        [{ tag: '2.0', digest: digests.a }],
      );
      assert.ok(outcome.tagsApplied.every((t) => t.tag !== '1.0' || t.digest === digests.c));
      await settle('ingest');
      await pollDueWatches(server.ctx);
      const view = await repositoryView();
      const tags = Object.fromEntries(view.tags.map((t) => [t.name, t]));
      assert.equal(tags['1.0']?.current, digests.c);
      assert.deepEqual(
        tags['1.0']?.history.map((h) => [h.digest, h.to === null, h.source]),
        [
          [digests.c, true, 'registry-sync'],
          [digests.a, false, 'registry-sync'],
        ],
      );
      assert.equal(tags['2.0']?.current, digests.a);
      // a tick later: nothing new again, and c is not pulled a second time
      clock.advance(300_000);
      const before = await jobCount();
      const [again] = await pollDueWatches(server.ctx);
      assert.deepEqual(again?.pulled, []);
      assert.equal(await jobCount(), before);
    });

    it('pulls a digest again when its ingest job failed for good, within the attempt limit', async () => {
      // no job runs while the failure is staged (the table runner, or graphile-worker on PostgreSQL, stops)
      await server.stopJobs();
      let failedJob = '';
      try {
        digests.d = await pushAttested(path, '3.0', `${database} build d`, bundles.a.sbomFile);
        clock.advance(300_000);
        const [first] = await pollDueWatches(server.ctx);
        assert.deepEqual(
          first?.pulled.map((p) => p.digest),
          [digests.d],
        );
        failedJob = first?.pulled[0]?.job ?? '';
        // what a job whose retries ran out leaves behind
        await server.ctx.db
          .updateTable('jobs')
          .set({ state: 'failed', error: encodeJson({ code: 'blob_store', message: 'blob store unavailable' }) })
          .where('public_id', '=', failedJob)
          .execute();
        clock.advance(300_000);
        const [second] = await pollDueWatches(server.ctx);
        assert.equal(second?.pulled.length, 1);
        assert.notEqual(second?.pulled[0]?.job, failedJob);
      } finally {
        await server.startJobs();
      }
      await settle('ingest', [failedJob]);
      await pollDueWatches(server.ctx);
      const watch = await server.api.get<{ pulls: { digest: string; state: string; attempts: number }[] }>(watchPath());
      const pull = watch.body.pulls.find((p) => p.digest === digests.d);
      assert.deepEqual([pull?.state, pull?.attempts], ['ingested', 2]);
      const tags = Object.fromEntries((await repositoryView()).tags.map((t) => [t.name, t.current]));
      assert.equal(tags['3.0'], digests.d);
    });

    it('refuses a registry taken off the allowlist, and a private address without allowPrivate, before any request', async () => {
      // the registry writes its access log a little after it answers: wait until it is quiet, then count
      let served = -1;
      while (served !== registry.requests().length) {
        served = registry.requests().length;
        await new Promise((r) => setTimeout(r, 300));
      }
      await allow([]);
      clock.advance(300_000);
      const [off] = await pollDueWatches(server.ctx);
      assert.match(
        off?.error ?? '',
        new RegExp(`registry ${registry.host.replace(/\./g, '\\.')} is not on this server's pull allowlist`),
      );
      await allow([{ host: registry.host, insecure: true }]);
      clock.advance(300_000);
      const [loopback] = await pollDueWatches(server.ctx);
      assert.match(loopback?.error ?? '', /127\.0\.0\.1:\d+ is a private, loopback or link-local address/);
      const watch = await server.api.get<{ lastError: string | null }>(watchPath());
      assert.equal(watch.body.lastError, loopback?.error);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(registry.requests().length, served, 'no request reached the registry');
    });

    it('a registry answering junk fails the poll with one line and stores nothing', async () => {
      const junk = createServer((req, res) => {
        if (req.url === '/v2/') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        if (req.url?.includes('/tags/list'))
          return res.writeHead(200, { 'content-type': 'application/json' }).end('{"tags": [');
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => junk.listen(0, '127.0.0.1', resolve));
      try {
        const host = `127.0.0.1:${(junk.address() as AddressInfo).port}`;
        await allow([{ host, insecure: true, allowPrivate: true }]);
        const other = `${host}/junk/api`;
        const put = await server.api.request('PUT', `/api/v1/repositories/${encodeURIComponent(other)}/watch`, {
          json: { intervalSeconds: 60 },
        });
        assert.equal(put.status, 200, put.text);
        const [outcome] = await pollDueWatches(server.ctx);
        assert.equal(outcome?.repository, other);
        assert.match(outcome?.error ?? '', /^polling .*junk\/api: .*something other than JSON$/);
        assert.doesNotMatch(outcome?.error ?? '', /\n|at .*\.ts/);
        const view = await server.api.get<{ tags: unknown[]; lastError: string }>(
          `/api/v1/repositories/${encodeURIComponent(other)}/watch`,
        );
        assert.deepEqual(view.body.tags, []);
        assert.equal(view.body.lastError, outcome?.error);
        assert.equal(
          (await server.api.request('DELETE', `/api/v1/repositories/${encodeURIComponent(other)}/watch`)).status,
          204,
        );
      } finally {
        await new Promise<void>((resolve) => junk.close(() => resolve()));
      }
    });

    it('DELETE stops the polling; the tags and their history stay', async () => {
      const res = await server.api.request('DELETE', watchPath());
      assert.equal(res.status, 204);
      const deleted = await server.ctx.db
        .selectFrom('events')
        .select('data')
        .where('type', '=', 'watch.deleted')
        .execute();
      assert.equal(deleted.filter((e) => JSON.parse(String(e.data)).repository === name).length, 1);
      const watch = await server.api.get<{ watched: boolean; tags: unknown[] }>(watchPath());
      assert.equal(watch.body.watched, false);
      assert.deepEqual(watch.body.tags, []);
      clock.advance(300_000);
      assert.deepEqual(await pollDueWatches(server.ctx), []);
      assert.equal((await repositoryView()).tags.length, 3);
    });
  });
});
