// The queue mechanism rebuild checks stand on (jobs/queue.ts `releasedWhenStarted`), on both engines, with no runner
// running: one queued job per key; a running job that released its key lets the next enqueue make a follow-up; a job
// about to be retried takes the key back unless a follow-up holds it; on PostgreSQL an enqueue that joined a live
// job holds the release back until it commits (the job then reads what the enqueuer wrote), and the graphile job
// gets no job_key (graphile would strip a locked job with the same key of its retries).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import {
  claimNext,
  type EnqueueInput,
  enqueue,
  type JobLease,
  type JobRow,
  releaseDedupeKey,
  retakeDedupeKey,
} from '../src/jobs/queue.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const KIND = 'release.test';
const KEY = 'release:1';
const INPUT: EnqueueInput = { kind: KIND, dedupeKey: KEY, releasedWhenStarted: true, payload: { n: 1 } };

forEachDatabase((database) => {
  describe('a dedupe key released when the job starts', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        runJobs: false,
        jobHandlers: (runner) => runner.register(KIND, async () => ({})),
      });
    });
    after(() => server.close());
    beforeEach(async () => {
      await server.ctx.db.deleteFrom('jobs').execute();
      if (database === 'postgres') await sql`delete from graphile_worker._private_jobs`.execute(server.ctx.db);
    });

    const now = () => server.ctx.now();
    const claim = async (): Promise<{ row: JobRow; lease: JobLease }> => {
      const row = await claimNext(server.ctx.db, server.ctx.dialect, {
        nodeId: 'node-a',
        now: now(),
        leaseMs: 60_000,
        kinds: [KIND],
      });
      assert.ok(row, 'a job to claim');
      return { row, lease: { id: row.id, attempts: row.attempts, nodeId: 'node-a' } };
    };
    const keys = async () =>
      (await server.ctx.db.selectFrom('jobs').select(['id', 'state', 'dedupe_key']).orderBy('id').execute()).map(
        (j) => [j.id, j.state, j.dedupe_key],
      );

    it('joins the queued job; after the running job released its key, queues one follow-up', async () => {
      const first = await enqueue(server.ctx.db, now(), INPUT);
      assert.equal((await enqueue(server.ctx.db, now(), INPUT)).id, first.id);
      const { lease } = await claim();
      // running, key held: an enqueue still joins it (it has not read anything yet)
      const joined = await enqueue(server.ctx.db, now(), INPUT);
      assert.deepEqual([joined.id, joined.created, joined.state], [first.id, false, 'running']);

      assert.equal(await releaseDedupeKey(server.ctx.db, lease), true);
      const next = await enqueue(server.ctx.db, now(), INPUT);
      assert.equal(next.created, true);
      assert.equal((await enqueue(server.ctx.db, now(), INPUT)).id, next.id, 'one queued follow-up');
      assert.deepEqual(await keys(), [
        [first.id, 'running', null],
        [next.id, 'queued', KEY],
      ]);
      // the running job's retry cannot take the key from the follow-up
      assert.equal(await retakeDedupeKey(server.ctx.db, lease, KEY), false);
      // and a lease that is not the job's releases nothing
      assert.equal(await releaseDedupeKey(server.ctx.db, { ...lease, attempts: 2 }), false);
    });

    it('a job about to be retried takes its key back when no follow-up holds it', async () => {
      const first = await enqueue(server.ctx.db, now(), INPUT);
      const { lease } = await claim();
      assert.equal(await releaseDedupeKey(server.ctx.db, lease), true);
      assert.equal(await retakeDedupeKey(server.ctx.db, lease, KEY), true);
      assert.deepEqual(await keys(), [[first.id, 'running', KEY]]);
      assert.equal((await enqueue(server.ctx.db, now(), INPUT)).id, first.id, 'an enqueue joins the retry');
    });

    if (database === 'postgres') {
      it('gives the graphile job no job_key', async () => {
        const job = await enqueue(server.ctx.db, now(), INPUT);
        const rows = await sql<{ key: string | null; payload: string }>`
          select key, payload::text as payload from graphile_worker._private_jobs`.execute(server.ctx.db);
        assert.deepEqual(
          rows.rows.map((r) => [r.key, JSON.parse(r.payload).jobId]),
          [[null, job.id]],
        );
      });

      it("an enqueue that joined the job holds the job's release until it commits", async () => {
        await enqueue(server.ctx.db, now(), INPUT);
        const { lease } = await claim();
        let joinedIt!: () => void;
        const joined = new Promise<void>((resolve) => {
          joinedIt = resolve;
        });
        let commit!: () => void;
        const committed = new Promise<void>((resolve) => {
          commit = resolve;
        });
        const writer = server.ctx.db.transaction().execute(async (trx) => {
          const result = await enqueue(trx, now(), INPUT);
          assert.equal(result.created, false);
          joinedIt();
          await committed;
        });
        await joined;
        let released = false;
        const release = releaseDedupeKey(server.ctx.db, lease).then((ok) => {
          released = true;
          return ok;
        });
        // the release is an UPDATE of the row the writer share-locked: it waits for a lock (pg_stat_activity)
        const deadline = Date.now() + 10_000;
        for (;;) {
          const waiting = await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`.execute(server.ctx.db);
          if ((waiting.rows[0]?.n ?? 0) > 0) break;
          assert.ok(Date.now() < deadline, 'the release never waited');
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(released, false);
        commit();
        await writer;
        assert.equal(await release, true);
      });
    }
  });
});
