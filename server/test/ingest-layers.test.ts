import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

/**
 * Each package occurrence names the layer its report location names, when the ingest reads only the layers the
 * report names (not the fleet's whole layers table, which made an ingest's cost grow with the images stored): two
 * real CLI bundles with different layers, so a wrong lookup would attach the other image's layer or none.
 */

const REPOSITORY = 'registry.example:5000/acme/layers';

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('package occurrences and their layers', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        routes: [...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes), ingestRoutes()],
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
    });
    after(() => server.close());

    it("every occurrence names the layer of its report location, never another image's", async () => {
      for (const bundle of [bundles.a, bundles.b]) {
        const { body, headers } = await bundleBody({ repository: REPOSITORY, digest: bundle.digest, tags: ['x'] }, [
          ['report', bundle.reportFile],
        ]);
        const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', {
          body,
          headers,
        });
        assert.equal(accepted.status, 202, accepted.text);
        const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
        assert.equal(job.body.state, 'succeeded');
      }
      assert.ok((await server.ctx.db.selectFrom('layers').select('id').execute()).length >= 2, 'two distinct layers');
      for (const bundle of [bundles.a, bundles.b]) {
        const report = JSON.parse(await readFile(bundle.reportFile, 'utf8')) as Report;
        const expected = new Map<string, string>();
        for (const p of report.packages) {
          const location = p.locations[0];
          if (location?.layer) expected.set(`${p.purl}\n${location.path}`, location.layer);
        }
        assert.ok(expected.size > 0, 'the report names layers');
        const rows = await server.ctx.db
          .selectFrom('package_occurrences')
          .innerJoin('images', 'images.id', 'package_occurrences.image_id')
          .innerJoin('packages', 'packages.id', 'package_occurrences.package_id')
          .leftJoin('layers', 'layers.id', 'package_occurrences.layer_id')
          .select(['packages.purl', 'package_occurrences.path', 'layers.diff_id'])
          .where('images.digest', '=', bundle.digest)
          .execute();
        assert.equal(rows.length, expected.size);
        for (const row of rows) assert.equal(row.diff_id, expected.get(`${row.purl}\n${row.path}`), row.purl);
      }
    });
  });
});
