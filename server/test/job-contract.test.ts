// One job contract, run against each runner (issue 18, "More than one node"): the table queue in the embedded mode's
// job thread (SQLite), the same table queue in the server process (SQLite `--role worker`), and graphile-worker on
// PostgreSQL. Each runner must give: an
// enqueue that is part of the caller's transaction (a rollback drops it), one live job per dedupe key, retries with
// the runner's backoff and `failed` after the last attempt, run_at in the future waits, and a cron tick missed while
// no worker ran is run once. Real databases, real runners, real time (the waits are a few seconds).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'kysely';
import { type GraphileRunner, graphileBackoffMs, startGraphileRunner } from '../src/jobs/graphile.js';
import { enqueue, exponentialBackoff, findJob, type JobRow } from '../src/jobs/queue.js';
import { fireDueSchedules, parseSchedules } from '../src/jobs/schedules.js';
import { startJobThread } from '../src/jobs/thread.js';
import { type ContractCall, CONTRACT_KIND as KIND, registerExtraHandlers } from './fixtures/contract-handlers.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const HANDLERS = new URL('./fixtures/contract-handlers.ts', import.meta.url).href;
// the handlers append their calls here, in whichever thread they run
const callsDir = mkdtempSync(join(tmpdir(), 'lading-contract-'));
const CALLS = join(callsDir, 'calls.jsonl');
process.env.LADING_TEST_CONTRACT_CALLS = CALLS;
after(() => rmSync(callsDir, { recursive: true, force: true }));

const readCalls = (): ContractCall[] =>
  existsSync(CALLS)
    ? readFileSync(CALLS, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as ContractCall)
    : [];
const clearCalls = () => writeFileSync(CALLS, '');

interface ContractRunner {
  readonly name: string;
  readonly database: 'sqlite' | 'postgres';
  /** The delay this runner waits after a failed attempt n. */
  readonly backoffMs: (attempt: number) => number;
  /** Starts running jobs; returns the stop. */
  start(server: TestServer): Promise<() => Promise<void>>;
  /** Jobs the runner still holds for execution (its own queue, not the `jobs` record). */
  pending(server: TestServer): Promise<number>;
}

const tableBackoff = exponentialBackoff(1_000, 60_000);

