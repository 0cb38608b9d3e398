// The jobs table queue's contract on both engines: an enqueue is part of the caller's transaction, one live job
// per dedupe key, run_at, retries with exponential backoff, permanent failures, leases that expire and are taken
// over (the kill -9 recovery) with the old worker fenced off, and GET /api/v1/jobs/{id}?wait= long-polling.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import {
  claimNext,
  completeJob,
  enqueue,
  exponentialBackoff,
  findJob,
  type JobView,
  newJobPublicId,
} from '../src/jobs/queue.js';
import { JobFailure, JobRunner } from '../src/jobs/runner.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

test('job ids are job_ + a 26-character ULID that sorts by time', () => {
  const a = newJobPublicId(1_000);
  const b = newJobPublicId(2_000);
  assert.match(a, /^job_[0-9A-Z]{26}$/);
  assert.ok(a < b);
});

test('backoff doubles from the base and stops at the cap', () => {
  const backoff = exponentialBackoff(1_000, 5_000);
  assert.deepEqual([1, 2, 3, 4, 5].map(backoff), [1_000, 2_000, 4_000, 5_000, 5_000]);
});

forEachDatabase((database) => {
  let server: TestServer;
  const clock = new TestClock();
  // what the handlers do, set per test
  let behaviour: (payload: unknown) => Promise<unknown> = async () => ({ ok: true });

  before(async () => {
    server = await startTestServer({
      database,
      clock,
      runJobs: false,
      runner: { leaseMs: 10_000, backoffMs: exponentialBackoff(1_000, 60_000) },
      jobHandlers: (runner) => runner.register('test', (run) => behaviour(run.payload)),
    });
  });
  after(() => server.close());
  beforeEach(async () => {
    await server.ctx.db.deleteFrom('jobs').execute();
    behaviour = async () => ({ ok: true });
  });

  test('a rolled-back transaction leaves no job; a committed one does', async () => {
    const { db } = server.ctx;
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await enqueue(trx, clock.now(), { kind: 'test', payload: { n: 1 } });
        throw new Error('the business rows failed');
      }),
      /business rows failed/,
    );
    assert.equal((await db.selectFrom('jobs').select('id').execute()).length, 0);
    const made = await db
      .transaction()
      .execute((trx) => enqueue(trx, clock.now(), { kind: 'test', payload: { n: 2 } }));
    assert.equal(made.created, true);
    const row = await findJob(db, made.publicId);
    assert.equal(row?.state, 'queued');
    assert.deepEqual(JSON.parse(row!.payload), { n: 2 });
  });

  test('one live job per dedupe key; a finished job frees the key', async () => {
    const { db } = server.ctx;
    const first = await enqueue(db, clock.now(), { kind: 'test', dedupeKey: 'ingest:sha256:aa:x' });
    const again = await enqueue(db, clock.now(), { kind: 'test', dedupeKey: 'ingest:sha256:aa:x' });
    assert.equal(again.created, false);
    assert.equal(again.publicId, first.publicId);
    const other = await enqueue(db, clock.now(), { kind: 'test', dedupeKey: 'ingest:sha256:bb:x' });
    assert.notEqual(other.publicId, first.publicId);
    // ten at once still give one job
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => enqueue(db, clock.now(), { kind: 'test', dedupeKey: 'burst' })),
    );
    assert.equal(new Set(burst.map((b) => b.publicId)).size, 1);
    assert.equal(burst.filter((b) => b.created).length, 1);
    while (await server.runner.runOnce()) {}
    assert.equal((await findJob(db, first.publicId))?.state, 'succeeded');
    const later = await enqueue(db, clock.now(), { kind: 'test', dedupeKey: 'ingest:sha256:aa:x' });
    assert.equal(later.created, true);
    assert.notEqual(later.publicId, first.publicId);
  });

  test('a job waits for its run_at; priority orders the runnable ones', async () => {
    const { db } = server.ctx;
    const late = await enqueue(db, clock.now(), { kind: 'test', runAt: clock.now() + 60_000 });
    const low = await enqueue(db, clock.now(), { kind: 'test', priority: 5 });
    const high = await enqueue(db, clock.now(), { kind: 'test', priority: 1 });
    assert.equal((await server.runner.runOnce())?.public_id, high.publicId);
    assert.equal((await server.runner.runOnce())?.public_id, low.publicId);
    assert.equal(await server.runner.runOnce(), undefined);
    clock.advance(60_000);
    assert.equal((await server.runner.runOnce())?.public_id, late.publicId);
  });

  test('a failing job is retried with exponential backoff, then fails for good', async () => {
    const { db } = server.ctx;
    let calls = 0;
    behaviour = async () => {
      calls++;
      throw new Error(`flaky ${calls}`);
    };
    const job = await enqueue(db, clock.now(), { kind: 'test', maxAttempts: 3 });
    const start = clock.now();
    await server.runner.runOnce();
    let row = await findJob(db, job.publicId);
    assert.equal(row?.state, 'queued');
    assert.equal(row?.attempts, 1);
    assert.equal(row?.run_at, start + 1_000);
    assert.deepEqual(JSON.parse(row!.error!), { code: 'internal_error', message: 'flaky 1' });
    assert.equal(await server.runner.runOnce(), undefined, 'not before its backoff');
    clock.advance(1_000);
    await server.runner.runOnce();
    row = await findJob(db, job.publicId);
    assert.equal(row?.attempts, 2);
    assert.equal(row?.run_at, start + 1_000 + 2_000);
    clock.advance(2_000);
    await server.runner.runOnce();
    row = await findJob(db, job.publicId);
    assert.equal(row?.state, 'failed');
    assert.equal(row?.attempts, 3);
    assert.equal(row?.finished_at, clock.now());
    assert.equal(calls, 3);
  });

  test('a JobFailure that is not retryable fails the job at once; a result is kept', async () => {
    const { db } = server.ctx;
    behaviour = async () => {
      throw new JobFailure('digest_mismatch', 'the report is for another digest', false);
    };
    const bad = await enqueue(db, clock.now(), { kind: 'test' });
    await server.runner.runOnce();
    const row = await findJob(db, bad.publicId);
    assert.equal(row?.state, 'failed');
    assert.equal(row?.attempts, 1);
    assert.deepEqual(JSON.parse(row!.error!), { code: 'digest_mismatch', message: 'the report is for another digest' });
    behaviour = async (payload) => ({ echoed: payload });
    const good = await enqueue(db, clock.now(), { kind: 'test', payload: { a: 1 } });
    await server.runner.runOnce();
    assert.deepEqual(JSON.parse((await findJob(db, good.publicId))!.result!), { echoed: { a: 1 } });
  });

  test('a lease that runs out is claimed again (kill -9 recovery); the old worker can no longer finish it', async () => {
    const { db, dialect } = server.ctx;
    const job = await enqueue(db, clock.now(), { kind: 'test' });
    // a worker on another node claims it and dies without a word
    const dead = await claimNext(db, dialect, {
      nodeId: 'dead-node',
      now: clock.now(),
      leaseMs: 10_000,
      kinds: ['test'],
    });
    assert.equal(dead?.public_id, job.publicId);
    assert.equal(await server.runner.runOnce(), undefined, 'a live lease is respected');
    clock.advance(10_001);
    const retaken = await server.runner.runOnce();
    assert.equal(retaken?.public_id, job.publicId);
    const row = await findJob(db, job.publicId);
    assert.equal(row?.state, 'succeeded');
    assert.equal(row?.attempts, 2);
    // the dead node wakes up: its completion is refused (fenced by attempt and node)
    assert.equal(
      await completeJob(db, { id: dead!.id, attempts: dead!.attempts, nodeId: 'dead-node' }, clock.now(), {}),
      false,
    );
    assert.equal((await findJob(db, job.publicId))?.state, 'succeeded');
  });

  test('an expired lease on the last allowed attempt fails the job instead of running it again', async () => {
    const { db, dialect } = server.ctx;
    const job = await enqueue(db, clock.now(), { kind: 'test', maxAttempts: 1 });
    await claimNext(db, dialect, { nodeId: 'dead-node', now: clock.now(), leaseMs: 10_000, kinds: ['test'] });
    clock.advance(10_001);
    assert.equal(await server.runner.runOnce(), undefined);
    const row = await findJob(db, job.publicId);
    assert.equal(row?.state, 'failed');
    assert.equal(JSON.parse(row!.error!).code, 'lease_expired');
  });

  test('concurrent claims never take the same job', async () => {
    const { db, dialect } = server.ctx;
    for (let i = 0; i < 6; i++) await enqueue(db, clock.now(), { kind: 'test', payload: { i } });
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        claimNext(db, dialect, { nodeId: `n${i}`, now: clock.now(), leaseMs: 10_000, kinds: ['test'] }),
      ),
    );
    const taken = claims.filter((c) => c !== undefined).map((c) => c.public_id);
    assert.equal(taken.length, 6);
    assert.equal(new Set(taken).size, 6);
  });

  test('jobs of kinds without a handler are left for a runner that has one', async () => {
    const { db } = server.ctx;
    const other = await enqueue(db, clock.now(), { kind: 'someone-else' });
    assert.equal(await server.runner.runOnce(), undefined);
    assert.equal((await findJob(db, other.publicId))?.state, 'queued');
  });

  test('GET /jobs/{id}?wait= answers when the job ends, with its steps and result', async () => {
    const { db } = server.ctx;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runner = new JobRunner(server.ctx, { pollMs: 20 });
    runner.register('slow', async (run) => {
      await run.step({ name: 'store', state: 'succeeded', ms: 1 });
      await gate;
      return { image: 'sha256:aa' };
    });
    runner.start();
    try {
      const job = await enqueue(db, clock.now(), { kind: 'slow' });
      server.ctx.jobSignals.enqueued();
      const quick = await server.api.get<JobView>(`/api/v1/jobs/${job.publicId}`);
      assert.equal(quick.status, 200);
      assert.ok(['queued', 'running'].includes(quick.body.state));
      const started = Date.now();
      const waiting = server.api.get<JobView & { url: string }>(`/api/v1/jobs/${job.publicId}?wait=20`);
      setTimeout(release, 300);
      const done = await waiting;
      const took = Date.now() - started;
      assert.equal(done.status, 200);
      assert.equal(done.body.state, 'succeeded');
      assert.deepEqual(done.body.result, { image: 'sha256:aa' });
      assert.deepEqual(done.body.steps, [{ name: 'store', state: 'succeeded', ms: 1 }]);
      assert.equal(done.body.url, `/api/v1/jobs/${job.publicId}`);
      assert.ok(took >= 250 && took < 5_000, `answered when the job ended (${took} ms)`);
    } finally {
      release();
      await runner.stop();
    }
  });

  test('GET /jobs/{id}?wait= on a queued job answers after the wait with the job still queued', async () => {
    const job = await enqueue(server.ctx.db, clock.now(), { kind: 'nobody-runs-this' });
    const started = Date.now();
    const res = await server.api.get<JobView>(`/api/v1/jobs/${job.publicId}?wait=1`);
    assert.equal(res.body.state, 'queued');
    assert.ok(Date.now() - started >= 900);
  });

  test('jobs: bad wait, unknown ids and missing credentials are problem documents', async () => {
    const job = await enqueue(server.ctx.db, clock.now(), { kind: 'test' });
    for (const wait of ['61', '-1', 'soon', '1.5']) {
      const res = await server.api.get(`/api/v1/jobs/${job.publicId}?wait=${wait}`);
      assert.equal(res.status, 400, wait);
    }
    assert.equal((await server.api.get(`/api/v1/jobs/job_${'0'.repeat(26)}`)).status, 404);
    assert.equal((await server.api.get('/api/v1/jobs/not-a-job')).status, 404);
    assert.equal((await server.api.get(`/api/v1/jobs/${job.publicId}`, { token: null })).status, 401);
    assert.equal((await server.api.get(`/api/v1/jobs/${job.publicId}`, { token: 'lading_nope' })).status, 401);
  });

  test('the newest job by dedupe key, finished ones included, is found through an index (0008), not a scan', async () => {
    const { db } = server.ctx;
    for (let i = 0; i < 50; i++) {
      const job = await enqueue(db, clock.now(), { kind: 'test', dedupeKey: `ingest:sha256:${i}` });
      await db.updateTable('jobs').set({ state: 'succeeded' }).where('id', '=', job.id).execute();
    }
    // the shape of ingest's lookup (accept.ts): the newest job of a key that did not fail
    const lookup = db
      .selectFrom('jobs')
      .select(['id', 'public_id', 'state'])
      .where('dedupe_key', '=', 'ingest:sha256:7')
      .where('state', 'not in', ['failed', 'canceled'])
      .orderBy('id', 'desc')
      .limit(1)
      .compile();
    const plan = await db.transaction().execute(async (trx) => {
      if (database === 'postgres') {
        // a 50-row table is cheaper to scan: ask whether the index CAN serve the lookup
        await sql`set local enable_seqscan = off`.execute(trx);
        const rows = await trx.executeQuery(CompiledQuery.raw(`explain ${lookup.sql}`, [...lookup.parameters]));
        return JSON.stringify(rows.rows);
      }
      const rows = await trx.executeQuery(
        CompiledQuery.raw(`explain query plan ${lookup.sql}`, [...lookup.parameters]),
      );
      return JSON.stringify(rows.rows);
    });
    assert.match(plan, /jobs_dedupe_idx/);
  });
});
