// GitHub issues per image on the server, both engines, against a local replay of GitHub's REST API under a GHE base
// path: events about a repository queue `github.sync` (when the integration is set); its current image's open MEDIUM+
// findings (suppressed and LOW left out) open an issue with the `lading` label; a newer current digest without them
// closes it with a comment naming that digest and its commit; a sync of an already recorded state calls GitHub not
// at all; the token is sealed at rest and never returned.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type GithubIssueReplay, startGithubIssueReplay } from '../../engine/test/helpers/github-replay.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { GITHUB_SETTINGS_KEY, registerGithubJobs, syncRepositoryIssues } from '../src/github/index.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const digest = (hex: string) => `sha256:${hex.repeat(64 / hex.length)}`;
const A = digest('a1');
const B = digest('b2');
const REPO = 'ghcr.io/acme/api';

forEachDatabase((database) => {
  describe('GitHub issues per image', () => {
    let server: TestServer;
    let replay: GithubIssueReplay;
    let repositoryId: number;
    const clock = new TestClock();

    async function syncJob(): Promise<void> {
      await server.ctx.db
        .transaction()
        .execute((trx) =>
          recordEvent(trx, { at: clock.now(), type: 'image.ingested', actor: SYSTEM_ACTOR, repositoryId }),
        );
      server.ctx.jobSignals.enqueued();
      await latestSyncEnds();
    }

    /** Waits for the newest github.sync job to succeed. */
    async function latestSyncEnds(): Promise<void> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const live = await server.ctx.db
          .selectFrom('jobs')
          .select(['state', 'error'])
          .where('kind', '=', 'github.sync')
          .orderBy('id', 'desc')
          .executeTakeFirstOrThrow();
        if (live.state === 'succeeded') return;
        if (live.state === 'failed') throw new Error(`github.sync failed: ${live.error}`);
        if (Date.now() > deadline) throw new Error(`github.sync stayed ${live.state}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    }

    before(async () => {
      replay = await startGithubIssueReplay('/api/v3');
      server = await startTestServer({
        database,
        clock,
        // the replay listens on 127.0.0.1, which the outbound guard refuses unless allowlisted
        config: { outbound: { allowPrivate: ['127.0.0.1'], smtpCaFile: undefined } },
        jobHandlers: (runner, ctx) => registerGithubJobs(runner, ctx),
      });
      const seeded = await seedImages(server.ctx.db, [
        {
          digest: A,
          repository: REPO,
          at: clock.now(),
          tags: ['latest'],
          packages: [
            { purl: 'pkg:deb/debian/openssl@3.0.1', type: 'deb', name: 'openssl', version: '3.0.1' },
            { purl: 'pkg:deb/debian/zlib@1.2.11', type: 'deb', name: 'zlib', version: '1.2.11' },
          ],
          findings: [
            { vuln: 'CVE-2026-0001', package: 'openssl', severity: 'HIGH', fixed: '3.0.2' },
            { vuln: 'CVE-2026-0002', package: 'zlib', severity: 'MEDIUM' },
            { vuln: 'CVE-2026-0003', package: 'zlib', severity: 'LOW' },
            { vuln: 'CVE-2026-0004', package: 'openssl', severity: 'CRITICAL', status: 'suppressed' },
          ],
        },
      ]);
      repositoryId = seeded.repositoryIds.get(REPO)!;
      await server.ctx.db
        .updateTable('repositories')
        .set({ source_repo: 'https://github.com/acme/api' })
        .where('id', '=', repositoryId)
        .execute();
    });
    after(async () => {
      await server?.close();
      await replay?.close();
    });

    it('does nothing until the integration is configured', async () => {
      await server.ctx.db
        .transaction()
        .execute((trx) =>
          recordEvent(trx, { at: clock.now(), type: 'image.ingested', actor: SYSTEM_ACTOR, repositoryId }),
        );
      const jobs = await server.ctx.db.selectFrom('jobs').select('id').where('kind', '=', 'github.sync').execute();
      assert.equal(jobs.length, 0);
    });

    it('opens an issue for the current image with its MEDIUM+ table; the token is sealed', async () => {
      const bad = await server.api.request<{ detail: string }>('PUT', '/api/v1/integrations/github', {
        json: { apiUrl: 'ftp://x', token: 'ghp_serverToken123' },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /apiUrl must be an http\(s\) URL/);
      const set = await server.api.request('PUT', '/api/v1/integrations/github', {
        json: { apiUrl: `${replay.url}/`, token: 'ghp_serverToken123' },
      });
      assert.equal(set.status, 200, set.text);
      const shown = await server.api.get<{ configured: boolean; apiUrl: string }>('/api/v1/integrations/github');
      assert.deepEqual(shown.body, { configured: true, apiUrl: replay.url });
      assert.doesNotMatch(shown.text, /ghp_/);
      const stored = await server.ctx.db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', GITHUB_SETTINGS_KEY)
        .executeTakeFirstOrThrow();
      assert.doesNotMatch(String(stored.value), /ghp_serverToken123/);
      await syncJob();
      assert.equal(replay.issues.length, 1);
      const issue = replay.issues[0]!;
      assert.deepEqual(issue.labels, ['lading']);
      assert.match(issue.body, /CVE-2026-0001/);
      assert.match(issue.body, /CVE-2026-0002/);
      assert.doesNotMatch(issue.body, /CVE-2026-0003|CVE-2026-0004/, 'LOW and suppressed findings are left out');
      assert.ok(replay.requests.every((r) => r.authorization === 'Bearer ghp_serverToken123'));
      assert.ok(replay.requests.every((r) => r.path.startsWith('/api/v3/repos/acme/api/')));
      const row = await server.ctx.db.selectFrom('github_issues').selectAll().executeTakeFirstOrThrow();
      assert.equal(Number(row.number), 1);
      assert.equal(row.state, 'open');
      assert.equal(row.last_digest, A);
    });

    it('queues a sync on request (404 for an unknown repository)', async () => {
      const repo = await server.ctx.db
        .selectFrom('repositories')
        .select('public_id')
        .where('id', '=', repositoryId)
        .executeTakeFirstOrThrow();
      const queued = await server.api.post(`/api/v1/integrations/github/sync/${repo.public_id}`);
      assert.equal(queued.status, 202, queued.text);
      // it ends before the next test changes the repository (run later, it would read half of that change)
      await latestSyncEnds();
      assert.equal((await server.api.post('/api/v1/integrations/github/sync/repo_nope')).status, 404);
    });

    it('a sync of a recorded state makes no GitHub call', async () => {
      const count = replay.requests.length;
      const outcome = await syncRepositoryIssues(server.ctx, repositoryId);
      assert.deepEqual(
        outcome.map((o) => o.action),
        ['recorded'],
      );
      assert.equal(replay.requests.length, count);
    });

    it('closes the issue when a newer current digest has none, naming the digest and commit', async () => {
      clock.advance(86_400_000);
      await seedImages(server.ctx.db, [
        {
          digest: B,
          repository: REPO,
          at: clock.now(),
          tags: ['latest'],
          packages: [{ purl: 'pkg:deb/debian/openssl@3.0.2', type: 'deb', name: 'openssl', version: '3.0.2' }],
          findings: [{ vuln: 'CVE-2026-0003', package: 'openssl', severity: 'LOW' }],
          artifacts: [
            { sha256: 'c'.repeat(64), kind: 'slsa', role: 'provenance', mediaType: 'application/json', size: 10 },
          ],
        },
      ]);
      const image = await server.ctx.db
        .selectFrom('images')
        .select('id')
        .where('digest', '=', B)
        .executeTakeFirstOrThrow();
      const artifact = await server.ctx.db
        .selectFrom('artifacts')
        .select('id')
        .where('sha256', '=', 'c'.repeat(64))
        .executeTakeFirstOrThrow();
      await server.ctx.db
        .insertInto('builds')
        .values({
          image_id: image.id,
          provenance_artifact_id: artifact.id,
          builder_id: null,
          build_type: null,
          source_repo: 'https://github.com/acme/api',
          source_commit: '9f8e7d6c5b4a',
          source_ref: null,
          workflow_path: null,
          run_id: null,
          run_url: null,
          started_at: null,
          finished_at: null,
          created_at: clock.now(),
        })
        .execute();
      await syncJob();
      const issue = replay.issues[0]!;
      assert.equal(issue.state, 'closed');
      const last = issue.comments.at(-1)!.body;
      assert.match(last, /No findings at MEDIUM or above remain/);
      assert.ok(last.includes(B) && last.includes('9f8e7d6c5b4a'), last);
      const posts = await server.ctx.db.selectFrom('github_posts').selectAll().orderBy('created_at').execute();
      assert.deepEqual(
        posts.map((p) => [p.image_digest, p.action]),
        [
          [A, 'opened'],
          [B, 'closed'],
        ],
      );
      const row = await server.ctx.db.selectFrom('github_issues').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.state, 'closed');
    });
  });
});
