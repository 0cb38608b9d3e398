import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { ingestDedupeKey } from '../src/ingest/accept.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

/**
 * POST /api/v1/ingest on the real server (both database engines), every answer checked against the OpenAPI
 * document: the one-transaction accept, the replay, concurrent identical pushes, the refusals and the scopes.
 */

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const REPOSITORY = 'registry.example:5000/acme/api';
const CYCLONEDX = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] });
const REPORT = (digest: string) =>
  JSON.stringify({
    schemaVersion: 2,
    tool: { name: 'lading', version: '0.1.0' },
    target: { kind: 'image', ref: REPOSITORY, digest, layers: [] },
  });

interface Accepted {
  job: { id: string; state: string; url: string };
  image: { digest: string; url: string };
  artifacts: { kind: string; sha256: string; size: number; new: boolean }[];
}

async function multipartBody(
  parts: [string, string][],
  metadata: Record<string, unknown> = { repository: REPOSITORY, digest: DIGEST, tags: ['1.0'] },
): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
  const form = new FormData();
  form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
  for (const [name, text] of parts) form.append(name, new Blob([text], { type: 'application/json' }), `${name}.json`);
  const response = new Response(form);
  return {
    body: new Uint8Array(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type') ?? '' },
  };
}

forEachDatabase((database) => {
  describe('POST /api/v1/ingest', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        runJobs: false,
        routes: [
          ...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes),
          ingestRoutes({
            limits: { maxMetadataBytes: 16 * 1024, maxPartBytes: 64 * 1024, maxParts: 12, maxTotalBytes: 256 * 1024 },
          }),
        ],
      });
    });
    after(() => server.close());

    async function push(parts: [string, string][], token?: string | null, metadata?: Record<string, unknown>) {
      const { body, headers } = await multipartBody(parts, metadata);
      return server.api.request<Accepted & Record<string, unknown>>('POST', '/api/v1/ingest', {
        body,
        headers,
        ...(token !== undefined ? { token } : {}),
      });
    }

    async function counts(): Promise<{ artifacts: number; jobs: number }> {
      const a = await server.ctx.db
        .selectFrom('artifacts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const j = await server.ctx.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return { artifacts: Number(a.n), jobs: Number(j.n) };
    }

    it('202 with Location once the artifacts and the job are committed; a replay is 200 with the same job', async () => {
      const first = await push([
        ['sbom', CYCLONEDX],
        ['report', REPORT(DIGEST)],
      ]);
      assert.equal(first.status, 202, first.text);
      assert.equal(first.headers.get('location'), first.body.job.url);
      assert.equal(first.body.job.state, 'queued');
      assert.deepEqual(first.body.image, { digest: DIGEST, url: `/api/v1/images/${DIGEST}` });
      const sbomHash = createHash('sha256').update(CYCLONEDX).digest('hex');
      const reportHash = createHash('sha256').update(REPORT(DIGEST)).digest('hex');
      assert.deepEqual(
        first.body.artifacts.map((a) => [a.kind, a.sha256, a.new]),
        [
          ['sbom-cyclonedx', sbomHash, true],
          ['report-lading', reportHash, true],
        ],
      );
      const job = await server.ctx.db
        .selectFrom('jobs')
        .selectAll()
        .where('public_id', '=', first.body.job.id)
        .executeTakeFirstOrThrow();
      assert.equal(job.kind, 'ingest');
      assert.equal(
        job.dedupe_key,
        ingestDedupeKey(DIGEST, [reportHash, sbomHash], { repository: REPOSITORY, track: 'default', tags: ['1.0'] }),
      );
      const payload = JSON.parse(job.payload);
      assert.equal(payload.metadata.repository, REPOSITORY);
      assert.equal(payload.repository, REPOSITORY);
      assert.deepEqual(
        payload.artifacts.map((a: { sha256: string }) => a.sha256),
        [sbomHash, reportHash],
      );
      const before = await counts();

      // the same evidence in another order is the same bundle
      const replay = await push([
        ['report', REPORT(DIGEST)],
        ['sbom', CYCLONEDX],
      ]);
      assert.equal(replay.status, 200, replay.text);
      assert.equal(replay.body.job.id, first.body.job.id);
      assert.ok(replay.body.artifacts.every((a) => a.new === false));
      assert.deepEqual(await counts(), before);

      // the same evidence placed otherwise (a new tag) is ingested again, not a replay
      const retagged = await push(
        [
          ['sbom', CYCLONEDX],
          ['report', REPORT(DIGEST)],
        ],
        undefined,
        { repository: REPOSITORY, digest: DIGEST, tags: ['1.0', 'stable'] },
      );
      assert.equal(retagged.status, 202, retagged.text);
      assert.notEqual(retagged.body.job.id, first.body.job.id);

      // the job can be read back by its URL
      const read = await server.api.get<{ id: string; state: string }>(first.body.job.url);
      assert.equal(read.status, 200);
      assert.equal(read.body.id, first.body.job.id);
    });

    it('10 concurrent identical pushes give one job', async () => {
      const other = `sha256:${'ee'.repeat(32)}`;
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          push([['report', REPORT(other)]], undefined, { repository: REPOSITORY, digest: other }),
        ),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
      assert.equal(new Set(answers.map((a) => a.body.job.id)).size, 1);
      const jobs = await server.ctx.db
        .selectFrom('jobs')
        .select('id')
        .where('dedupe_key', 'like', `ingest:${other}:%`)
        .execute();
      assert.equal(jobs.length, 1);
      // and the job, once run, gives exactly one image and one placement in the repository (no vulnerability data
      // here: the match reports the gap, which is enough for the rows)
      registerIngestJob(server.runner, server.ctx, blobStoreOf(server.ctx), {
        vulndbDir: join(server.dataDir, 'no-vulndb'),
      });
      // run as production does (graphile-worker on PostgreSQL) until it ended, then stopped: the other tests
      // count rows, so no job may run behind them
      await server.startJobs();
      let done: { body: { state: string }; text: string };
      try {
        done = await server.api.get<{ state: string }>(`${answers[0]!.body.job.url}?wait=60`);
      } finally {
        await server.stopJobs();
      }
      assert.equal(done.body.state, 'succeeded', done.text);
      const images = await server.ctx.db.selectFrom('images').select('id').where('digest', '=', other).execute();
      assert.equal(images.length, 1);
      const placements = await server.ctx.db
        .selectFrom('repository_images')
        .select('repository_id')
        .where('image_id', '=', images[0]!.id)
        .execute();
      assert.equal(placements.length, 1);
    });

    it('refusals are problem documents naming the part, and keep no rows', async () => {
      const before = await counts();
      const mismatch = await push([['report', REPORT(`sha256:${'00'.repeat(32)}`)]]);
      assert.equal(mismatch.status, 422, mismatch.text);
      assert.equal(mismatch.headers.get('content-type')?.split(';')[0], 'application/problem+json');
      assert.equal(mismatch.body['part'], 'report');
      const big = await push([['sbom', JSON.stringify({ bomFormat: 'CycloneDX', pad: 'x'.repeat(70 * 1024) })]]);
      assert.equal(big.status, 413, big.text);
      assert.equal(big.body['part'], 'sbom');
      const encoded = await server.api.request('POST', '/api/v1/ingest', {
        body: 'x',
        headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-encoding': 'gzip' },
      });
      assert.equal(encoded.status, 415);
      const json = await server.api.post('/api/v1/ingest', { repository: REPOSITORY, digest: DIGEST });
      assert.equal(json.status, 415, json.text);
      assert.deepEqual(await counts(), before);
    });

    it('needs the ingest scope, for the repository named in the metadata', async () => {
      const anonymous = await push([['sbom', CYCLONEDX]], null);
      assert.equal(anonymous.status, 401);
      const reader = await createApiToken(server.ctx, {
        name: 'reader',
        scopes: ['read'],
        repositoryPattern: '*',
        expiresAt: server.ctx.now() + 86_400_000,
        ownerUserId: server.admin.userId,
      });
      assert.equal((await push([['sbom', CYCLONEDX]], reader.token)).status, 403);
      const otherTeam = await createApiToken(server.ctx, {
        name: 'other team',
        scopes: ['ingest'],
        repositoryPattern: 'registry.example:5000/other/*',
        expiresAt: server.ctx.now() + 86_400_000,
        ownerUserId: server.admin.userId,
      });
      const refused = await push([['sbom', CYCLONEDX]], otherTeam.token);
      assert.equal(refused.status, 403, refused.text);
      assert.match(String(refused.body['detail']), /may not ingest into registry\.example:5000\/acme\/api/);
      const allowed = await push([['sbom', CYCLONEDX]], otherTeam.token, {
        repository: 'registry.example:5000/other/web',
        digest: DIGEST,
      });
      assert.equal(allowed.status, 202, allowed.text);
    });
  });
});
