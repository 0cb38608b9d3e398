// Rebuild checks that run while the repository changes, on both engines, with two jobs at a time and a webhook
// receiver that holds each request until the test answers it (so a check is stopped mid-send deterministically):
// an event during a check queues a follow-up check that sees what the event changed, and further events join that
// one queued check; an overlapping check leaves a trigger another live check is sending alone (neither a second
// request nor `unknown`); a check whose send fails while a follow-up is queued leaves the retry to that follow-up,
// and without one takes the repository's key back for its own retry.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { registerRebuildJobs, setRebuildTarget } from '../src/watch/index.js';
import { until } from './helpers/receivers.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const REPO = 'ghcr.io/acme/overlap';
const DIGEST_1 = `sha256:${'a1'.repeat(32)}`;
const DIGEST_2 = `sha256:${'b2'.repeat(32)}`;
const SECRET = 'rebuild-webhook-secret-0123456789';

interface HeldRequest {
  readonly digest: string;
  readonly cves: readonly string[];
  answered: boolean;
  answer(status: number): void;
}

/** A webhook receiver that answers nothing until the test says so: each request waits in `held`. */
interface GatedReceiver {
  readonly url: string;
  readonly held: HeldRequest[];
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

async function startGatedReceiver(): Promise<GatedReceiver> {
  const held: HeldRequest[] = [];
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { digest: string; cves: { id: string }[] };
      const request: HeldRequest = {
        digest: body.digest,
        cves: body.cves.map((c) => c.id),
        answered: false,
        answer(status) {
          request.answered = true;
          res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
        },
      };
      held.push(request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    waitFor: (count) => until(() => held.length >= count, `${count} webhook requests (got ${held.length})`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

forEachDatabase((database) => {
  describe('rebuild checks while the repository changes', () => {
    let server: TestServer;
    let receiver: GatedReceiver;
    let repositoryId: number;
    const imageIds = new Map<string, number>();
    const clock = new TestClock();

    const checks = () =>
      server.ctx.db
        .selectFrom('jobs')
        .select(['id', 'state', 'dedupe_key', 'result', 'error'])
        .where('kind', '=', 'rebuild.check')
        .orderBy('id')
        .execute();
    const triggers = () =>
      server.ctx.db
        .selectFrom('rebuild_triggers')
        .select(['id', 'image_digest', 'state', 'last_error'])
        .orderBy('id')
        .execute();

    /** One committed change to the repository: `change` and its event in one transaction, as the server writes. */
    async function event(type: string, change?: (trx: typeof server.ctx.db) => Promise<void>): Promise<void> {
      await server.ctx.db.transaction().execute(async (trx) => {
        await change?.(trx);
        await recordEvent(trx, { at: clock.now(), type, actor: SYSTEM_ACTOR, repositoryId });
      });
      server.ctx.jobSignals.enqueued();
    }

    /** Makes a finding of an image fixable HIGH: the image's fixable set, and so its trigger, is new. */
    const fixable = (vuln: string) => async (trx: typeof server.ctx.db) => {
      const vulnerability = await trx
        .selectFrom('vulnerabilities')
        .select('id')
        .where('vuln_id', '=', vuln)
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('findings')
        .set({ severity: 'HIGH', fixed_version: '9.9.9' })
        .where('vulnerability_id', '=', vulnerability.id)
        .execute();
    };

    /** Waits until no check is queued or running. */
    const settled = () =>
      until(async () => (await checks()).every((c) => !['queued', 'running'].includes(c.state)), 'the checks to end');

    before(async () => {
      receiver = await startGatedReceiver();
      server = await startTestServer({
        database,
        clock,
        config: { outbound: { allowPrivate: ['127.0.0.1'], smtpCaFile: undefined } },
        // two checks at a time: a follow-up runs beside the check it follows
        runner: { concurrency: 2, pollMs: 100 },
        jobHandlers: (runner, ctx) => registerRebuildJobs(runner, ctx),
      });
      const packages = [
        { purl: 'pkg:deb/debian/openssl@3.0.1', type: 'deb', name: 'openssl', version: '3.0.1' },
        { purl: 'pkg:deb/debian/zlib@1.2.11', type: 'deb', name: 'zlib', version: '1.2.11' },
      ];
      const seeded = await seedImages(server.ctx.db, [
        {
          digest: DIGEST_1,
          repository: REPO,
          at: clock.now(),
          tags: ['v1'],
          packages,
          findings: [
            { vuln: 'CVE-2026-2001', package: 'openssl', severity: 'HIGH', fixed: '3.0.2' },
            { vuln: 'CVE-2026-2003', package: 'zlib', severity: 'MEDIUM' },
            { vuln: 'CVE-2026-2004', package: 'zlib', severity: 'LOW' },
          ],
        },
        {
          // not published yet: no tag points at it
          digest: DIGEST_2,
          repository: REPO,
          at: clock.now(),
          current: false,
          packages,
          findings: [
            { vuln: 'CVE-2026-2002', package: 'zlib', severity: 'CRITICAL', fixed: '1.2.12' },
            { vuln: 'CVE-2026-2005', package: 'openssl', severity: 'MEDIUM' },
          ],
        },
      ]);
      repositoryId = seeded.repositoryIds.get(REPO)!;
      for (const [digest, id] of seeded.imageIds) imageIds.set(digest, id);
      await setRebuildTarget(
        server.ctx.db,
        server.ctx.secrets.key,
        repositoryId,
        { kind: 'webhook', url: `${receiver.url}/rebuild`, secret: SECRET },
        clock.now(),
      );
    });
    after(async () => {
      for (const request of receiver?.held ?? []) if (!request.answered) request.answer(200);
      await server?.close();
      await receiver?.close();
    });

    it('an event during a check queues a follow-up that sees it; later events join that queued check', async () => {
      await event('finding.new');
      // the first check is sending image 1's trigger, and holds there
      await receiver.waitFor(1);
      assert.equal(receiver.held[0]!.digest, DIGEST_1);
      const [first] = await checks();
      assert.equal(first?.state, 'running');
      assert.equal(first?.dedupe_key, null, 'a running check has released its key');

      // a tag now publishes image 2: committed while the first check runs, after it read the tags
      await event('tag.moved', async (trx) => {
        await trx
          .insertInto('tags')
          .values({
            repository_id: repositoryId,
            name: 'v2',
            current_image_id: imageIds.get(DIGEST_2)!,
            moved_at: clock.now(),
            created_at: clock.now(),
          })
          .execute();
      });
      // the follow-up runs beside it and asks for image 2
      await receiver.waitFor(2);
      assert.equal(receiver.held[1]!.digest, DIGEST_2);
      assert.deepEqual(receiver.held[1]!.cves, ['CVE-2026-2002']);
      assert.deepEqual(
        (await checks()).map((c) => c.state),
        ['running', 'running'],
      );

      // both slots busy: the next event queues one check, and the one after joins it
      await event('finding.new');
      await event('exception.created');
      const live = (await checks()).filter((c) => c.state === 'queued');
      assert.equal(live.length, 1, 'one queued check per repository');
      assert.equal(live[0]?.dedupe_key, `rebuild:${repositoryId}`);
      assert.equal((await checks()).length, 3);

      for (const request of receiver.held) request.answer(200);
      await settled();
      assert.deepEqual(
        (await checks()).map((c) => c.state),
        ['succeeded', 'succeeded', 'succeeded'],
      );
      // each trigger was asked for once: the third check found both sent
      assert.equal(receiver.held.length, 2);
      assert.deepEqual(
        (await triggers()).map((t) => [t.image_digest, t.state, t.last_error]),
        [
          [DIGEST_1, 'sent', null],
          [DIGEST_2, 'sent', null],
        ],
      );
    });

    it('an overlapping check leaves a trigger another live check is sending alone', async () => {
      const before = (await checks()).length;
      // image 1's fixable set grows: a new trigger
      await event('finding.new', fixable('CVE-2026-2003'));
      await receiver.waitFor(3);
      const request = receiver.held[2]!;
      assert.equal(request.digest, DIGEST_1);
      assert.deepEqual(request.cves, ['CVE-2026-2001', 'CVE-2026-2003']);
      const [holder] = (await checks()).slice(before);
      assert.equal(holder?.state, 'running');
      const sending = (await triggers()).find((t) => t.state === 'sending');
      assert.equal(sending?.last_error, `sending: job ${holder!.id}, attempt 1`);

      // a second check of the repository while the request is in flight: it leaves the trigger to its holder
      await event('finding.new');
      await until(async () => (await checks())[before + 1]?.state === 'succeeded', 'the overlapping check');
      const overlapping = (await checks())[before + 1]!;
      assert.deepEqual(JSON.parse(String(overlapping.result)).triggers, [{ digest: DIGEST_1, state: 'sending' }]);
      assert.equal((await triggers()).find((t) => t.id === sending!.id)?.state, 'sending', 'not taken for dead');
      assert.equal(receiver.held.length, 3, 'not sent a second time');

      request.answer(200);
      await settled();
      assert.equal((await triggers()).find((t) => t.id === sending!.id)?.state, 'sent');
      assert.equal(receiver.held.length, 3);
    });

    it('a failed send is retried by the queued follow-up, or, without one, by the check that holds its key again', async () => {
      const before = (await checks()).length;
      // a new set for image 1 (its request fails), then one for image 2 (its request holds the second slot)
      await event('finding.new', fixable('CVE-2026-2004'));
      await receiver.waitFor(4);
      const failing = receiver.held[3]!;
      assert.equal(failing.digest, DIGEST_1);
      await event('finding.new', fixable('CVE-2026-2005'));
      await receiver.waitFor(5);
      const holding = receiver.held[4]!;
      assert.equal(holding.digest, DIGEST_2);
      // both slots busy: a third check waits, queued under the repository's key
      await event('finding.new');
      const [first, second, third] = (await checks()).slice(before);
      assert.deepEqual([first?.state, second?.state, third?.state], ['running', 'running', 'queued']);

      // the first send fails: the queued check will send it again, so the first one ends without a retry
      failing.answer(500);
      await until(async () => (await checks())[before]?.state === 'failed', 'the failed check to end');
      const failed = (await checks())[before]!;
      assert.match(String(failed.error), /the rebuild webhook answered 500 \(the queued follow-up check tries again\)/);
      assert.equal((await checks()).length, before + 3, 'no other check queued');

      // the third check runs once a slot is free: it sends the failed trigger again
      await receiver.waitFor(6);
      assert.equal(receiver.held[5]!.digest, DIGEST_1);
      assert.deepEqual(receiver.held[5]!.cves, failing.cves);
      // and fails too, with no follow-up queued: it takes the key back for its retry, and an event joins it
      receiver.held[5]!.answer(503);
      await until(
        async () => (await checks())[before + 2]?.state === 'queued',
        'the third check to be queued for its retry',
      );
      assert.equal((await checks())[before + 2]?.dedupe_key, `rebuild:${repositoryId}`);
      await event('finding.new');
      assert.equal((await checks()).length, before + 3, 'the event joined the retry');

      holding.answer(200);
      await until(async () => (await checks())[before + 1]?.state === 'succeeded', 'the second check');
      // the table runner's backoff (1 s) is on the test clock; graphile's is its own (2.7 s)
      clock.advance(5_000);
      server.ctx.jobSignals.enqueued();
      await receiver.waitFor(7);
      assert.equal(receiver.held[6]!.digest, DIGEST_1);
      receiver.held[6]!.answer(200);
      await settled();
      assert.deepEqual(
        (await checks()).slice(before).map((c) => c.state),
        ['failed', 'succeeded', 'succeeded'],
      );
      assert.ok((await triggers()).every((t) => t.state === 'sent'));
    });
  });
});
