// JobRun.completeIn (jobs/runner.ts): a handler records its job's success inside its own transaction, so the work
// and the completion are one commit (the ingest's reconcile does, ingest/process.ts). The runner then writes no
// completion of its own; if that transaction rolls back, the job is not succeeded and the runner records the
// failure as for any throw. Both engines (the table runner).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { enqueue, findJob } from '../src/jobs/queue.js';
import type { JobRun } from '../src/jobs/runner.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

forEachDatabase((database) => {
  let server: TestServer;
  let behaviour: (run: JobRun) => Promise<unknown> = async () => undefined;
  const clock = new TestClock(1_700_000_000_000);
  before(async () => {
    server = await startTestServer({
      database,
      clock,
      runJobs: false,
      jobHandlers: (runner) => runner.register('complete-in', (run) => behaviour(run)),
    });
  });
  after(async () => {
    await server.close();
  });

  it('completes the job in the handler transaction; the runner writes no completion after it', async () => {
    const { db } = server.ctx;
    behaviour = async (run) => {
      assert.ok(run.completeIn, 'the table runner offers completeIn');
      await db.transaction().execute(async (trx) => {
        assert.equal(await run.completeIn?.(trx, { in: 'transaction' }), true);
      });
      // a different return value: had the runner completed the job again, this would be the stored result
      return { after: 'commit' };
    };
    const job = await enqueue(db, clock.now(), { kind: 'complete-in', createdBy: 'system' });
    await server.runner.runOnce();
    const row = await findJob(db, job.publicId);
    assert.equal(row?.state, 'succeeded');
    assert.deepEqual(JSON.parse(row?.result ?? 'null'), { in: 'transaction' });
    assert.equal(row?.locked_by, null);
  });

  it('a completion whose transaction rolls back leaves the job to the failure path', async () => {
    const { db } = server.ctx;
    behaviour = async (run) => {
      await db.transaction().execute(async (trx) => {
        await run.completeIn?.(trx, { in: 'transaction' });
        throw new Error('the reconcile failed after the completion was written');
      });
    };
    const job = await enqueue(db, clock.now(), { kind: 'complete-in', createdBy: 'system', maxAttempts: 2 });
    await server.runner.runOnce();
    const row = await findJob(db, job.publicId);
    assert.equal(row?.state, 'queued');
    assert.equal(row?.attempts, 1);
    assert.equal(row?.result, null);
    assert.deepEqual(JSON.parse(row?.error ?? 'null'), {
      code: 'internal_error',
      message: 'the reconcile failed after the completion was written',
    });
  });
});
