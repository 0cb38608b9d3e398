// Two pushes that move one tag at the same instant (CI pipelines of two builds pushing in one millisecond, or two
// bundles carrying the same `observedAt`): the second must not fail on the tag history's (tag, from) key, the tag
// ends on the image processed last, and the history keeps one open interval for it. It once failed with
// `duplicate key value violates unique constraint "tag_history_pk"` (a kill -9 test on PostgreSQL found it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const AT = '2026-11-01T10:00:00Z';

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('one tag moved twice in the same instant', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        routes: ROUTE_MODULES.map((m) => (m === registerIngestRoutes ? ingestRoutes() : m)),
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
    });
    after(() => server.close());

    it('ends on the image processed last, with one open history interval', async () => {
      for (const bundle of [bundles.a, bundles.b]) {
        const { body, headers } = await bundleBody(
          { repository: REPOSITORY, digest: bundle.digest, tags: ['latest'], observedAt: AT },
          [['report', bundle.reportFile]],
        );
        const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', {
          body,
          headers,
        });
        assert.equal(accepted.status, 202, accepted.text);
        const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
        assert.equal(job.body.state, 'succeeded', job.text);
      }
      const tag = await server.ctx.db
        .selectFrom('tags')
        .innerJoin('images', 'images.id', 'tags.current_image_id')
        .select(['tags.id', 'images.digest'])
        .where('tags.name', '=', 'latest')
        .executeTakeFirstOrThrow();
      assert.equal(tag.digest, bundles.b.digest);
      const history = await server.ctx.db
        .selectFrom('tag_history')
        .innerJoin('images', 'images.id', 'tag_history.image_id')
        .select(['images.digest', 'tag_history.to_at'])
        .where('tag_history.tag_id', '=', tag.id)
        .execute();
      assert.deepEqual(history, [{ digest: bundles.b.digest, to_at: null }]);
    });
  });
});
