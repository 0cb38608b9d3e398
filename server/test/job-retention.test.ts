// Job retention (jobs/prune.ts), on both engines: the daily `jobs.prune` deletes succeeded, failed and canceled jobs
// that finished longer ago than the retention, in batches; a job within the retention, a queued or running job
// however old, a parent whose child remains and the ingest job of a registry pull still queued all stay. An ingest
// replay within the retention still answers with its job (200); once that job is past the retention and pruned, the
// same bundle is ingested again (202). On PostgreSQL, graphile-worker jobs that used up their attempts go too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ConfigError, resolveConfig } from '../src/config.js';
import { decodeJson } from '../src/db/dialect.js';
import type { JobState } from '../src/db/schema.js';
import { acceptHere } from '../src/ingest/accept.js';
import { validateMetadata } from '../src/ingest/metadata.js';
import { GRAPHILE_SCHEMA } from '../src/jobs/graphile.js';
import { JOBS_PRUNE, pruneFinishedJobs, registerPruneJobs } from '../src/jobs/prune.js';
import { enqueue, findJob } from '../src/jobs/queue.js';
import { SCHEDULES } from '../src/node.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const DAY = 86_400_000;

describe('the jobs.prune schedule and its setting', () => {
  it('is listed daily', () => {
    assert.deepEqual(
      SCHEDULES.find((s) => s.kind === JOBS_PRUNE),
      { name: JOBS_PRUNE, cron: '15 4 * * *', kind: JOBS_PRUNE },
    );
  });
  it('keeps 30 days unless LADING_JOB_RETENTION_DAYS says otherwise, and refuses a value that is not a day count', () => {
    assert.equal(resolveConfig({}, {}, '/srv').jobs.retentionDays, 30);
    assert.equal(resolveConfig({}, { LADING_JOB_RETENTION_DAYS: '7' }, '/srv').jobs.retentionDays, 7);
    for (const bad of ['0', '-3', '1.5', 'month']) {
      assert.throws(
        () => resolveConfig({}, { LADING_JOB_RETENTION_DAYS: bad }, '/srv'),
        (e: unknown) =>
          e instanceof ConfigError && /LADING_JOB_RETENTION_DAYS must be a positive integer/.test(e.message),
      );
    }
  });
});

