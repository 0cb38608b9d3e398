// Orphan blobs are collected (SERVER.md section 4), on both engines over real HTTP, every answer checked against the
// OpenAPI document: the daily `blobs.gc` schedule enqueues the job, POST /api/v1/system/blobs/gc queues it on
// request; the job removes a day-old blob no artifact names (what an ingest killed between storing its parts and
// committing leaves), keeps a kept artifact's blob however old, keeps a young orphan (an upload in flight), and writes
// one `blobs.collected` event. A refused ingest (a report for another digest) stores nothing to collect.
import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createApiToken } from '../src/auth/index.js';
import { BLOBS_GC, registerBlobJobs } from '../src/blobs/jobs.js';
import { blobKey } from '../src/blobs/store.js';
import { fireDueSchedules, parseSchedules } from '../src/jobs/schedules.js';
import { SCHEDULES } from '../src/node.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const DIGEST = `sha256:${'cd'.repeat(32)}`;
const HOUR = 3_600_000;
const REPORT = (digest: string) =>
  JSON.stringify({
    schemaVersion: 2,
    tool: { name: 'lading', version: '0.1.0' },
    target: { kind: 'image', ref: REPOSITORY, digest, layers: [] },
  });

async function multipart(report: string): Promise<{ body: Uint8Array; headers: Record<string, string> }> {
  const form = new FormData();
  const metadata = { repository: REPOSITORY, digest: DIGEST, tags: ['1.0'] };
  form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
  form.append('report', new Blob([report], { type: 'application/json' }), 'report.json');
  const response = new Response(form);
  return {
    body: new Uint8Array(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type') ?? '' },
  };
}

describe('the blobs.gc schedule', () => {
  it('is listed daily at 04:30 UTC', () => {
    const entry = SCHEDULES.find((s) => s.kind === BLOBS_GC);
    assert.deepEqual(entry, { name: BLOBS_GC, cron: '30 4 * * *', kind: BLOBS_GC });
  });
});

forEachDatabase((database) => {
  describe('blob garbage collection', () => {
    let server: TestServer;
    let storeRoot = '';
    const pathOf = (sha256: string) => join(storeRoot, blobKey(sha256));
    const age = async (sha256: string, ms: number) => {
      const at = new Date(Date.now() - ms);
      await utimes(pathOf(sha256), at, at);
    };
    const stored = async () => {
      const all: string[] = [];
      for await (const b of server.ctx.blobs.list()) all.push(b.sha256);
      return all.sort();
    };

    before(async () => {
      // the ingest job is not registered: the accepted bundle's artifacts stay what the accept wrote
      server = await startTestServer({ database, jobHandlers: (runner, ctx) => registerBlobJobs(runner, ctx) });
      assert.ok(server.ctx.config.blobs.startsWith('file://'));
      storeRoot = fileURLToPath(server.ctx.config.blobs);
    });
    after(() => server.close());

    it('removes a day-old orphan, keeps an artifact and a young orphan, and records the removal', async () => {
      const kept = await multipart(REPORT(DIGEST));
      const accepted = await server.api.request<{ artifacts: { sha256: string }[] }>('POST', '/api/v1/ingest', kept);
      assert.equal(accepted.status, 202, accepted.text);
      const artifact = accepted.body.artifacts[0]!.sha256;

      const before = await stored();
      const refused = await server.api.request(
        'POST',
        '/api/v1/ingest',
        await multipart(REPORT(`sha256:${'00'.repeat(32)}`)),
      );
      assert.equal(refused.status, 422, refused.text);
      assert.deepEqual(await stored(), before, 'a refused bundle leaves no blob behind');

      // what an ingest killed between storing its parts and committing leaves: blobs that no artifact names
      const orphan = await server.ctx.blobs.put(Buffer.from('{"orphan":"old"}'), { maxBytes: 1024 });
      const young = await server.ctx.blobs.put(Buffer.from('{"orphan":"in flight"}'), { maxBytes: 1024 });
      await age(orphan.sha256, 25 * HOUR);
      await age(artifact, 25 * HOUR);
      await age(young.sha256, 23 * HOUR);

      const queued = await server.api.post<{ job: string; url: string; created: boolean }>('/api/v1/system/blobs/gc');
      assert.equal(queued.status, 202, queued.text);
      assert.equal(queued.body.created, true);
      const job = await server.api.get<{ state: string; result: { deleted: number; deletedSha256: string[] } }>(
        `${queued.body.url}?wait=60`,
      );
      assert.equal(job.body.state, 'succeeded', job.text);
      assert.equal(job.body.result.deleted, 1);
      assert.deepEqual(job.body.result.deletedSha256, [orphan.sha256]);
      const left = await stored();
      assert.ok(!left.includes(orphan.sha256), 'the day-old orphan is removed');
      assert.ok(left.includes(young.sha256), 'a blob younger than the grace period may be an upload in flight');
      assert.ok(left.includes(artifact), "a kept artifact's blob stays, however old");
      const chunks: Buffer[] = [];
      for await (const chunk of (await server.ctx.blobs.open(artifact)) as AsyncIterable<Buffer>) chunks.push(chunk);
      assert.equal(Buffer.concat(chunks).toString(), REPORT(DIGEST), 'byte for byte');

      const events = await server.ctx.db
        .selectFrom('events')
        .select(['type', 'actor_kind', 'request_id'])
        .where('type', '=', 'blobs.collected')
        .execute();
      assert.deepEqual(events, [{ type: 'blobs.collected', actor_kind: 'system', request_id: queued.body.job }]);

      // a second collection finds nothing and records nothing
      const again = await server.api.post<{ url: string }>('/api/v1/system/blobs/gc');
      const second = await server.api.get<{ state: string; result: { deleted: number } }>(`${again.body.url}?wait=60`);
      assert.equal(second.body.state, 'succeeded', second.text);
      assert.equal(second.body.result.deleted, 0);
      assert.equal(
        (await server.ctx.db.selectFrom('events').select('id').where('type', '=', 'blobs.collected').execute()).length,
        1,
      );
    });

    it('the daily tick enqueues blobs.gc; only an admin may ask for one', async () => {
      const schedules = parseSchedules(SCHEDULES.filter((s) => s.kind === BLOBS_GC));
      const day = Date.UTC(2030, 0, 1, 5);
      await fireDueSchedules(server.ctx.db, day, schedules); // first sight records the tick without firing
      const fired = await fireDueSchedules(server.ctx.db, day + 24 * HOUR, schedules);
      assert.deepEqual(
        fired.map((f) => f.name),
        [BLOBS_GC],
      );
      const row = await server.ctx.db
        .selectFrom('jobs')
        .select('kind')
        .where('public_id', '=', fired[0]!.job.publicId)
        .executeTakeFirstOrThrow();
      assert.equal(row.kind, BLOBS_GC);
      assert.equal((await server.api.post('/api/v1/system/blobs/gc', undefined, { token: null })).status, 401);
      const reader = await createApiToken(server.ctx, {
        name: 'reader',
        scopes: ['read', 'ingest', 'triage'],
        repositoryPattern: '*',
        expiresAt: server.ctx.now() + 24 * HOUR,
        ownerUserId: server.admin.userId,
      });
      assert.equal((await server.api.post('/api/v1/system/blobs/gc', undefined, { token: reader.token })).status, 403);
    });
  });
});
