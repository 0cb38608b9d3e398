// graphile-worker specifics on PostgreSQL (the shared behaviour is in job-contract.test.ts): its schema comes with
// `migrate` and re-running it is harmless; an enqueue adds exactly one graphile job carrying our row's id, its
// dedupe key and run_at; and the nodes janitor force-unlocks a dead node's graphile workers, so its job runs on a
// live worker at once (graphile alone would wait 4 hours), or is recorded failed when the dead worker had its last
// attempt; a node whose process is gone (no connection left) is found dead after two missed heartbeats.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/migrate.js';
import { GRAPHILE_APPLICATION_PREFIX, startGraphileRunner } from '../src/jobs/graphile.js';
import { heartbeat, listNodes, releaseDeadNodes } from '../src/jobs/nodes.js';
import { enqueue, findJob, type JobRow } from '../src/jobs/queue.js';
import { startTestServer, type TestServer } from './helpers/server.js';

interface GraphileJobRow {
  id: string;
  task_identifier: string;
  payload: string;
  key: string | null;
  max_attempts: number;
  attempts: number;
  run_at: Date;
  locked_by: string | null;
}

let server: TestServer;
let runs: { attempt: number }[] = [];

before(async () => {
  server = await startTestServer({
    database: 'postgres',
    runJobs: false,
    jobHandlers: (runner) =>
      runner.register('graphile.test', async (run) => {
        runs.push({ attempt: run.job.attempts });
        return { attempt: run.job.attempts };
      }),
  });
});
after(() => server.close());
beforeEach(async () => {
  runs = [];
  await server.ctx.db.deleteFrom('jobs').execute();
  await server.ctx.db.deleteFrom('nodes').execute();
  await sql`delete from graphile_worker._private_jobs`.execute(server.ctx.db);
});

const graphileJobs = async (): Promise<GraphileJobRow[]> =>
  (
    await sql<GraphileJobRow>`select j.id, t.identifier as task_identifier, j.payload::text as payload, j.key,
        j.max_attempts, j.attempts, j.run_at, j.locked_by
      from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      order by j.id`.execute(server.ctx.db)
  ).rows;

