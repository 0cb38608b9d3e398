// Rebuild triggers on both engines: a published image (a tag points at it) with fixable HIGH/CRITICAL findings asks
// for a rebuild once per digest and CVE set — a repository_dispatch to a local replay of GitHub's REST API, or a
// signed webhook — carrying the image, the CVEs and their fixed versions; unfixable or MEDIUM findings do not count,
// a repeat check sends nothing, a new CVE set sends again, and an interrupted send is never repeated.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type GithubIssueReplay, startGithubIssueReplay } from '../../engine/test/helpers/github-replay.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { saveGithubSettings } from '../src/github/index.js';
import { checkRebuilds, type RebuildPayload, registerRebuildJobs, setRebuildTarget } from '../src/watch/index.js';
import { type HttpReceiver, startHttpReceiver } from './helpers/receivers.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const REPO = 'ghcr.io/acme/api';
const DIGEST = `sha256:${'d4'.repeat(32)}`;
const SECRET = 'rebuild-webhook-secret-0123456789';

forEachDatabase((database) => {
  describe('rebuild triggers', () => {
    let server: TestServer;
    let replay: GithubIssueReplay;
    let receiver: HttpReceiver;
    let repositoryId: number;
    const clock = new TestClock();
    const dispatches = () => replay.requests.filter((r) => r.path.endsWith('/dispatches'));

    async function changed(): Promise<void> {
      await server.ctx.db
        .transaction()
        .execute((trx) =>
          recordEvent(trx, { at: clock.now(), type: 'finding.new', actor: SYSTEM_ACTOR, repositoryId }),
        );
      server.ctx.jobSignals.enqueued();
      const deadline = Date.now() + 20_000;
      for (;;) {
        const job = await server.ctx.db
          .selectFrom('jobs')
          .select(['state', 'error'])
          .where('kind', '=', 'rebuild.check')
          .orderBy('id', 'desc')
          .executeTakeFirstOrThrow();
        if (job.state === 'succeeded') return;
        if (job.state === 'failed') throw new Error(`rebuild.check failed: ${job.error}`);
        if (Date.now() > deadline) throw new Error(`rebuild.check stayed ${job.state}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    }

    before(async () => {
      replay = await startGithubIssueReplay();
      receiver = await startHttpReceiver();
      server = await startTestServer({
        database,
        clock,
        // the webhook receiver listens on 127.0.0.1, which the outbound guard refuses unless allowlisted
        config: { outbound: { allowPrivate: ['127.0.0.1'], smtpCaFile: undefined } },
        jobHandlers: (runner, ctx) => registerRebuildJobs(runner, ctx),
      });
      const seeded = await seedImages(server.ctx.db, [
        {
          digest: DIGEST,
          repository: REPO,
          at: clock.now(),
          tags: ['latest', 'v1'],
          packages: [
            { purl: 'pkg:deb/debian/openssl@3.0.1', type: 'deb', name: 'openssl', version: '3.0.1' },
            { purl: 'pkg:deb/debian/zlib@1.2.11', type: 'deb', name: 'zlib', version: '1.2.11' },
          ],
          findings: [
            { vuln: 'CVE-2026-1000', package: 'openssl', severity: 'HIGH', fixed: '3.0.2' },
            { vuln: 'CVE-2026-1001', package: 'zlib', severity: 'CRITICAL' },
            { vuln: 'CVE-2026-1002', package: 'zlib', severity: 'MEDIUM', fixed: '1.2.12' },
          ],
        },
      ]);
      repositoryId = seeded.repositoryIds.get(REPO)!;
      await saveGithubSettings(
        server.ctx.db,
        server.ctx.secrets.key,
        { apiUrl: replay.url, token: 'ghp_x12345678' },
        clock.now(),
      );
    });
    after(async () => {
      await server?.close();
      await replay?.close();
      await receiver?.close();
    });

    it('sends nothing while the repository has no rebuild target', async () => {
      assert.deepEqual(await checkRebuilds(server.ctx, repositoryId), []);
      assert.equal(dispatches().length, 0);
    });

    it('dispatches once per digest and fixable HIGH/CRITICAL set', async () => {
      await setRebuildTarget(
        server.ctx.db,
        server.ctx.secrets.key,
        repositoryId,
        { kind: 'github-dispatch', repository: 'acme/api' },
        clock.now(),
      );
      await changed();
      assert.equal(dispatches().length, 1);
      const sent = JSON.parse(dispatches()[0]!.body) as { event_type: string; client_payload: RebuildPayload };
      assert.equal(dispatches()[0]!.path, '/repos/acme/api/dispatches');
      assert.equal(sent.event_type, 'lading-rebuild');
      assert.equal(sent.client_payload.image, `${REPO}@${DIGEST}`);
      assert.deepEqual(sent.client_payload.tags, ['latest', 'v1']);
      assert.deepEqual(sent.client_payload.cves, [
        { id: 'CVE-2026-1000', severity: 'HIGH', package: 'openssl', installed: '3.0.1', fixedVersion: '3.0.2' },
      ]);
      await changed();
      assert.equal(dispatches().length, 1, 'the same set is not sent again');
    });

    it('sends a signed webhook for a new set, and never repeats an interrupted one', async () => {
      const path = `/api/v1/repositories/${encodeURIComponent(REPO)}/rebuild-target`;
      const bad = await server.api.request<{ detail: string }>('PUT', path, {
        json: { kind: 'webhook', url: `${receiver.url}/rebuild`, secret: 'short' },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /secret must be/);
      const set = await server.api.request('PUT', path, {
        json: { kind: 'webhook', url: `${receiver.url}/rebuild`, secret: SECRET },
      });
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(set.body, { configured: true, kind: 'webhook', target: receiver.url });
      assert.doesNotMatch(set.text, /rebuild-webhook-secret|\/rebuild/);
      assert.equal((await server.api.get('/api/v1/repositories/nope%2Fnothing/rebuild-target')).status, 404);
      const finding = await server.ctx.db
        .selectFrom('findings')
        .innerJoin('vulnerabilities', 'vulnerabilities.id', 'findings.vulnerability_id')
        .select('findings.id')
        .where('vulnerabilities.vuln_id', '=', 'CVE-2026-1001')
        .executeTakeFirstOrThrow();
      await server.ctx.db
        .updateTable('findings')
        .set({ fixed_version: '1.2.13' })
        .where('id', '=', finding.id)
        .execute();
      await changed();
      assert.equal(receiver.requests.length, 1);
      const request = receiver.requests[0]!;
      const expected = `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`;
      assert.equal(request.headers['x-lading-signature'], expected);
      const body = JSON.parse(request.body) as RebuildPayload & { type: string };
      assert.equal(body.type, 'rebuild.requested');
      assert.deepEqual(
        body.cves.map((c) => c.id),
        ['CVE-2026-1000', 'CVE-2026-1001'],
      );

      // a trigger left `sending` by a crash is recorded unknown, not sent again
      await server.ctx.db
        .updateTable('rebuild_triggers')
        .set({ state: 'sending' })
        .where('state', '=', 'sent')
        .execute();
      const outcomes = await checkRebuilds(server.ctx, repositoryId);
      assert.deepEqual(
        outcomes.map((o) => o.state),
        ['unknown', 'unknown'],
      );
      assert.equal(receiver.requests.length, 1);
      assert.equal(dispatches().length, 1);

      assert.equal((await server.api.request('DELETE', path)).status, 204);
      assert.deepEqual((await server.api.get(path)).body, { configured: false, kind: null, target: null });
    });
  });
});
