// GitHub syncs while the repository changes, on both engines, with two jobs at a time, against the local replay of
// GitHub's REST API behind a gate that holds requests until the test opens it (so a sync is stopped mid-way
// deterministically) and counts the requests in flight: an event committed while a sync runs queues a follow-up
// sync (it is not folded into the running one, which read the repository before the event), the follow-up waits for
// the running sync of the same repository (a `wait` step) instead of running beside it, then writes the new state
// (its own dated comment and the issue body); no two requests are ever in flight at once, and each change gets
// exactly one comment; a direct sync waits for a running one too; a sync that fails while a follow-up is queued ends
// without a retry (the follow-up writes the current state), and without one takes its key back for its retry.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type GithubIssueReplay, startGithubIssueReplay } from '../../engine/test/helpers/github-replay.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { githubSyncKey, registerGithubJobs, syncRepositoryIssues } from '../src/github/index.js';
import { until } from './helpers/receivers.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const digest = (hex: string) => `sha256:${hex.repeat(64 / hex.length)}`;
const A = digest('a1');
const B = digest('b2');
const C = digest('c3');
const REPO = 'ghcr.io/acme/followup';
const PACKAGES = [
  { purl: 'pkg:deb/debian/openssl@3.0.1', type: 'deb', name: 'openssl', version: '3.0.1' },
  { purl: 'pkg:deb/debian/zlib@1.2.11', type: 'deb', name: 'zlib', version: '1.2.11' },
];

/** A pass-through to the replay that holds every request while closed, and counts the requests in flight. */
interface Gate {
  readonly url: string;
  /** Requests waiting at the closed gate. */
  readonly held: () => number;
  readonly maxInFlight: () => number;
  close(): void;
  open(): void;
  /** Answers the oldest held request with `status` itself (GitHub failing), without passing it on. */
  fail(status: number): void;
  stop(): Promise<void>;
}

