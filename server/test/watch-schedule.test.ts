// The registry.watch schedule enqueues only when there is something to poll (a watch, or a pull still waiting for
// its tags), on both engines: a tick with nothing to do is consumed without a job row (so `jobs` does not grow by a
// row a minute on a server that watches nothing), and each tick is still decided exactly once, by one caller,
// however many race for it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fireDueSchedules, parseSchedules, scheduleKey } from '../src/jobs/schedules.js';
import { SCHEDULES } from '../src/node.js';
import { REGISTRY_WATCH } from '../src/watch/index.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';

const at = (iso: string) => Date.parse(iso);

forEachDatabase((database) => {
  describe('the registry.watch tick', () => {
    let db: TestDatabase;
    let repositoryId = 0;
    before(async () => {
      db = await openTestDatabase(database);
      const repo = await db.db
        .insertInto('repositories')
        .values({
          public_id: 'repo_watched',
          name: 'registry.example:5000/acme/watched',
          name_lc: 'registry.example:5000/acme/watched',
          team_id: null,
          source_repo: null,
          archived_at: null,
          purge_after: null,
          created_at: at('2026-11-23T12:00:00Z'),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      repositoryId = Number(repo.id);
    });
    after(async () => {
      await db?.close();
    });

    // the real schedule, as the nodes run it
    const schedules = parseSchedules(SCHEDULES.filter((s) => s.name === REGISTRY_WATCH));
    const watchJobs = async () =>
      (await db.db.selectFrom('jobs').select(['id', 'state']).where('kind', '=', REGISTRY_WATCH).execute()).length;
    const lastTick = async () =>
      Number(
        (
          await db.db
            .selectFrom('settings')
            .select('updated_at')
            .where('key', '=', scheduleKey(REGISTRY_WATCH))
            .executeTakeFirstOrThrow()
        ).updated_at,
      );
    const finishWatchJobs = () =>
      db.db.updateTable('jobs').set({ state: 'succeeded' }).where('kind', '=', REGISTRY_WATCH).execute();

    test('enqueues nothing while nothing is watched, once a minute while something is, and each tick once', async () => {
      assert.equal(schedules.length, 1);
      assert.deepEqual(await fireDueSchedules(db.db, at('2026-11-23T12:00:10Z'), schedules), []);
      // no watch: the tick is taken, no job row
      assert.deepEqual(await fireDueSchedules(db.db, at('2026-11-23T12:01:05Z'), schedules), []);
      assert.equal(await lastTick(), at('2026-11-23T12:01:00Z'));
      assert.equal(await watchJobs(), 0);

      await db.db
        .insertInto('repository_watches')
        .values({
          repository_id: repositoryId,
          interval_seconds: 300,
          next_poll_at: at('2026-11-23T12:01:00Z'),
          last_polled_at: null,
          last_error: null,
          updated_at: at('2026-11-23T12:01:00Z'),
          created_at: at('2026-11-23T12:01:00Z'),
        })
        .execute();
      // the 12:01 tick was decided already (without a job): a watch added within it does not fire it again
      assert.deepEqual(await fireDueSchedules(db.db, at('2026-11-23T12:01:30Z'), schedules), []);
      assert.equal(await watchJobs(), 0);
      // the next tick enqueues, once, however many callers race for it
      const race = await Promise.all(
        [1, 2, 3, 4].map(() => fireDueSchedules(db.db, at('2026-11-23T12:02:01Z'), schedules)),
      );
      assert.equal(race.flat().length, 1);
      assert.equal(await watchJobs(), 1);
      await finishWatchJobs();
      assert.equal((await fireDueSchedules(db.db, at('2026-11-23T12:03:00Z'), schedules)).length, 1);
      assert.equal(await watchJobs(), 2);
      await finishWatchJobs();

      // the watch removed while one of its pulls still waits for its tags: the ticks go on until it is applied
      await db.db.deleteFrom('repository_watches').execute();
      await db.db
        .insertInto('registry_pulls')
        .values({
          repository_id: repositoryId,
          digest: `sha256:${'ef'.repeat(32)}`,
          state: 'queued',
          job_id: null,
          attempts: 1,
          last_error: null,
          updated_at: at('2026-11-23T12:03:00Z'),
          created_at: at('2026-11-23T12:03:00Z'),
        })
        .execute();
      assert.equal((await fireDueSchedules(db.db, at('2026-11-23T12:04:00Z'), schedules)).length, 1);
      assert.equal(await watchJobs(), 3);
      await finishWatchJobs();
      await db.db.updateTable('registry_pulls').set({ state: 'ingested' }).execute();
      assert.deepEqual(await fireDueSchedules(db.db, at('2026-11-23T12:05:00Z'), schedules), []);
      assert.equal(await lastTick(), at('2026-11-23T12:05:00Z'));
      assert.equal(await watchJobs(), 3);
    });
  });
});
