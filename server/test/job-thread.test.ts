// The embedded mode's job thread: jobs run in a worker_threads Worker with its own connection, wake-ups cross
// between the threads both ways (an enqueue wakes the runner at once; a finished job wakes a long-poll), a CPU-bound
// handler does not stall HTTP, and the thread does the node's background duties. The default for role all on both
// engines; on PostgreSQL graphile-worker runs the jobs inside the thread.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { resolveConfig } from '../src/config.js';
import { acceptBundle } from '../src/ingest/accept.js';
import { listNodes } from '../src/jobs/nodes.js';
import { enqueue, findJob } from '../src/jobs/queue.js';
import { JobSignals } from '../src/jobs/signals.js';
import { silentLogger } from '../src/log.js';
import { type ServerNode, startServerNode } from '../src/node.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';

test('an enqueue signalled while the runner was busy claiming is not slept through', async () => {
  const signals = new JobSignals();
  const seen = signals.enqueueCount;
  signals.enqueued(); // lands while the runner is between reading the count and starting to wait
  const started = Date.now();
  await signals.nextEnqueue(5_000, undefined, seen);
  assert.ok(Date.now() - started < 100);
  // with nothing new since, it waits (here: for the timeout)
  const again = Date.now();
  await signals.nextEnqueue(150, undefined, signals.enqueueCount);
  assert.ok(Date.now() - again >= 140);
});

const HANDLERS = new URL('./fixtures/thread-handlers.ts', import.meta.url).href;

