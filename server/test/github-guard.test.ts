// The GitHub integration's base URL goes through the outbound address guard (notify/guard.ts), on both engines: a
// base URL at a loopback address (as an address literal, and as a name that resolves to one) is refused before any
// request reaches it, for the issue sync and for a `repository_dispatch` rebuild trigger, and the jobs do not retry
// the refusal; with the address allowlisted (LADING_OUTBOUND_ALLOW_PRIVATE) the same calls go through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GithubIssueReplay, startGithubIssueReplay } from '../../engine/test/helpers/github-replay.js';
import type { ServerContext } from '../src/context.js';
import { decodeJson } from '../src/db/dialect.js';
import { GITHUB_SYNC, registerGithubJobs, saveGithubSettings, syncRepositoryIssues } from '../src/github/index.js';
import { enqueue, findJob } from '../src/jobs/queue.js';
import { JobFailure } from '../src/jobs/runner.js';
import { TargetRefused } from '../src/notify/guard.js';
import { checkRebuilds, setRebuildTarget } from '../src/watch/index.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const REPO = 'ghcr.io/acme/guarded';
const DIGEST = `sha256:${'c3'.repeat(32)}`;
const REFUSED = /private, loopback or link-local address; allowlist it in LADING_OUTBOUND_ALLOW_PRIVATE/;

forEachDatabase((database) => {
  describe('GitHub targets and the outbound address guard', () => {
    const clock = new TestClock();
    let server: TestServer;
    let replay: GithubIssueReplay;
    let repositoryId = 0;
    /** The same server context with 127.0.0.1 allowlisted, as LADING_OUTBOUND_ALLOW_PRIVATE=127.0.0.1 gives. */
    let allowed: ServerContext;

    const useBaseUrl = (apiUrl: string) =>
      saveGithubSettings(server.ctx.db, server.ctx.secrets.key, { apiUrl, token: 'ghp_guarded123' }, clock.now());

    before(async () => {
      replay = await startGithubIssueReplay();
      // no allowlist: the default
      server = await startTestServer({
        database,
        clock,
        runJobs: false,
        jobHandlers: (runner, ctx) => registerGithubJobs(runner, ctx),
      });
      assert.deepEqual(server.ctx.config.outbound.allowPrivate, []);
      allowed = {
        ...server.ctx,
        config: { ...server.ctx.config, outbound: { ...server.ctx.config.outbound, allowPrivate: ['127.0.0.1'] } },
      };
      const seeded = await seedImages(server.ctx.db, [
        {
          digest: DIGEST,
          repository: REPO,
          at: clock.now(),
          tags: ['latest'],
          packages: [{ purl: 'pkg:deb/debian/openssl@3.0.1', type: 'deb', name: 'openssl', version: '3.0.1' }],
          findings: [{ vuln: 'CVE-2026-3001', package: 'openssl', severity: 'HIGH', fixed: '3.0.2' }],
        },
      ]);
      repositoryId = seeded.repositoryIds.get(REPO)!;
      await server.ctx.db
        .updateTable('repositories')
        .set({ source_repo: 'https://github.com/acme/guarded' })
        .where('id', '=', repositoryId)
        .execute();
    });
    after(async () => {
      await server?.close();
      await replay?.close();
    });

    it('refuses an issue sync to a loopback base URL, by address and by name, before any request', async () => {
      await useBaseUrl(replay.url);
      await assert.rejects(
        () => syncRepositoryIssues(server.ctx, repositoryId),
        (e: unknown) => e instanceof TargetRefused && REFUSED.test(e.message) && e.message.includes('127.0.0.1'),
      );
      await useBaseUrl(replay.url.replace('127.0.0.1', 'localhost'));
      await assert.rejects(
        () => syncRepositoryIssues(server.ctx, repositoryId),
        (e: unknown) => e instanceof TargetRefused && REFUSED.test(e.message) && e.message.includes('localhost'),
      );
      assert.equal(replay.requests.length, 0);
    });

    it('fails the github.sync job for good (no retry) with the refusal', async () => {
      await useBaseUrl(replay.url);
      const queued = await enqueue(server.ctx.db, clock.now(), {
        kind: GITHUB_SYNC,
        payload: { repositoryId },
        createdBy: 'system',
      });
      // run as production does (graphile-worker on PostgreSQL), only until this job ended
      await server.startJobs();
      try {
        const ended = await server.api.get<{ state: string }>(`/api/v1/jobs/${queued.publicId}?wait=30`);
        assert.equal(ended.body.state, 'failed', ended.text);
      } finally {
        await server.stopJobs();
      }
      const row = await findJob(server.ctx.db, queued.publicId);
      assert.equal(row?.state, 'failed');
      assert.equal(row?.attempts, 1);
      const error = decodeJson<{ code: string; message: string }>(row?.error ?? null);
      assert.equal(error?.code, 'github_target_refused');
      assert.match(error?.message ?? '', REFUSED);
      assert.equal(replay.requests.length, 0);
    });

    it('refuses a repository_dispatch rebuild trigger to a loopback base URL, recorded and not retried', async () => {
      await useBaseUrl(replay.url);
      await setRebuildTarget(
        server.ctx.db,
        server.ctx.secrets.key,
        repositoryId,
        { kind: 'github-dispatch', repository: 'acme/guarded' },
        clock.now(),
      );
      await assert.rejects(
        () => checkRebuilds(server.ctx, repositoryId),
        (e: unknown) => e instanceof JobFailure && e.code === 'rebuild_target_refused' && !e.retryable,
      );
      const trigger = await server.ctx.db
        .selectFrom('rebuild_triggers')
        .select(['state', 'last_error'])
        .where('repository_id', '=', repositoryId)
        .executeTakeFirstOrThrow();
      assert.equal(trigger.state, 'failed');
      assert.match(trigger.last_error ?? '', REFUSED);
      assert.equal(replay.requests.length, 0);
    });

    it('goes through once 127.0.0.1 is allowlisted: the dispatch and the issue sync', async () => {
      const outcomes = await checkRebuilds(allowed, repositoryId);
      assert.deepEqual(outcomes, [{ digest: DIGEST, state: 'sent' }]);
      assert.ok(replay.requests.some((r) => r.method === 'POST' && r.path === '/repos/acme/guarded/dispatches'));
      const tracks = await syncRepositoryIssues(allowed, repositoryId);
      assert.equal(tracks.length, 1);
      assert.equal(tracks[0]?.action, 'opened');
      assert.ok(replay.requests.some((r) => r.method === 'POST' && r.path === '/repos/acme/guarded/issues'));
    });
  });
});
