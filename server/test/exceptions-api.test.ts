// POST/GET/DELETE /api/v1/exceptions on what the real ingest path wrote (two CLI bundles, Alpine 3.16.2 then 3.16.4,
// both holding CVE-2023-0464 in libssl1.1 and libcrypto1.1): an exception suppresses the vulnerability's open
// findings in its repository (or one image), lowers the images' counters and the overview in the same transaction,
// writes an event; revoking restores both. A reason and an expiry <= 365 days are required; an unknown repository,
// or one outside the caller's scope, is 404; a read-only token may list but not create.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { type ApiResponse, forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const DAY = 86_400_000;

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

type Counts = Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>;

forEachDatabase((database) => {
  describe('exceptions', () => {
    let server: TestServer;
    const counts = async (digest: string) =>
      (await server.api.get<{ counts: Counts; suppressed: number }>(`/api/v1/images/${digest}`)).body;
    const findingsOf = async (digest: string, id: string) =>
      (
        await server.api.get<{ items: { id: string; aliases: string[]; severity: string; status: string }[] }>(
          `/api/v1/images/${digest}/findings?limit=200`,
        )
      ).body.items.filter((f) => f.id === id || f.aliases.includes(id));
    const expires = (days: number) => new Date(server.ctx.now() + days * DAY).toISOString();

    before(async () => {
      server = await startTestServer({
        database,
        routes: ROUTE_MODULES.map((m) => (m === registerIngestRoutes ? ingestRoutes() : m)),
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
      for (const [bundle, tags, observedAt] of [
        [bundles.a, ['3.16.2'], '2026-11-01T10:00:00Z'],
        [bundles.b, ['3.16.4'], '2026-11-08T10:00:00Z'],
      ] as const) {
        const { body, headers } = await bundleBody(
          { repository: REPOSITORY, digest: bundle.digest, tags, observedAt },
          [
            ['sbom', bundle.sbomFile],
            ['report', bundle.reportFile],
          ],
        );
        const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', {
          body,
          headers,
        });
        assert.equal(accepted.status, 202, accepted.text);
        const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
        assert.equal(job.body.state, 'succeeded', job.text);
      }
    });
    after(() => server.close());

    it('requires a reason and an expiry at most 365 days ahead, and a known repository in scope', async () => {
      const base = {
        vulnerability: 'CVE-2023-0464',
        repository: REPOSITORY,
        reason: 'not reachable',
        expiresAt: expires(30),
      };
      for (const [body, field] of [
        [{ ...base, reason: undefined }, 'reason'],
        [{ ...base, expiresAt: undefined }, 'expiresAt'],
        [{ ...base, expiresAt: expires(366) }, 'expiresAt'],
        [{ ...base, expiresAt: expires(-1) }, 'expiresAt'],
        [{ ...base, image: 'sha256:abc' }, 'image'],
        [{ ...base, extra: 1 }, 'extra'],
      ] as const) {
        const answer = await server.api.post<{ field: string }>('/api/v1/exceptions', body);
        assert.equal(answer.status, 400, answer.text);
        assert.equal(answer.body.field, field);
      }
      assert.equal((await server.api.post('/api/v1/exceptions', { ...base, repository: 'nowhere/else' })).status, 404);
      assert.equal(
        (await server.api.post('/api/v1/exceptions', { ...base, vulnerability: 'CVE-1999-0001' })).status,
        404,
      );
      const reader = await createApiToken(server.ctx, {
        name: 'reader',
        scopes: ['read'],
        repositoryPattern: '*',
        expiresAt: server.ctx.now() + DAY,
        ownerUserId: server.admin.userId,
      });
      // through the validating client: the refusals are problem documents the OpenAPI document describes
      const asReader = await server.api.post('/api/v1/exceptions', base, { token: reader.token });
      assert.equal(asReader.status, 403, asReader.text);
      const other = await createApiToken(server.ctx, {
        name: 'other team',
        scopes: ['triage', 'read'],
        repositoryPattern: 'registry.example:5000/other/*',
        expiresAt: server.ctx.now() + DAY,
        ownerUserId: server.admin.userId,
      });
      const outside = await server.api.post('/api/v1/exceptions', base, { token: other.token });
      assert.equal(outside.status, 404, 'a repository outside the scope answers as unknown');
    });

    it('suppresses the findings, lowers the counters and the overview in one go, and revoking restores them', async () => {
      const before = await counts(bundles.b.digest);
      const overviewBefore = (await server.api.get<{ open: Counts }>('/api/v1/overview')).body;
      const covered = await findingsOf(bundles.b.digest, 'CVE-2023-0464');
      assert.ok(covered.length > 0 && covered.every((f) => f.status === 'open'));
      const severity = covered[0]!.severity.toLowerCase() as keyof Counts;

      const created = await server.api.post<{ id: string; suppressedFindings: number; repository: string }>(
        '/api/v1/exceptions',
        {
          vulnerability: 'CVE-2023-0464',
          repository: REPOSITORY,
          image: bundles.b.digest,
          status: 'not_affected',
          justification: 'vulnerable_code_not_in_execute_path',
          reason: 'the service never verifies certificate policies',
          expiresAt: expires(90),
        },
      );
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.suppressedFindings, covered.length);
      const after = await counts(bundles.b.digest);
      assert.equal(after.counts[severity], before.counts[severity] - covered.length);
      assert.equal(after.suppressed, before.suppressed + covered.length);
      assert.ok((await findingsOf(bundles.b.digest, 'CVE-2023-0464')).every((f) => f.status === 'suppressed'));
      // only the named image: the older build keeps its findings open
      assert.ok((await findingsOf(bundles.a.digest, 'CVE-2023-0464')).every((f) => f.status === 'open'));
      const overviewAfter = (await server.api.get<{ open: Counts }>('/api/v1/overview')).body;
      assert.equal(overviewAfter.open[severity], overviewBefore.open[severity] - covered.length);

      const listed = await server.api.get<{ items: { id: string }[] }>('/api/v1/exceptions');
      assert.deepEqual(
        listed.body.items.map((x) => x.id),
        [created.body.id],
      );
      const events = await server.ctx.db
        .selectFrom('events')
        .select(['type', 'request_id'])
        .where('type', 'like', 'exception.%')
        .execute();
      assert.deepEqual(events, [{ type: 'exception.created', request_id: created.body.id }]);

      const revoked = await server.api.request('DELETE', `/api/v1/exceptions/${created.body.id}`);
      assert.equal(revoked.status, 204, revoked.text);
      assert.deepEqual((await counts(bundles.b.digest)).counts, before.counts);
      assert.deepEqual((await server.api.get<{ open: Counts }>('/api/v1/overview')).body.open, overviewBefore.open);
      assert.deepEqual((await server.api.get<{ items: unknown[] }>('/api/v1/exceptions')).body.items, []);
      assert.equal(
        (await server.api.get<{ items: unknown[] }>('/api/v1/exceptions?revoked=true')).body.items.length,
        1,
      );
      assert.equal((await server.api.request('DELETE', '/api/v1/exceptions/exc_unknown')).status, 404);
    });

    it('lists in keyset pages, newest first, with the scope in the query (a page is full whatever the caller reads)', async () => {
      const now = server.ctx.now();
      const vulnerability = await server.ctx.db
        .selectFrom('vulnerabilities')
        .select('id')
        .where('vuln_id', '=', 'CVE-2023-0464')
        .executeTakeFirstOrThrow();
      const inScope = await server.ctx.db
        .selectFrom('repositories')
        .select('id')
        .where('name', '=', REPOSITORY)
        .executeTakeFirstOrThrow();
      const elsewhere = await server.ctx.db
        .insertInto('repositories')
        .values({
          public_id: 'repo_pagination_other',
          name: 'registry.example:5000/other/svc',
          name_lc: 'registry.example:5000/other/svc',
          team_id: null,
          source_repo: null,
          archived_at: null,
          purge_after: null,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      // 7 exceptions in the caller's repository interleaved with 300 in another: the old list read 1,000 rows and
      // filtered them in code; a page must hold the caller's rows however many others come between them
      const mine: string[] = [];
      for (let i = 0; i < 307; i++) {
        const own = i % 44 === 0;
        const publicId = `exc_page_${String(i).padStart(3, '0')}`;
        if (own) mine.push(publicId);
        await server.ctx.db
          .insertInto('exceptions')
          .values({
            public_id: publicId,
            vulnerability_id: vulnerability.id,
            repository_id: own ? inScope.id : elsewhere.id,
            image_digest: null,
            package_pattern: 'no-such-package',
            status: 'accepted_risk',
            justification: null,
            reason: 'pagination',
            owner_user_id: null,
            created_by: null,
            expires_at: now + 30 * DAY,
            revoked_at: null,
            source: 'manual',
            created_at: now,
          })
          .execute();
      }
      const scoped = await createApiToken(server.ctx, {
        name: 'acme reader',
        scopes: ['read'],
        repositoryPattern: 'registry.example:5000/acme/*',
        expiresAt: now + DAY,
        ownerUserId: server.admin.userId,
      });
      type ListPage = { items: { id: string }[]; next_page_token: string | null; total: { count: number } };
      const walk = async (token: string, limit: number) => {
        const seen: string[] = [];
        let pageToken: string | null = null;
        let pages = 0;
        do {
          const query: string = `limit=${limit}${pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''}`;
          const page: ApiResponse<ListPage> = await server.api.get<ListPage>(`/api/v1/exceptions?${query}`, { token });
          assert.equal(page.status, 200, page.text);
          assert.ok(page.body.items.length <= limit);
          seen.push(...page.body.items.map((x) => x.id));
          pageToken = page.body.next_page_token;
          pages++;
        } while (pageToken !== null && pages < 100);
        return { seen, pages };
      };
      const own = await walk(scoped.token, 3);
      assert.deepEqual(own.seen, [...mine].reverse(), 'the caller sees exactly its own, newest first');
      assert.equal(own.pages, 3, '7 rows in pages of 3');
      const first = await server.api.get<ListPage>('/api/v1/exceptions?limit=3', { token: scoped.token });
      assert.equal(first.body.total.count, mine.length);
      const all = await walk(server.admin.token, 200);
      assert.equal(all.seen.length, 307, 'the admin walks every active exception once');
      assert.equal(new Set(all.seen).size, 307);
      assert.equal(all.pages, 2);
      // a token from another listing (revoked=true) is refused, not reinterpreted
      const tokenOf = (await server.api.get<ListPage>('/api/v1/exceptions?limit=3')).body.next_page_token!;
      const moved = await server.api.get(`/api/v1/exceptions?revoked=true&page_token=${encodeURIComponent(tokenOf)}`);
      assert.equal(moved.status, 400, moved.text);
      await server.ctx.db.deleteFrom('exceptions').where('public_id', 'like', 'exc_page_%').execute();
    });
  });
});