forEachDatabase((database) => {
  let db: TestDatabase;
  let node: ServerNode;
  let dataDir: string;
  before(async () => {
    db = await openTestDatabase(database);
    dataDir = mkdtempSync(join(tmpdir(), 'lading-thread-'));
    const base = resolveConfig({ dataDir, listen: '127.0.0.1:0', role: 'all' }, {}, dataDir);
    node = await startServerNode(
      { ...base, database: db.target, logLevel: 'silent' },
      {
        log: silentLogger,
        // no jobThread option: role all runs its jobs in the thread by default, on both engines
        extraHandlersModule: HANDLERS,
        // a poll this long means a job that runs at once was woken by the forwarded signal
        runner: { pollMs: 60_000 },
        heartbeatMs: 100,
      },
    );
  });
  after(async () => {
    await node.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const submit = async (kind: string, payload: unknown = {}) => {
    const job = await node.ctx.db.transaction().execute((trx) => enqueue(trx, node.ctx.now(), { kind, payload }));
    node.ctx.jobSignals.enqueued();
    return job;
  };
  const finished = async (publicId: string, withinMs: number) => {
    const started = Date.now();
    let row = await findJob(node.ctx.db, publicId);
    while (row?.state !== 'succeeded' && row?.state !== 'failed' && Date.now() - started < withinMs) {
      await node.ctx.jobSignals.nextChange(publicId, 100);
      row = await findJob(node.ctx.db, publicId);
    }
    return row;
  };

  test('jobs run in the thread, which is a node of its own and registered every production kind', async () => {
    assert.equal(node.runner, undefined, 'no runner on the API thread');
    assert.ok(node.jobThread);
    assert.ok(node.jobThread.kinds.includes('ingest'));
    assert.ok(node.jobThread.kinds.includes('test.where'));
    const job = await submit('test.where');
    const row = await finished(job.publicId, 10_000);
    assert.equal(row?.state, 'succeeded');
    const result = JSON.parse(row.result ?? 'null') as { threadId: number; nodeId: string };
    assert.equal(result.threadId, node.jobThread.threadId);
    assert.notEqual(result.threadId, 0, 'not the main thread');
    assert.equal(result.nodeId, node.jobThread.nodeId);
    assert.equal(row.locked_by, null);
    await node.services.round();
    const nodes = (await listNodes(node.ctx.db)).map((n) => [n.id, n.role]);
    assert.deepEqual(
      nodes.sort(),
      [
        [node.ctx.nodeId, 'all'],
        [node.jobThread.nodeId, 'worker'],
      ].sort(),
    );
    if (database === 'postgres') {
      // graphile-worker ran it inside the thread: its job is gone, and the thread's node records its worker ids for
      // the janitor (a killed node's locks are force-unlocked by them); the API thread runs no graphile
      assert.equal(node.graphile, undefined);
      const left = await sql<{ n: number }>`select count(*)::int as n from graphile_worker._private_jobs
          where (payload->>'jobId')::bigint = ${row.id}`.execute(node.ctx.db);
      assert.equal(left.rows[0]?.n, 0);
      const ids = await node.ctx.db.selectFrom('nodes').select(['id', 'graphile_worker_ids']).execute();
      const byId = new Map(ids.map((n) => [n.id, n.graphile_worker_ids]));
      assert.equal(byId.get(node.ctx.nodeId), null);
      assert.ok((JSON.parse(byId.get(node.jobThread.nodeId) ?? '[]') as string[]).length > 0);
    }
  });

  test('an enqueue wakes the thread at once and the finished job wakes a waiter here (no 60 s poll)', async () => {
    const started = Date.now();
    // it runs for 300 ms, so the wait below is in place before the job ends
    const job = await submit('test.busy', { ms: 300 });
    // graphile-worker (PostgreSQL) also signals the start; each wait is woken by a change, never by its timeout
    let row = await findJob(node.ctx.db, job.publicId);
    while (row?.state === 'queued' || row?.state === 'running') {
      await node.ctx.jobSignals.nextChange(job.publicId, 30_000);
      row = await findJob(node.ctx.db, job.publicId);
    }
    assert.equal(row?.state, 'succeeded');
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  test('a CPU-bound handler in the thread does not stall HTTP on the API thread', async () => {
    const job = await submit('test.busy', { ms: 2_000 });
    // wait until the thread is spinning
    for (let i = 0; i < 100 && (await findJob(node.ctx.db, job.publicId))?.state !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      const response = await fetch(`${node.url}/healthz`);
      assert.equal(response.status, 200);
      latencies.push(Date.now() - t);
    }
    const row = await finished(job.publicId, 15_000);
    assert.equal(row?.state, 'succeeded');
    // the five requests were answered while the 2 s spin ran
    assert.ok(Math.max(...latencies) < 500, `healthz took ${latencies.join(', ')} ms`);
    assert.ok(row.finished_at! - row.started_at! >= 1_900);
  });

  test("an ingest's acceptance is written by the thread, the one writer: HTTP never sleeps on SQLite's lock", async () => {
    // This thread's heartbeat (every 100 ms here, 15 s by default) is its other writer: stopped, so that only the
    // acceptance could wait on the lock below (close() stopping it again is harmless).
    await node.services.stop();
    const hold = await submit('test.hold-write', { ms: 1_500 });
    for (let i = 0; i < 100 && (await findJob(node.ctx.db, hold.publicId))?.state !== 'running'; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // the handler is inside its transaction now (it begins right after the claim)
    await new Promise((r) => setTimeout(r, 200));
    const sha256 = 'c0'.repeat(32);
    const digest = `sha256:${'d1'.repeat(32)}`;
    // made through the API thread's connection, as the ingest route does; the first latency counts from here
    let t = Date.now();
    const accepting = acceptBundle(node.ctx.db, {
      metadata: { repository: 'registry.example/acme/one-writer', digest, tags: ['1.0'], track: 'default' },
      parts: [
        {
          name: 'report',
          kind: 'report-lading',
          mediaType: 'application/vnd.lading.report+json',
          filename: null,
          sha256,
          size: 2,
          created: true,
        },
      ],
      now: node.ctx.now(),
      createdBy: 'system',
    });
    // While the thread holds the write lock, the acceptance waits in the thread's queue, asynchronously. Made on
    // this thread's own connection it would wait in SQLite's busy handler, which sleeps this thread's event loop.
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${node.url}/healthz`);
      assert.equal(response.status, 200);
      latencies.push(Date.now() - t);
      await new Promise((r) => setTimeout(r, 50));
      t = Date.now();
    }
    const answer = await accepting;
    assert.ok(Math.max(...latencies) < 500, `healthz took ${latencies.join(', ')} ms`);
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body.artifacts, [{ kind: 'report-lading', sha256, size: 2, new: true }]);
    // durable before the answer: the job and the artifact row are there, bound to each other
    const job = await findJob(node.ctx.db, answer.body.job.id);
    assert.equal(job?.kind, 'ingest');
    const artifact = await node.ctx.db
      .selectFrom('artifacts')
      .select('first_job_id')
      .where('sha256', '=', sha256)
      .executeTakeFirstOrThrow();
    assert.equal(artifact.first_job_id, job?.id);
    assert.equal((await finished(hold.publicId, 10_000))?.state, 'succeeded');
    // the blob was never stored: stop the ingest job from retrying while the node closes
    await node.ctx.db.updateTable('jobs').set({ state: 'canceled' }).where('id', '=', job!.id).execute();
  });
});
