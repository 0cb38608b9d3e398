// An exception is a decision about a vulnerability in a repository, so it must hold for what is ingested after it:
// the next build of the repository (CI's report, which knows nothing of the server's exceptions, says "open") comes
// out suppressed, with the exception named on the finding and the counters lowered; a re-ingest of an image the
// exception already covered keeps it suppressed, also when the same image is pushed through another repository (an
// image's findings are one set for all its repositories). Real bundles: Alpine 3.16.2 and 3.16.4 scanned by the CLI,
// both holding CVE-2023-0464.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const OTHER = 'registry.example:5000/acme/other';
const CVE = 'CVE-2023-0464';
const DAY = 86_400_000;

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

interface FindingView {
  id: string;
  aliases: string[];
  status: string;
}

forEachDatabase((database) => {
  describe('exceptions judge later ingests', () => {
    let server: TestServer;
    const ingest = async (repository: string, bundle: TestBundles['a'], tag: string, observedAt: string) => {
      const { body, headers } = await bundleBody({ repository, digest: bundle.digest, tags: [tag], observedAt }, [
        ['sbom', bundle.sbomFile],
        ['report', bundle.reportFile],
      ]);
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.equal(accepted.status, 202, accepted.text);
      const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', job.text);
    };
    const cveFindings = async (digest: string) =>
      (await server.api.get<{ items: FindingView[] }>(`/api/v1/images/${digest}/findings?limit=200`)).body.items.filter(
        (f) => f.id === CVE || f.aliases.includes(CVE),
      );
    const image = async (digest: string) =>
      (await server.api.get<{ counts: Record<string, number>; suppressed: number }>(`/api/v1/images/${digest}`)).body;

    before(async () => {
      server = await startTestServer({
        database,
        routes: ROUTE_MODULES.map((m) => (m === registerIngestRoutes ? ingestRoutes() : m)),
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
    });
    after(() => server.close());

    it('suppresses the next build and keeps a re-ingest suppressed, through any repository of the image', async () => {
      await ingest(REPOSITORY, bundles.a, '3.16.2', '2026-11-01T10:00:00Z');
      const before = await cveFindings(bundles.a.digest);
      assert.ok(before.length > 0, 'the fixture image holds the CVE');
      assert.ok(before.every((f) => f.status === 'open'));
      const openBefore = await image(bundles.a.digest);

      const created = await server.api.post<{ suppressedFindings: number }>('/api/v1/exceptions', {
        vulnerability: CVE,
        repository: REPOSITORY,
        status: 'not_affected',
        reason: 'the affected policy-checking code is never called',
        expiresAt: new Date(server.ctx.now() + 30 * DAY).toISOString(),
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.suppressedFindings, before.length);

      // a re-ingest of the same digest under another tag (a new push, not a replay; its report says open) stays
      // suppressed
      await ingest(REPOSITORY, bundles.a, 'stable', '2026-11-02T10:00:00Z');
      assert.ok((await cveFindings(bundles.a.digest)).every((f) => f.status === 'suppressed'));
      const reingested = await image(bundles.a.digest);
      assert.equal(reingested.suppressed, openBefore.suppressed + before.length);

      // the next build of the repository, ingested after the exception, is judged by it
      await ingest(REPOSITORY, bundles.b, '3.16.4', '2026-11-08T10:00:00Z');
      const next = await cveFindings(bundles.b.digest);
      assert.ok(next.length > 0);
      assert.ok(
        next.every((f) => f.status === 'suppressed'),
        JSON.stringify(next),
      );
      const rows = await server.ctx.db
        .selectFrom('findings as f')
        .innerJoin('images as i', 'i.id', 'f.image_id')
        .innerJoin('exceptions as x', 'x.id', 'f.exception_id')
        .select(['x.reason'])
        .where('i.digest', '=', bundles.b.digest)
        .execute();
      assert.equal(rows.length, next.length, 'each suppressed finding names the exception');

      // the same image pushed through another repository keeps the suppression its first repository decided
      await ingest(OTHER, bundles.b, '3.16.4', '2026-11-09T10:00:00Z');
      const other = await server.ctx.db
        .selectFrom('findings as f')
        .innerJoin('images as i', 'i.id', 'f.image_id')
        .select(['f.status'])
        .where('i.digest', '=', bundles.b.digest)
        .where('f.exception_id', 'is not', null)
        .execute();
      assert.equal(other.length, next.length, 'the image keeps the finding suppressed for its covered repository');
    });
  });
});
