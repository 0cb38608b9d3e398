// More than one node (issue 18): cron parsing, schedules that fire each tick exactly once however many nodes race
// for it (and a tick missed while down runs once), heartbeats and the janitor that releases a dead node's jobs,
// roles, and the real thing: two server processes on one database, one of them killed with SIGKILL mid-job (on
// PostgreSQL the jobs run on graphile-worker, whose lock the janitor must force open).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';
import { resolveConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { parseCron, previousTick } from '../src/jobs/cron.js';
import { heartbeat, listNodes, releaseDeadNodes } from '../src/jobs/nodes.js';
import { claimNext, enqueue, findJob } from '../src/jobs/queue.js';
import { fireDueSchedules, parseSchedules } from '../src/jobs/schedules.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_STALE_MS } from '../src/jobs/services.js';
import { silentLogger } from '../src/log.js';
import { startServerNode } from '../src/node.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';

const at = (iso: string): number => Date.parse(iso);

async function sequentially<T>(steps: readonly (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const step of steps) out.push(await step());
  return out;
}

test('previousTick finds the latest matching minute at or before now (UTC)', () => {
  const daily = parseCron('0 3 * * *');
  assert.equal(previousTick(daily, at('2026-11-23T12:00:00Z')), at('2026-11-23T03:00:00Z'));
  assert.equal(previousTick(daily, at('2026-11-23T03:00:00Z')), at('2026-11-23T03:00:00Z'));
  assert.equal(previousTick(daily, at('2026-11-23T02:59:59Z')), at('2026-11-22T03:00:00Z'));
  const quarter = parseCron('*/15 * * * *');
  assert.equal(previousTick(quarter, at('2026-11-23T12:44:59Z')), at('2026-11-23T12:30:00Z'));
  // Monday 06:00 (the weekly summary); 2026-11-23 is a Monday
  const weekly = parseCron('0 6 * * 1');
  assert.equal(previousTick(weekly, at('2026-11-29T23:00:00Z')), at('2026-11-23T06:00:00Z'));
  assert.equal(previousTick(parseCron('0 6 * * 7'), at('2026-11-23T12:00:00Z')), at('2026-11-22T06:00:00Z'));
  // lists, ranges and a range with a step
  assert.equal(previousTick(parseCron('10,40 8-9 * * *'), at('2026-11-23T12:00:00Z')), at('2026-11-23T09:40:00Z'));
  assert.equal(previousTick(parseCron('0 1-23/6 * * *'), at('2026-11-23T12:00:00Z')), at('2026-11-23T07:00:00Z'));
  // both day fields restricted: either matches (15th of the month OR a Friday)
  assert.equal(previousTick(parseCron('0 0 15 * 5'), at('2026-11-23T12:00:00Z')), at('2026-11-20T00:00:00Z'));
  // 29 February: a leap year back
  assert.equal(previousTick(parseCron('0 0 29 2 *'), at('2026-11-23T12:00:00Z')), at('2024-02-29T00:00:00Z'));
  assert.equal(previousTick(parseCron('0 0 31 2 *'), at('2026-11-23T12:00:00Z')), undefined);
});

test("with the default timings a killed worker's job is free again well within two minutes", () => {
  // the janitor runs every heartbeat: a node is found dead at most one period after it went stale, and the job is
  // claimed by the survivor's runner at once (the janitor wakes it)
  assert.ok(DEFAULT_STALE_MS + DEFAULT_HEARTBEAT_MS <= 90_000);
  assert.equal(
    resolveConfig({}, {}, '/tmp').jobs.leaseMs,
    60_000,
    'and without any janitor the lease runs out in 60 s',
  );
});

test('lading-server refuses an unknown role with one line and exit code 2, before touching any database', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'lading-role-flag-'));
  try {
    const result = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'server/bin/lading-server.mjs'), 'start', '--role', 'scheduler'],
      { cwd, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.stderr, 'lading-server: role "scheduler" is not one of api, worker, all\n');
    assert.equal(result.stdout, '');
    assert.equal(existsSync(join(cwd, 'lading-data', 'lading.db')), false);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('cron expressions outside the supported form are refused with a one-line reason', () => {
  for (const [text, reason] of [
    ['0 3 * *', /five fields/],
    ['61 * * * *', /minute field "61" is out of range/],
    ['0 3 * * MON', /day of week field "MON" is not understood/],
    ['*/0 * * * *', /out of range/],
    ['5-1 * * * *', /out of range/],
  ] as const) {
    assert.throws(
      () => parseCron(text),
      (error: Error) => reason.test(error.message) && !error.message.includes('\n'),
    );
  }
  assert.throws(
    () =>
      parseSchedules([
        { name: 'a', cron: '* * * * *', kind: 'x' },
        { name: 'a', cron: '0 * * * *', kind: 'y' },
      ]),
    /listed twice/,
  );
});