forEachDatabase((database) => {
  describe('job retention', () => {
    const clock = new TestClock();
    let server: TestServer;

    before(async () => {
      server = await startTestServer({
        database,
        clock,
        runJobs: false,
        config: {
          jobs: { ...resolveConfig({}, {}, '/srv').jobs, pollMs: 50, retentionDays: 30 },
        },
        jobHandlers: (runner, ctx) => registerPruneJobs(runner, ctx),
      });
    });
    after(async () => {
      await server?.close();
    });

    /** A job row as the queue leaves it, `finishedDaysAgo` before the clock (null: never finished). */
    async function job(
      state: JobState,
      createdDaysAgo: number,
      finishedDaysAgo: number | null,
      extra: { parentId?: number; dedupeKey?: string } = {},
    ): Promise<number> {
      const now = clock.now();
      const made = await enqueue(server.ctx.db, now - createdDaysAgo * DAY, {
        kind: 'test.retained',
        ...(extra.parentId === undefined ? {} : { parentId: extra.parentId }),
        ...(extra.dedupeKey === undefined ? {} : { dedupeKey: extra.dedupeKey }),
      });
      await server.ctx.db
        .updateTable('jobs')
        .set({
          state,
          created_at: now - createdDaysAgo * DAY,
          started_at: state === 'queued' ? null : now - createdDaysAgo * DAY,
          finished_at: finishedDaysAgo === null ? null : now - finishedDaysAgo * DAY,
          locked_by: state === 'running' ? 'node-x' : null,
          lease_until: state === 'running' ? now + 60_000 : null,
        })
        .where('id', '=', made.id)
        .execute();
      return made.id;
    }

    const exists = async (id: number) =>
      (await server.ctx.db.selectFrom('jobs').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

    it('deletes finished jobs past the retention, in batches, and keeps what is recent, live or still needed', async () => {
      const oldSucceeded = await job('succeeded', 45, 40);
      const oldFailed = await job('failed', 32, 31);
      const oldCanceled = await job('canceled', 60, null); // canceled while queued: never started nor finished
      const manyOld = [];
      for (let i = 0; i < 7; i++) manyOld.push(await job('succeeded', 50, 35));
      // finished 29 days ago, though created long before: age counts from the end
      const recent = await job('succeeded', 90, 29);
      const running = await job('running', 90, null);
      const queued = await job('queued', 90, null);
      const parent = await job('succeeded', 60, 59);
      const child = await job('succeeded', 10, 9, { parentId: parent });
      // a registry-watch pull whose ingest job failed long ago, still `queued`: the next poll reads that job's state
      const pulledJob = await job('failed', 40, 40);
      const repo = await server.ctx.db
        .insertInto('repositories')
        .values({
          public_id: 'repo_retention',
          name: 'registry.example:5000/acme/retention',
          name_lc: 'registry.example:5000/acme/retention',
          team_id: null,
          source_repo: null,
          archived_at: null,
          purge_after: null,
          created_at: clock.now(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await server.ctx.db
        .insertInto('registry_pulls')
        .values({
          repository_id: repo.id,
          digest: `sha256:${'ab'.repeat(32)}`,
          state: 'queued',
          job_id: pulledJob,
          attempts: 1,
          last_error: null,
          updated_at: clock.now(),
          created_at: clock.now(),
        })
        .execute();

      const outcome = await pruneFinishedJobs(server.ctx.db, server.ctx.dialect, {
        now: clock.now(),
        retentionDays: 30,
        batchSize: 2,
      });
      assert.equal(outcome.deleted, 10);
      assert.equal(outcome.cutoff, clock.now() - 30 * DAY);
      for (const id of [oldSucceeded, oldFailed, oldCanceled, ...manyOld]) assert.equal(await exists(id), false);
      for (const id of [recent, running, queued, parent, child, pulledJob])
        assert.equal(await exists(id), true, `${id}`);
      // the running job is untouched (its lease and state), and runs on
      const live = await server.ctx.db
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', running)
        .executeTakeFirstOrThrow();
      assert.equal(live.state, 'running');
      assert.equal(live.locked_by, 'node-x');

      // once the pull is no longer waiting, its old job goes at the next prune; the child's parent waits for the child
      await server.ctx.db.updateTable('registry_pulls').set({ state: 'ingested' }).execute();
      const second = await pruneFinishedJobs(server.ctx.db, server.ctx.dialect, {
        now: clock.now(),
        retentionDays: 30,
      });
      assert.equal(second.deleted, 1);
      assert.equal(await exists(pulledJob), false);
      assert.equal(await exists(parent), true);
    });

    it('an ingest replay within the retention is answered with its job; past it, the bundle is ingested again', async () => {
      const metadata = validateMetadata({
        repository: 'registry.example:5000/acme/replayed',
        digest: `sha256:${'cd'.repeat(32)}`,
        tags: ['1.0'],
      });
      const first = await acceptHere(server.ctx.db, { metadata, parts: [], now: clock.now(), createdBy: 'system' });
      assert.equal(first.status, 202);
      const jobRow = await findJob(server.ctx.db, first.body.job.id);
      assert.ok(jobRow);
      // it finished 29 days ago
      await server.ctx.db
        .updateTable('jobs')
        .set({ state: 'succeeded', finished_at: clock.now() - 29 * DAY })
        .where('id', '=', jobRow.id)
        .execute();
      await pruneFinishedJobs(server.ctx.db, server.ctx.dialect, { now: clock.now(), retentionDays: 30 });
      const replay = await acceptHere(server.ctx.db, { metadata, parts: [], now: clock.now(), createdBy: 'system' });
      assert.equal(replay.status, 200);
      assert.equal(replay.body.job.id, first.body.job.id);

      // two days on, the job is past the retention: pruned, and the same bundle is a new ingest
      clock.advance(2 * DAY);
      await pruneFinishedJobs(server.ctx.db, server.ctx.dialect, { now: clock.now(), retentionDays: 30 });
      assert.equal(await exists(jobRow.id), false);
      const again = await acceptHere(server.ctx.db, { metadata, parts: [], now: clock.now(), createdBy: 'system' });
      assert.equal(again.status, 202);
      assert.notEqual(again.body.job.id, first.body.job.id);
    });

    it('runs as the jobs.prune job with the configured retention', async () => {
      const old = await job('succeeded', 40, 31);
      const young = await job('failed', 40, 3);
      const queued = await enqueue(server.ctx.db, clock.now(), { kind: JOBS_PRUNE, createdBy: 'system' });
      // run as production does (graphile-worker on PostgreSQL) until the prune itself has ended
      await server.startJobs();
      try {
        const ended = await server.api.get<{ state: string }>(`/api/v1/jobs/${queued.publicId}?wait=30`);
        assert.equal(ended.body.state, 'succeeded', ended.text);
      } finally {
        await server.stopJobs();
      }
      const done = await findJob(server.ctx.db, queued.publicId);
      assert.equal(done?.state, 'succeeded');
      const result = decodeJson<{ deleted: number; before: string }>(done?.result ?? null);
      assert.ok(result);
      assert.ok(result.deleted >= 1);
      assert.equal(result.before, new Date(clock.now() - 30 * DAY).toISOString());
      assert.equal(await exists(old), false);
      assert.equal(await exists(young), true);
    });

    if (database === 'postgres') {
      it('deletes graphile-worker jobs that used up their attempts, and no other graphile job', async () => {
        const jobs = sql.id(GRAPHILE_SCHEMA, '_private_jobs');
        const added = await sql<{ id: string }>`select id from ${sql.id(GRAPHILE_SCHEMA)}.add_job(
            identifier => 'test.permafailed'::text, payload => '{"jobId":-1}'::json, max_attempts => 1::int)`.execute(
          server.ctx.db,
        );
        const permafailed = added.rows[0]?.id;
        await sql`update ${jobs} set attempts = max_attempts where id = ${permafailed}`.execute(server.ctx.db);
        const count = async () =>
          Number((await sql<{ n: string }>`select count(*) as n from ${jobs}`.execute(server.ctx.db)).rows[0]?.n ?? 0);
        const before = await count();
        assert.ok(before >= 2, 'the queued jobs of this suite have graphile jobs too');
        // a prune run as of a month from now (graphile stamps its rows with the database's own clock)
        const outcome = await pruneFinishedJobs(server.ctx.db, server.ctx.dialect, {
          now: Date.now() + 31 * DAY,
          retentionDays: 30,
        });
        assert.equal(outcome.graphileDeleted, 1);
        assert.equal(await count(), before - 1);
        const left = await sql`select id from ${jobs} where id = ${permafailed}`.execute(server.ctx.db);
        assert.equal(left.rows.length, 0);
      });
    }
  });
});