async function waitForJob(publicId: string, done: (row: JobRow) => boolean): Promise<JobRow> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const row = await findJob(server.ctx.db, publicId);
    if (row && done(row)) return row;
    if (Date.now() > deadline) throw new Error(`job ${publicId} is still ${row?.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("migrate installs graphile-worker's schema, and running it again changes nothing", async () => {
  const before = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.migrations`.execute(
    server.ctx.db,
  );
  assert.ok((before.rows[0]?.n ?? 0) > 10);
  assert.deepEqual((await migrateToLatest(server.ctx.db, 'postgres')).applied, []);
  const again = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.migrations`.execute(
    server.ctx.db,
  );
  assert.equal(again.rows[0]?.n, before.rows[0]?.n);
});

test('an enqueue adds one graphile job with our id, the dedupe key, run_at and a spare attempt', async () => {
  const runAt = Date.parse('2030-01-02T03:04:05.000Z');
  const job = await server.ctx.db
    .transaction()
    .execute((trx) =>
      enqueue(trx, server.ctx.now(), { kind: 'graphile.test', dedupeKey: 'k:1', runAt, maxAttempts: 3 }),
    );
  const again = await enqueue(server.ctx.db, server.ctx.now(), { kind: 'graphile.test', dedupeKey: 'k:1' });
  assert.equal(again.created, false);
  const rows = await graphileJobs();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.task_identifier, 'graphile.test');
  assert.deepEqual(JSON.parse(rows[0]!.payload), { jobId: job.id });
  assert.equal(rows[0]?.key, 'k:1');
  assert.equal(rows[0]?.max_attempts, 4);
  assert.equal(rows[0]?.run_at.getTime(), runAt);
});

test("the janitor force-unlocks a dead node's graphile workers: its job runs on a live worker at once", async () => {
  const t0 = server.ctx.now();
  await heartbeat(
    server.ctx.db,
    { id: 'node-dead', role: 'worker', version: 'test', graphileWorkerIds: ['w-dead'] },
    t0,
  );
  assert.deepEqual(
    (await server.ctx.db.selectFrom('nodes').select('graphile_worker_ids').execute()).map((n) => n.graphile_worker_ids),
    ['["w-dead"]'],
  );
  const held = await enqueue(server.ctx.db, t0, { kind: 'graphile.test', payload: {} });
  const lastTry = await enqueue(server.ctx.db, t0, { kind: 'graphile.test', payload: {}, maxAttempts: 2 });
  // what a worker that died mid-job leaves: locked graphile jobs (attempt counted) and running rows
  await sql`update graphile_worker._private_jobs set locked_by = 'w-dead', locked_at = now(),
      attempts = case when (payload->>'jobId')::bigint = ${lastTry.id} then 2 else 1 end`.execute(server.ctx.db);
  await server.ctx.db
    .updateTable('jobs')
    .set((eb) => ({ state: 'running', locked_by: 'node-dead', attempts: eb.ref('max_attempts') }))
    .execute();
  await server.ctx.db.updateTable('jobs').set({ attempts: 1 }).where('id', '=', held.id).execute();
  const runner = await startGraphileRunner(server.ctx, server.runner, { pollMs: 100 });
  try {
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(runs.length, 0, 'locked jobs wait');
    const outcome = await releaseDeadNodes(server.ctx.db, t0 + 61_000, 60_000, 'node-live');
    assert.deepEqual(outcome, { deadNodes: ['node-dead'], releasedJobs: 2, unlockedWorkers: ['w-dead'] });
    const done = await waitForJob(held.publicId, (r) => r.state === 'succeeded');
    assert.equal(done.attempts, 2);
    assert.equal(done.locked_by, null);
    // the dead worker had the last allowed attempt: graphile's spare attempt records it failed, without a run
    const failed = await waitForJob(lastTry.publicId, (r) => r.state === 'failed');
    assert.deepEqual(JSON.parse(failed.error ?? 'null'), {
      code: 'lease_expired',
      message: 'the worker running the last attempt stopped',
    });
    assert.deepEqual(runs, [{ attempt: 2 }]);
    assert.deepEqual(await listNodes(server.ctx.db), []);
    assert.deepEqual(await graphileJobs(), []);
  } finally {
    await runner.stop();
  }
});

test('a silent graphile node whose connections are gone is dead after two heartbeats, not after staleMs', async () => {
  const t0 = server.ctx.now();
  const node = (id: string) => ({ id, role: 'worker' as const, version: 'test', graphileWorkerIds: [`pool-${id}`] });
  for (const id of ['node-gone', 'node-alive']) await heartbeat(server.ctx.db, node(id), t0);
  // a plain node (no graphile pool) is judged by its heartbeat only
  await heartbeat(server.ctx.db, { id: 'node-api', role: 'api', version: 'test' }, t0);
  const target = server.ctx.config.database;
  assert.equal(target.kind, 'postgres');
  const alive = new pg.Client({
    connectionString: target.kind === 'postgres' ? target.url : '',
    application_name: `${GRAPHILE_APPLICATION_PREFIX}node-alive`,
  });
  await alive.connect();
  try {
    const early = await releaseDeadNodes(server.ctx.db, t0 + 20_000, 60_000, 'node-self', { suspectMs: 30_000 });
    assert.deepEqual(early.deadNodes, [], 'one missed heartbeat is not enough');
    const outcome = await releaseDeadNodes(server.ctx.db, t0 + 31_000, 60_000, 'node-self', { suspectMs: 30_000 });
    assert.deepEqual(outcome.deadNodes, ['node-gone']);
    assert.deepEqual(outcome.unlockedWorkers, ['pool-node-gone']);
    assert.deepEqual(
      (await listNodes(server.ctx.db)).map((n) => n.id),
      ['node-alive', 'node-api'],
    );
    // past staleMs the heartbeat decides, connection or not
    const late = await releaseDeadNodes(server.ctx.db, t0 + 61_000, 60_000, 'node-self', { suspectMs: 30_000 });
    assert.deepEqual([...late.deadNodes].sort(), ['node-alive', 'node-api']);
  } finally {
    await alive.end();
  }
});

test('startTestServer on PostgreSQL runs jobs on graphile: an enqueue wakes it by NOTIFY, `?wait=` sees the end', async () => {
  // a poll interval longer than the test: only graphile's LISTEN/NOTIFY can wake the worker
  let lockedBy: string[] = [];
  const live = await startTestServer({
    database: 'postgres',
    runner: { pollMs: 600_000 },
    jobHandlers: (runner) =>
      runner.register('graphile.harness', async (run) => {
        // while the handler runs, graphile holds its job for this row
        const held = await sql<{ locked_by: string }>`select locked_by from graphile_worker._private_jobs
            where (payload->>'jobId')::bigint = ${run.job.id} and locked_by is not null`.execute(live.ctx.db);
        lockedBy = held.rows.map((r) => r.locked_by);
        return { ran: run.job.attempts };
      }),
  });
  try {
    assert.ok(live.graphile, 'graphile-worker runs the jobs');
    assert.ok(live.graphile.workerIds().length > 0);
    // graphile's worker LISTENs once it started; give it that moment before the NOTIFY
    await new Promise((r) => setTimeout(r, 300));
    const job = await live.ctx.db
      .transaction()
      .execute((trx) => enqueue(trx, live.ctx.now(), { kind: 'graphile.harness', payload: {} }));
    const started = Date.now();
    const res = await live.api.get<{ state: string; result: unknown }>(`/api/v1/jobs/${job.publicId}?wait=20`);
    const elapsed = Date.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'succeeded');
    assert.deepEqual(res.body.result, { ran: 1 });
    assert.ok(elapsed < 10_000, `answered after ${elapsed} ms`);
    // graphile ran it (one of this server's graphile workers held it), and dropped its own job after
    assert.equal(lockedBy.length, 1);
    assert.ok(live.graphile.workerIds().includes(lockedBy[0]!), `${lockedBy[0]} is this server's worker`);
    const left = await sql<{ n: number }>`select count(*)::int as n from graphile_worker._private_jobs`.execute(
      live.ctx.db,
    );
    assert.equal(left.rows[0]?.n, 0);
    // stopJobs / startJobs: a stopped worker leaves the job queued, a started one runs it
    await live.stopJobs();
    assert.equal(live.graphile, undefined);
    const queued = await enqueue(live.ctx.db, live.ctx.now(), { kind: 'graphile.harness', payload: {} });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await findJob(live.ctx.db, queued.publicId))?.state, 'queued');
    await live.startJobs();
    const later = await live.api.get<{ state: string }>(`/api/v1/jobs/${queued.publicId}?wait=20`);
    assert.equal(later.body.state, 'succeeded');
  } finally {
    await live.close();
  }
});