const tablePending = async (server: TestServer) =>
  (await server.ctx.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length;

const RUNNERS: readonly ContractRunner[] = [
  {
    name: "the table queue in the embedded mode's job thread (SQLite)",
    database: 'sqlite',
    // the thread's runner has the default backoff: 1 s × 2^(attempt−1)
    backoffMs: exponentialBackoff(1_000, 600_000),
    start: async (server) => {
      const thread = await startJobThread(server.ctx, {
        config: server.ctx.config,
        version: 'test',
        schedules: [],
        runner: { pollMs: 50 },
        extraHandlersModule: HANDLERS,
      });
      return () => thread.stop();
    },
    pending: tablePending,
  },
  {
    name: 'the table queue in the server process (SQLite, --role worker)',
    database: 'sqlite',
    backoffMs: tableBackoff,
    start: async (server) => {
      server.runner.start();
      return () => server.runner.stop();
    },
    pending: tablePending,
  },
  {
    name: 'graphile-worker (PostgreSQL)',
    database: 'postgres',
    backoffMs: graphileBackoffMs,
    start: async (server) => {
      const runner: GraphileRunner = await startGraphileRunner(server.ctx, server.runner, { pollMs: 100 });
      return () => runner.stop();
    },
    pending: async (server) => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs`.execute(
        server.ctx.db,
      );
      return rows[0]?.n ?? 0;
    },
  },
];

async function waitForJob(
  server: TestServer,
  publicId: string,
  done: (row: JobRow) => boolean,
  timeoutMs = 30_000,
): Promise<JobRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await findJob(server.ctx.db, publicId);
    if (row && done(row)) return row;
    if (Date.now() > deadline) throw new Error(`job ${publicId} is still ${row?.state} (attempt ${row?.attempts})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const contract of RUNNERS) {
  describe(`job contract: ${contract.name}`, () => {
    let server: TestServer;
    let stop: (() => Promise<void>) | undefined;
    const startRunner = async () => {
      stop = await contract.start(server);
    };
    const stopRunner = async () => {
      await stop?.();
      stop = undefined;
    };

    before(async () => {
      server = await startTestServer({
        database: contract.database,
        runJobs: false,
        runner: { backoffMs: tableBackoff, pollMs: 50 },
        jobHandlers: (runner, ctx) => registerExtraHandlers(runner, ctx),
      });
    });
    after(async () => {
      await stopRunner();
      await server.close();
    });
    beforeEach(async () => {
      await stopRunner();
      clearCalls();
    });

    test('an enqueue rolled back with its transaction never runs; a committed one does', async () => {
      await startRunner();
      const { db } = server.ctx;
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await enqueue(trx, server.ctx.now(), { kind: KIND, payload: { n: 'rolled back' } });
          throw new Error('the business rows failed');
        }),
        /business rows failed/,
      );
      const made = await db
        .transaction()
        .execute((trx) => enqueue(trx, server.ctx.now(), { kind: KIND, payload: { n: 'committed' } }));
      server.ctx.jobSignals.enqueued();
      const row = await waitForJob(server, made.publicId, (r) => r.state === 'succeeded');
      assert.deepEqual(JSON.parse(row.result ?? 'null'), { ok: true, payload: { n: 'committed' } });
      // give a rolled-back job every chance to show up
      await sleep(500);
      assert.deepEqual(
        readCalls().map((c) => c.payload),
        [{ n: 'committed' }],
      );
      assert.equal(await contract.pending(server), 0);
    });

    test('one live job per dedupe key, run once; a finished job frees the key', async () => {
      const { db } = server.ctx;
      const now = server.ctx.now();
      const first = await enqueue(db, now, { kind: KIND, dedupeKey: 'contract:key', payload: { n: 1 } });
      const burst = await Promise.all(
        [2, 3, 4].map((n) => enqueue(db, now, { kind: KIND, dedupeKey: 'contract:key', payload: { n } })),
      );
      assert.equal(first.created, true);
      assert.deepEqual(
        burst.map((b) => [b.created, b.publicId]),
        burst.map(() => [false, first.publicId]),
      );
      assert.equal(await contract.pending(server), 1);
      await startRunner();
      server.ctx.jobSignals.enqueued();
      await waitForJob(server, first.publicId, (r) => r.state === 'succeeded');
      await sleep(300);
      assert.deepEqual(
        readCalls().map((c) => c.payload),
        [{ n: 1 }],
      );
      const again = await enqueue(db, server.ctx.now(), { kind: KIND, dedupeKey: 'contract:key', payload: { n: 5 } });
      assert.equal(again.created, true);
      server.ctx.jobSignals.enqueued();
      await waitForJob(server, again.publicId, (r) => r.state === 'succeeded');
      assert.deepEqual(
        readCalls().map((c) => c.payload),
        [{ n: 1 }, { n: 5 }],
      );
    });

    test("a throwing handler is retried after the runner's backoff; after the last attempt the job is failed", async () => {
      await startRunner();
      const { db } = server.ctx;
      const flaky = await enqueue(db, server.ctx.now(), { kind: KIND, payload: { n: 'flaky', mode: 'flaky' } });
      server.ctx.jobSignals.enqueued();
      // between the attempts the record says why and when the next one is due
      const between = await waitForJob(server, flaky.publicId, (r) => r.attempts === 1 && r.state === 'queued');
      assert.deepEqual(JSON.parse(between.error ?? 'null'), { code: 'internal_error', message: 'flaky upstream' });
      const firstCall = readCalls()[0]!;
      assert.ok(between.run_at - firstCall.at >= contract.backoffMs(1) * 0.9, 'run_at carries the backoff');
      const done = await waitForJob(server, flaky.publicId, (r) => r.state === 'succeeded');
      assert.equal(done.attempts, 2);
      assert.deepEqual(JSON.parse(done.result ?? 'null'), { attempt: 2 });
      const [one, two] = readCalls();
      const gap = two!.at - one!.at;
      assert.deepEqual([one?.attempt, two?.attempt], [1, 2]);
      assert.ok(gap >= contract.backoffMs(1) * 0.9, `the retry waited ${gap} ms`);

      clearCalls();
      const broken = await enqueue(db, server.ctx.now(), {
        kind: KIND,
        maxAttempts: 2,
        payload: { n: 'broken', mode: 'broken' },
      });
      server.ctx.jobSignals.enqueued();
      const failed = await waitForJob(server, broken.publicId, (r) => r.state === 'failed');
      assert.equal(failed.attempts, 2);
      assert.deepEqual(JSON.parse(failed.error ?? 'null'), { code: 'internal_error', message: 'always broken' });
      assert.equal(readCalls().length, 2);

      clearCalls();
      const hopeless = await enqueue(db, server.ctx.now(), {
        kind: KIND,
        payload: { n: 'hopeless', mode: 'hopeless' },
      });
      server.ctx.jobSignals.enqueued();
      const refused = await waitForJob(server, hopeless.publicId, (r) => r.state === 'failed');
      assert.equal(refused.attempts, 1, 'a failure that is not retryable ends the job at once');
      assert.deepEqual(JSON.parse(refused.error ?? 'null'), {
        code: 'bad_input',
        message: 'the payload names no image',
      });
      await sleep(300);
      assert.equal(readCalls().length, 1);
      // nothing is left behind in the runner's own queue
      assert.equal(await contract.pending(server), 0);
    });

    test('a job with run_at in the future waits for it', async () => {
      await startRunner();
      const runAt = server.ctx.now() + 2_500;
      const later = await enqueue(server.ctx.db, server.ctx.now(), { kind: KIND, runAt, payload: { n: 'later' } });
      server.ctx.jobSignals.enqueued();
      await sleep(1_200);
      assert.equal((await findJob(server.ctx.db, later.publicId))?.state, 'queued');
      assert.equal(readCalls().length, 0);
      await waitForJob(server, later.publicId, (r) => r.state === 'succeeded');
      const ran = readCalls()[0]!.at;
      assert.ok(ran >= runAt - 50, `ran ${runAt - ran} ms early`);
    });

    test('cron ticks missed while no worker ran are run once when one is back', async () => {
      const schedules = parseSchedules([
        { name: 'contract-daily', cron: '0 3 * * *', kind: KIND, payload: { n: 'daily' } },
      ]);
      const { db } = server.ctx;
      await db.deleteFrom('settings').where('key', '=', 'schedule:contract-daily').execute();
      // last seen ten days ago; every worker was down since
      assert.deepEqual(await fireDueSchedules(db, server.ctx.now() - 10 * 86_400_000, schedules), []);
      const fired = await fireDueSchedules(db, server.ctx.now(), schedules);
      assert.equal(fired.length, 1);
      assert.deepEqual(await fireDueSchedules(db, server.ctx.now(), schedules), []);
      await startRunner();
      server.ctx.jobSignals.enqueued();
      await waitForJob(server, fired[0]!.job.publicId, (r) => r.state === 'succeeded');
      await sleep(500);
      assert.deepEqual(
        readCalls().map((c) => c.payload),
        [{ n: 'daily' }],
      );
    });
  });
}
