// Group commit of acceptances (ingest/accept.ts groupAccepts), the embedded mode's writer on the job thread: the
// acceptances waiting together are written in ONE transaction (one fsync), each answered only after that commit,
// with its rows durable; a replay inside the group sees the job its group-mate just created; a group that fails is
// retried one acceptance per transaction, so one bad bundle fails alone. Both engines.
import assert from 'node:assert/strict';
import { after, before, it, test } from 'node:test';
import { gateWriteTransactions, writeTransaction } from '../src/db/connection.js';
import { groupAccepts } from '../src/ingest/accept.js';
import { validateMetadata } from '../src/ingest/metadata.js';
import type { StoredPart } from '../src/ingest/multipart.js';
import { findJob } from '../src/jobs/queue.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';

const metadataFor = (n: number) =>
  validateMetadata({
    repository: `registry.example:5000/acme/group-${n}`,
    digest: `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`,
    tags: ['1.0'],
  });

const part = (sha256: string): StoredPart => ({
  name: 'sbom',
  kind: 'sbom-spdx',
  mediaType: 'application/spdx+json',
  filename: null,
  sha256,
  size: 10,
  created: true,
});

forEachDatabase((database) => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase(database);
  });
  after(async () => {
    await db.close();
  });

  it('writes the acceptances waiting together in one transaction, each answered after it with its rows committed', async () => {
    const groups = groupAccepts(db.db);
    const inputs = [1, 2, 3, 4].map((n) => ({
      metadata: metadataFor(n),
      parts: [part(n.toString(16).padStart(2, '0').repeat(32))],
      now: 1_000,
      createdBy: 'system',
    }));
    // the same bundle twice in one group: the second is a replay of the job the first just created
    const answers = await Promise.all([...inputs, ...inputs.slice(0, 1)].map((input) => groups.accept(input)));
    assert.equal(groups.commits, 1);
    assert.deepEqual(
      answers.map((a) => a.status),
      [202, 202, 202, 202, 200],
    );
    assert.equal(answers[4]?.body.job.id, answers[0]?.body.job.id);
    assert.equal(new Set(answers.slice(0, 4).map((a) => a.body.job.id)).size, 4);
    for (const answer of answers) {
      const job = await findJob(db.db, answer.body.job.id);
      assert.equal(job?.state, 'queued');
    }
    const artifacts = await db.db.selectFrom('artifacts').select(['sha256', 'first_job_id']).execute();
    assert.equal(artifacts.length, 4);
    assert.ok(artifacts.every((a) => a.first_job_id !== null));
    await groups.settled();
  });

  it('acceptances arriving while a group is being written form the next group', async () => {
    const groups = groupAccepts(db.db);
    const first = groups.accept({ metadata: metadataFor(10), parts: [], now: 2_000, createdBy: 'system' });
    await Promise.resolve(); // the first group has started
    await Promise.resolve();
    const later = [11, 12, 13].map((n) =>
      groups.accept({ metadata: metadataFor(n), parts: [], now: 2_000, createdBy: 'system' }),
    );
    const answers = await Promise.all([first, ...later]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [202, 202, 202, 202],
    );
    assert.equal(groups.commits, 2);
  });

  it('a group that fails is retried one by one: the bad acceptance fails alone, the others are committed', async () => {
    const groups = groupAccepts(db.db);
    const good = [20, 21].map((n) => ({ metadata: metadataFor(n), parts: [], now: 3_000, createdBy: 'system' }));
    // a part without a kind breaks the artifacts row's NOT NULL constraint
    const bad = {
      metadata: metadataFor(22),
      parts: [{ ...part('22'.repeat(32)), kind: null as unknown as StoredPart['kind'] }],
      now: 3_000,
      createdBy: 'system',
    };
    const outcomes = await Promise.allSettled(
      [...good.slice(0, 1), bad, ...good.slice(1)].map((i) => groups.accept(i)),
    );
    assert.equal(outcomes[0]?.status, 'fulfilled');
    assert.equal(outcomes[1]?.status, 'rejected');
    assert.equal(outcomes[2]?.status, 'fulfilled');
    // the group's failed transaction, then one transaction each
    assert.equal(groups.commits, 4);
    for (const outcome of [outcomes[0], outcomes[2]]) {
      assert.ok(outcome?.status === 'fulfilled');
      assert.equal((await findJob(db.db, outcome.value.body.job.id))?.state, 'queued');
    }
    const badJob = await db.db
      .selectFrom('artifacts')
      .select('sha256')
      .where('sha256', '=', '22'.repeat(32))
      .executeTakeFirst();
    assert.equal(badJob, undefined);
  });
});

test('SQLite: a job transaction asked for while acceptances wait starts after their commit (accepts first)', async () => {
  const db = await openTestDatabase('sqlite');
  try {
    const groups = groupAccepts(db.db);
    gateWriteTransactions(db.db, groups.written);
    const order: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // a job's transaction is running; meanwhile an acceptance arrives, then the next job asks for its transaction
    const running = writeTransaction(db.db, 'sqlite', async () => {
      order.push('running job');
      await held;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const first = groups
      .accept({ metadata: metadataFor(30), parts: [], now: 4_000, createdBy: 'system' })
      .then(() => order.push('first group committed'));
    await new Promise((resolve) => setImmediate(resolve));
    // the first group is queued for the connection; this one waits to form the next group
    const second = groups
      .accept({ metadata: metadataFor(31), parts: [], now: 4_000, createdBy: 'system' })
      .then(() => order.push('second group committed'));
    // without the gate, this would queue for the connection before the second group does
    const nextJob = writeTransaction(db.db, 'sqlite', async () => {
      order.push('next job');
    });
    release();
    await Promise.all([running, first, second, nextJob]);
    assert.deepEqual(order, ['running job', 'first group committed', 'second group committed', 'next job']);
    assert.equal(groups.commits, 2);
    // with nothing waiting, a job's transaction does not wait
    await writeTransaction(db.db, 'sqlite', async () => {
      order.push('idle job');
    });
    assert.equal(order.at(-1), 'idle job');
  } finally {
    gateWriteTransactions(db.db, undefined);
    await db.close();
  }
});