async function startGate(target: string): Promise<Gate> {
  const origin = new URL(target).origin;
  let closed = false;
  /** Each held request's continuation: undefined passes it on, a status answers it with that. */
  let waiting: ((status?: number) => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const failWith = closed ? await new Promise<number | undefined>((resolve) => waiting.push(resolve)) : undefined;
      if (failWith !== undefined) {
        inFlight -= 1;
        res.writeHead(failWith, { 'content-type': 'application/json' }).end('{"message":"Validation Failed"}');
        return;
      }
      const body = Buffer.concat(chunks);
      const answer = await fetch(`${origin}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: {
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}),
        },
        ...(body.length > 0 ? { body } : {}),
      });
      const text = Buffer.from(await answer.arrayBuffer());
      // before the answer reaches the client: its next request is not counted as overlapping this one
      inFlight -= 1;
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${new URL(target).pathname}`,
    held: () => waiting.length,
    maxInFlight: () => maxInFlight,
    close() {
      closed = true;
    },
    open() {
      closed = false;
      const released = waiting;
      waiting = [];
      for (const resolve of released) resolve();
    },
    fail(status) {
      waiting.shift()?.(status);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

forEachDatabase((database) => {
  describe('GitHub syncs while the repository changes', () => {
    let server: TestServer;
    let replay: GithubIssueReplay;
    let gate: Gate;
    let repositoryId: number;
    const clock = new TestClock();

    const syncs = () =>
      server.ctx.db
        .selectFrom('jobs')
        .select(['id', 'state', 'dedupe_key', 'steps', 'error'])
        .where('kind', '=', 'github.sync')
        .orderBy('id')
        .execute();
    const settled = () =>
      until(async () => (await syncs()).every((s) => !['queued', 'running'].includes(s.state)), 'the syncs to end');
    const stepsOf = (raw: unknown): { name: string; state: string }[] =>
      (typeof raw === 'string' ? JSON.parse(raw) : raw) as { name: string; state: string }[];

    /** A new current image of the repository (tag `latest` moves to it) and its event, committed. */
    async function publish(imageDigest: string, cves: readonly string[]): Promise<void> {
      clock.advance(60_000);
      await seedImages(server.ctx.db, [
        {
          digest: imageDigest,
          repository: REPO,
          at: clock.now(),
          tags: ['latest'],
          packages: PACKAGES,
          findings: cves.map((vuln) => ({ vuln, package: 'openssl', severity: 'HIGH', fixed: '3.0.2' })),
        },
      ]);
      await server.ctx.db
        .transaction()
        .execute((trx) => recordEvent(trx, { at: clock.now(), type: 'tag.moved', actor: SYSTEM_ACTOR, repositoryId }));
      server.ctx.jobSignals.enqueued();
    }

    before(async () => {
      replay = await startGithubIssueReplay('/api/v3');
      gate = await startGate(replay.url);
      server = await startTestServer({
        database,
        clock,
        config: { outbound: { allowPrivate: ['127.0.0.1'], smtpCaFile: undefined } },
        // two jobs at a time: a follow-up sync could run beside the one it follows
        runner: { concurrency: 2, pollMs: 100 },
        jobHandlers: (runner, ctx) => registerGithubJobs(runner, ctx),
      });
      const seeded = await seedImages(server.ctx.db, [
        {
          digest: A,
          repository: REPO,
          at: clock.now(),
          tags: ['latest'],
          packages: PACKAGES,
          findings: [{ vuln: 'CVE-2026-3001', package: 'openssl', severity: 'HIGH', fixed: '3.0.2' }],
        },
      ]);
      repositoryId = seeded.repositoryIds.get(REPO)!;
      await server.ctx.db
        .updateTable('repositories')
        .set({ source_repo: 'https://github.com/acme/followup' })
        .where('id', '=', repositoryId)
        .execute();
      const set = await server.api.request('PUT', '/api/v1/integrations/github', {
        json: { apiUrl: gate.url, token: 'ghp_followupToken123' },
      });
      assert.equal(set.status, 200, set.text);
    });
    after(async () => {
      gate?.open();
      await server?.close();
      await gate?.stop();
      await replay?.close();
    });

    it('opens the issue for the first image', async () => {
      await server.ctx.db
        .transaction()
        .execute((trx) =>
          recordEvent(trx, { at: clock.now(), type: 'image.ingested', actor: SYSTEM_ACTOR, repositoryId }),
        );
      server.ctx.jobSignals.enqueued();
      await settled();
      assert.deepEqual(
        (await syncs()).map((s) => s.state),
        ['succeeded'],
      );
      assert.equal(replay.issues.length, 1);
      assert.match(replay.issues[0]!.body, /CVE-2026-3001/);
    });

    it('an event during a sync queues a follow-up, which waits for it and then writes the new state', async () => {
      gate.close();
      await publish(B, ['CVE-2026-3001', 'CVE-2026-3002']);
      // the sync of B holds at its first GitHub request: it has read the repository's current image already
      await until(() => gate.held() === 1, 'the sync of B to reach GitHub');
      const [, first] = await syncs();
      assert.equal(first?.state, 'running');
      assert.equal(first?.dedupe_key, null, 'a running sync has released its key');

      // C is published while that sync runs: a second sync is queued rather than folded into the first
      await publish(C, ['CVE-2026-3001', 'CVE-2026-3002', 'CVE-2026-3003']);
      const afterC = await syncs();
      assert.equal(afterC.length, 3, 'a follow-up sync was queued');
      // it starts (two jobs at a time) and waits for the first sync's lock, keeping the key meanwhile
      // (running beside the first instead, it would reach GitHub: a second request at the gate)
      await until(async () => {
        const follow = (await syncs())[2];
        const waits = stepsOf(follow?.steps ?? '[]').some((s) => s.name === 'wait' && s.state === 'running');
        return waits || gate.held() > 1;
      }, 'the follow-up to wait for the running sync');
      assert.equal(gate.held(), 1, 'the follow-up sends nothing while the first sync runs');
      const waiting = (await syncs())[2]!;
      assert.equal(waiting.state, 'running');
      assert.equal(waiting.dedupe_key, githubSyncKey(repositoryId), 'a waiting sync keeps the key: events join it');
      if (database === 'postgres') {
        // graphile's own key would make it strip the locked job with that key when the follow-up is added
        const keyed = await sql<{ key: string }>`
          select key from graphile_worker._private_jobs where key is not null`.execute(server.ctx.db);
        assert.deepEqual(keyed.rows, [], 'the graphile jobs of the syncs have no job_key');
      }

      // another event while the follow-up waits joins it
      await server.ctx.db
        .transaction()
        .execute((trx) =>
          recordEvent(trx, { at: clock.now(), type: 'finding.new', actor: SYSTEM_ACTOR, repositoryId }),
        );
      assert.equal((await syncs()).length, 3, 'an event while the follow-up waits joins it');

      gate.open();
      await settled();
      const ended = await syncs();
      assert.deepEqual(
        ended.map((s) => s.state),
        ['succeeded', 'succeeded', 'succeeded'],
        JSON.stringify(ended.map((s) => s.error)),
      );
      assert.ok(
        stepsOf(ended[2]!.steps).some((s) => s.name === 'wait' && s.state === 'succeeded'),
        'the follow-up records its wait',
      );

      const issue = replay.issues[0]!;
      assert.equal(replay.issues.length, 1);
      assert.match(issue.body, /CVE-2026-3003/, 'the body shows the follow-up state');
      assert.ok(issue.body.includes(C));
      // one dated comment per change, in order
      assert.equal(issue.comments.length, 2, issue.comments.map((c) => c.body).join('\n---\n'));
      assert.match(issue.comments[0]!.body, /New: CVE-2026-3002/);
      assert.ok(issue.comments[0]!.body.includes(B));
      assert.match(issue.comments[1]!.body, /New: CVE-2026-3003/);
      assert.ok(issue.comments[1]!.body.includes(C));
      const posts = await server.ctx.db
        .selectFrom('github_posts')
        .select(['image_digest', 'action'])
        // the digests sort in publishing order
        .orderBy('image_digest')
        .execute();
      assert.deepEqual(
        posts.map((p) => [p.image_digest, p.action]),
        [
          [A, 'opened'],
          [B, 'updated'],
          [C, 'updated'],
        ],
      );
      assert.equal(gate.maxInFlight(), 1, 'no two GitHub requests of the repository were in flight at once');
    });

    it('a direct sync waits for a running job sync of the repository', async () => {
      gate.close();
      await publish(digest('d4'), ['CVE-2026-3001']);
      await until(() => gate.held() === 1, 'the job sync to reach GitHub');
      // without the lock it would read the same state and post the same comment beside the job's (held) requests
      let waited = false;
      const direct = syncRepositoryIssues(server.ctx, repositoryId, async () => {
        waited = true;
      });
      await until(() => waited || gate.held() > 1, 'the direct sync to wait');
      assert.equal(gate.held(), 1, 'the direct sync sends nothing while the job sync runs');
      gate.open();
      const outcome = await direct;
      await settled();
      assert.deepEqual(
        outcome.map((o) => o.action),
        ['recorded'],
      );
      assert.equal(replay.issues[0]!.comments.length, 3, 'one comment for the change, none from the direct sync');
      assert.equal(gate.maxInFlight(), 1);
    });

    it('a sync that fails leaves the retry to a queued follow-up; without one it takes its key back', async () => {
      const before = (await syncs()).length;
      const comments = replay.issues[0]!.comments.length;
      gate.close();
      await publish(digest('e5'), ['CVE-2026-3001', 'CVE-2026-3004']);
      await until(() => gate.held() === 1, 'the sync of E to reach GitHub');
      await publish(digest('f6'), ['CVE-2026-3001', 'CVE-2026-3004', 'CVE-2026-3005']);
      await until(async () => {
        const follow = (await syncs())[before + 1];
        return stepsOf(follow?.steps ?? '[]').some((s) => s.name === 'wait' && s.state === 'running');
      }, 'the follow-up to wait');

      // GitHub refuses the first sync's request (a status the client does not retry itself): the follow-up writes the current state, so the first ends without a retry
      gate.fail(422);
      await until(async () => (await syncs())[before]?.state === 'failed', 'the failed sync to end');
      assert.match(
        JSON.stringify((await syncs())[before]!.error),
        /HTTP 422: Validation Failed \(the queued follow-up sync tries again\)/,
      );

      // the follow-up fails too, with nothing queued behind it: it takes the key back, and an event joins its retry
      await until(() => gate.held() === 1, 'the follow-up to reach GitHub');
      gate.fail(422);
      await until(async () => (await syncs())[before + 1]?.state === 'queued', 'the follow-up to be queued again');
      assert.equal((await syncs())[before + 1]!.dedupe_key, githubSyncKey(repositoryId));
      await server.ctx.db
        .transaction()
        .execute((trx) =>
          recordEvent(trx, { at: clock.now(), type: 'finding.new', actor: SYSTEM_ACTOR, repositoryId }),
        );
      assert.equal((await syncs()).length, before + 2, 'the event joined the retry');

      gate.open();
      // the table runner's backoff (1 s) is on the test clock; graphile's is its own
      clock.advance(5_000);
      server.ctx.jobSignals.enqueued();
      await settled();
      assert.deepEqual(
        (await syncs()).slice(before).map((s) => s.state),
        ['failed', 'succeeded'],
      );
      const issue = replay.issues[0]!;
      assert.equal(issue.comments.length, comments + 1, 'one comment, for the current image');
      assert.ok(issue.comments.at(-1)!.body.includes(digest('f6')));
      assert.match(issue.comments.at(-1)!.body, /New: CVE-2026-3004, CVE-2026-3005/);
      assert.equal(gate.maxInFlight(), 1);
    });
  });
});