forEachDatabase((database) => {
  let db: TestDatabase;
  // a second connection (pool) to the same database: another node
  let other: Awaited<ReturnType<typeof openDatabase>>;
  before(async () => {
    db = await openTestDatabase(database);
    other = await openDatabase(db.target, { poolSize: 4 });
  });
  after(async () => {
    await other.close();
    await db.close();
  });
  beforeEach(async () => {
    await db.db.deleteFrom('jobs').execute();
    await db.db.deleteFrom('settings').execute();
    await db.db.deleteFrom('nodes').execute();
    // graphile's copies of the jobs deleted above
    if (database === 'postgres') await sql`delete from graphile_worker._private_jobs`.execute(db.db);
  });

  const schedules = parseSchedules([
    { name: 'daily', cron: '0 3 * * *', kind: 'test.daily', payload: { what: 'update' } },
    { name: 'hourly', cron: '0 * * * *', kind: 'test.hourly' },
  ]);
  const jobsOf = (kind: string) =>
    db.db.selectFrom('jobs').selectAll().where('kind', '=', kind).orderBy('id').execute();

  test('a schedule seen first records its tick without firing; each later tick fires once', async () => {
    assert.deepEqual(await fireDueSchedules(db.db, at('2026-11-23T12:30:00Z'), schedules), []);
    assert.equal((await jobsOf('test.daily')).length, 0);
    // nothing new within the same hour
    assert.deepEqual(await fireDueSchedules(db.db, at('2026-11-23T12:59:00Z'), schedules), []);
    const fired = await fireDueSchedules(db.db, at('2026-11-23T13:00:05Z'), schedules);
    assert.deepEqual(
      fired.map((f) => [f.name, new Date(f.tick).toISOString()]),
      [['hourly', '2026-11-23T13:00:00.000Z']],
    );
    assert.deepEqual(await fireDueSchedules(db.db, at('2026-11-23T13:30:00Z'), schedules), []);
    const daily = await fireDueSchedules(db.db, at('2026-11-24T03:00:00Z'), schedules);
    assert.deepEqual(daily.map((f) => f.name).sort(), ['daily', 'hourly']);
    const [job] = await jobsOf('test.daily');
    assert.equal(job?.payload && JSON.parse(job.payload).what, 'update');
    assert.equal(job?.created_by, 'system');
  });

  test('ticks missed while every node was down run once at the next start, not once per tick', async () => {
    await fireDueSchedules(db.db, at('2026-11-23T12:30:00Z'), schedules);
    // a week and a half later
    const fired = await fireDueSchedules(db.db, at('2026-12-03T09:10:00Z'), schedules);
    assert.deepEqual(fired.map((f) => [f.name, new Date(f.tick).toISOString()]).sort(), [
      ['daily', '2026-12-03T03:00:00.000Z'],
      ['hourly', '2026-12-03T09:00:00.000Z'],
    ]);
    assert.equal((await jobsOf('test.daily')).length, 1);
    assert.equal((await jobsOf('test.hourly')).length, 1);
  });

  test('nodes racing for the same tick enqueue it exactly once', async () => {
    await fireDueSchedules(db.db, at('2026-11-23T12:30:00Z'), schedules);
    for (let hour = 13; hour <= 18; hour++) {
      const now = at(`2026-11-23T${hour}:00:01Z`);
      const race = [db.db, other.db, db.db, other.db].map((node) => () => fireDueSchedules(node, now, schedules));
      // PostgreSQL: truly concurrent. SQLite: one after another, since better-sqlite3 waits for a lock synchronously
      // and two connections in ONE thread would wait on each other (separate processes race in the test below)
      const results = database === 'postgres' ? await Promise.all(race.map((f) => f())) : await sequentially(race);
      assert.equal(results.flat().length, 1, `hour ${hour}`);
      // the run finishes before the next tick (else the next tick is deduplicated into it)
      await db.db.updateTable('jobs').set({ state: 'succeeded', finished_at: now }).execute();
    }
    assert.equal((await jobsOf('test.hourly')).length, 6);
  });

  test('a tick whose previous run is still queued adds no second job', async () => {
    await fireDueSchedules(db.db, at('2026-11-23T12:30:00Z'), schedules);
    const first = await fireDueSchedules(db.db, at('2026-11-23T13:00:00Z'), schedules);
    const second = await fireDueSchedules(db.db, at('2026-11-23T14:00:00Z'), schedules);
    assert.equal(first[0]?.job.created, true);
    assert.equal(second[0]?.job.created, false);
    assert.equal(second[0]?.job.id, first[0]?.job.id);
    assert.equal((await jobsOf('test.hourly')).length, 1);
  });

  test('the janitor releases the running jobs of a node whose heartbeat went stale, and only those', async () => {
    const t0 = at('2026-11-23T12:00:00Z');
    await heartbeat(db.db, { id: 'node-a', role: 'worker', version: 'test' }, t0);
    await heartbeat(db.db, { id: 'node-b', role: 'worker', version: 'test' }, t0);
    for (const n of [1, 2]) await enqueue(db.db, t0, { kind: 'test.work', payload: { n } });
    const a = await claimNext(db.db, db.dialect, {
      nodeId: 'node-a',
      now: t0,
      leaseMs: 3_600_000,
      kinds: ['test.work'],
    });
    const b = await claimNext(db.db, db.dialect, {
      nodeId: 'node-b',
      now: t0,
      leaseMs: 3_600_000,
      kinds: ['test.work'],
    });
    assert.ok(a && b);
    // b keeps beating, a went silent
    await heartbeat(db.db, { id: 'node-b', role: 'worker', version: 'test' }, t0 + 45_000);
    assert.deepEqual(await releaseDeadNodes(db.db, t0 + 50_000, 60_000, 'node-b'), { deadNodes: [], releasedJobs: 0 });
    const outcome = await releaseDeadNodes(db.db, t0 + 61_000, 60_000, 'node-b');
    assert.deepEqual(outcome, { deadNodes: ['node-a'], releasedJobs: 1 });
    assert.deepEqual(
      (await listNodes(db.db)).map((n) => n.id),
      ['node-b'],
    );
    // the released job is claimable at once, long before its hour-long lease ends; b's job is untouched
    const again = await claimNext(db.db, db.dialect, {
      nodeId: 'node-b',
      now: t0 + 61_000,
      leaseMs: 3_600_000,
      kinds: ['test.work'],
    });
    assert.equal(again?.id, a.id);
    assert.equal(again?.attempts, 2);
    assert.equal((await findJob(db.db, b.public_id))?.locked_by, 'node-b');
    // a node never declares itself dead
    assert.deepEqual(await releaseDeadNodes(db.db, t0 + 10 * 3_600_000, 60_000, 'node-b'), {
      deadNodes: [],
      releasedJobs: 0,
    });
  });

  test('roles: api serves the API and runs no jobs; worker runs jobs and answers only the probes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lading-role-'));
    const base = resolveConfig({ dataDir, listen: '127.0.0.1:0' }, {}, dataDir);
    const config = { ...base, database: db.target, logLevel: 'silent' as const };
    const api = await startServerNode({ ...config, role: 'api' }, { log: silentLogger, heartbeatMs: 50 });
    const worker = await startServerNode({ ...config, role: 'worker' }, { log: silentLogger, heartbeatMs: 50 });
    try {
      assert.equal(api.runner, undefined);
      assert.ok(worker.runner?.kinds.includes('ingest'));
      // PostgreSQL runs jobs on graphile-worker; SQLite on the table queue
      assert.equal(api.graphile, undefined);
      assert.equal(worker.graphile !== undefined, database === 'postgres');
      for (const node of [api, worker]) {
        assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
        assert.equal((await fetch(`${node.url}/readyz`)).status, 200);
      }
      // the API's routes answer on api (401 without a token), not on worker (404)
      assert.equal((await fetch(`${api.url}/api/v1/images`)).status, 401);
      assert.equal((await fetch(`${worker.url}/api/v1/images`)).status, 404);
      await api.services.round();
      await worker.services.round();
      assert.deepEqual((await listNodes(db.db)).map((n) => n.role).sort(), ['api', 'worker']);
      // the worker's graphile lockers are recorded for the janitor
      const recorded = await db.db
        .selectFrom('nodes')
        .select(['role', 'graphile_worker_ids'])
        .orderBy('role')
        .execute();
      assert.equal(recorded[0]?.graphile_worker_ids, null);
      assert.deepEqual(
        JSON.parse(recorded[1]?.graphile_worker_ids ?? 'null'),
        worker.graphile ? [...worker.graphile.workerIds()].sort() : null,
      );
    } finally {
      await api.close();
      await worker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    // a clean stop leaves nodes
    assert.deepEqual(await listNodes(db.db), []);
  });

  test('two server processes: a job whose worker is killed with SIGKILL finishes on the other; each cron tick runs once', {
    timeout: 150_000,
  }, async () => {
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'lading-node-')));
    // place a minute boundary (a cron tick) about 20 s after the processes start, on a clock both share
    const realStart = Date.now();
    const boundary = Math.ceil(realStart / 60_000) * 60_000 + 60_000;
    const clockOffsetMs = boundary - (realStart + 20_000);
    const virtualNow = () => Date.now() + clockOffsetMs;
    const children: ChildProcess[] = [];
    const ready = dirs.map(
      (dataDir) =>
        new Promise<{ child: ChildProcess; nodeId: string }>((resolve, reject) => {
          const options = {
            database: db.target.kind === 'sqlite' ? db.target.path : db.target.url,
            dataDir,
            role: 'worker',
            clockOffsetMs,
            heartbeatMs: 300,
            staleMs: 2_000,
            // an hour: recovery within seconds can only be the janitor's doing
            leaseMs: 3_600_000,
          };
          const child = spawn(
            process.execPath,
            [
              '--conditions=source',
              '--import',
              'tsx',
              join(REPO_ROOT, 'server/test/fixtures/node-process.ts'),
              JSON.stringify(options),
            ],
            { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
          );
          children.push(child);
          let out = '';
          let err = '';
          child.stdout?.on('data', (chunk) => {
            out += String(chunk);
            const match = /^ready (\S+) /m.exec(out);
            if (match) resolve({ child, nodeId: match[1]! });
          });
          child.stderr?.on('data', (chunk) => {
            err += String(chunk);
          });
          child.on('exit', (code, signal) => reject(new Error(`node exited (${code ?? signal}) before ready: ${err}`)));
        }),
    );
    try {
      const nodes = await Promise.all(ready);
      const job = await enqueue(db.db, virtualNow(), { kind: 'test.hang-once' });
      // wait until one node holds it, then kill that node without warning
      let holder: string | null = null;
      for (let i = 0; i < 200 && !holder; i++) {
        holder = (await findJob(db.db, job.publicId))?.locked_by ?? null;
        if (!holder) await new Promise((r) => setTimeout(r, 50));
      }
      const victim = nodes.find((n) => n.nodeId === holder);
      const survivor = nodes.find((n) => n.nodeId !== holder);
      assert.ok(victim && survivor, `the job is held by ${holder}`);
      if (database === 'postgres') {
        // graphile holds it, locked by one of the ids the victim recorded: only the janitor's unlock frees it
        const locker = await sql<{ locked_by: string | null }>`select locked_by from graphile_worker.jobs
          where task_identifier = 'test.hang-once'`.execute(db.db);
        const victimRow = await db.db
          .selectFrom('nodes')
          .select('graphile_worker_ids')
          .where('id', '=', victim.nodeId)
          .executeTakeFirstOrThrow();
        assert.equal(locker.rows.length, 1);
        assert.ok(JSON.parse(victimRow.graphile_worker_ids ?? '[]').includes(locker.rows[0]?.locked_by));
      }
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      let finished = await findJob(db.db, job.publicId);
      while (finished?.state !== 'succeeded' && Date.now() - killedAt < 120_000) {
        await new Promise((r) => setTimeout(r, 100));
        finished = await findJob(db.db, job.publicId);
      }
      const tookMs = Date.now() - killedAt;
      assert.equal(finished?.state, 'succeeded', `the job is ${finished?.state} ${tookMs} ms after the kill`);
      assert.ok(tookMs < 120_000);
      assert.deepEqual(JSON.parse(finished.result ?? 'null'), { node: survivor.nodeId, attempt: 2 });
      if (database === 'postgres') {
        const left = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs
          where task_identifier = 'test.hang-once'`.execute(db.db);
        assert.equal(left.rows[0]?.n, 0, 'graphile dropped the finished job');
      }
      assert.deepEqual(
        (await listNodes(db.db)).map((n) => n.id),
        [survivor.nodeId],
      );
      // the cron tick placed after start (or, on a slow start, the next one): fired by exactly one node, and run
      let ticks = await jobsOf('test.tick');
      while (ticks.filter((t) => t.state === 'succeeded').length === 0 && Date.now() - realStart < 100_000) {
        await new Promise((r) => setTimeout(r, 200));
        ticks = await jobsOf('test.tick');
      }
      assert.ok(
        ticks.some((t) => t.state === 'succeeded'),
        'a cron tick ran',
      );
      const minutes = ticks.map((t) => Math.floor(t.created_at / 60_000));
      assert.equal(new Set(minutes).size, ticks.length, 'one job per tick');
      const tick = await db.db
        .selectFrom('settings')
        .select('updated_at')
        .where('key', '=', 'schedule:test-tick')
        .executeTakeFirstOrThrow();
      assert.equal(Math.floor(tick.updated_at / 60_000), Math.max(...minutes));
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(
        children.map((c) =>
          c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined,
        ),
      );
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
