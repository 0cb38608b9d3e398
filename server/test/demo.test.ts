// The demo fleet (`npm run demo`): six builds of the example image under demo.lading.local/, scanned by the CLI
// against examples/osv and pushed through the real ingest API into an empty server, on both engines. The fixes it
// stages must show: the API's latest build fixes everything, the worker keeps only OpenSSL's CVE, lodash's CVEs are
// in no current image but in three older ones, and a second seeding is never needed (the fleet is not empty).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_DOMAIN, DEMO_FLEET, seedDemoFleet } from '../src/demo.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

interface ImageItem {
  digest: string;
  repository: string;
  tags: string[];
  counts: Record<string, number>;
}

forEachDatabase((database) => {
  describe('the demo fleet', () => {
    let server: TestServer;
    const lines: string[] = [];
    before(async () => {
      server = await startTestServer({
        database,
        // the server's own vulnerability store (<data dir>/vulndb), which the demo fills from examples/osv
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx)),
      });
      assert.equal(await seedDemoFleet(server, (line) => lines.push(line)), DEMO_FLEET.length);
    });
    after(() => server.close());

    it('pushes every build under the demo domain, each current tag on its newest build', async () => {
      assert.equal(lines.length, DEMO_FLEET.length);
      const all = await server.api.get<{ items: ImageItem[] }>('/api/v1/images?limit=50');
      assert.equal(all.status, 200, all.text);
      assert.equal(all.body.items.length, DEMO_FLEET.length);
      assert.ok(all.body.items.every((i) => i.repository.startsWith(`${DEMO_DOMAIN}/`)));
      const current = await server.api.get<{ items: ImageItem[] }>('/api/v1/images?current=true&limit=50');
      const byRepo = new Map(current.body.items.map((i) => [i.repository, i]));
      assert.deepEqual([...byRepo.keys()].sort(), [
        `${DEMO_DOMAIN}/shop/api`,
        `${DEMO_DOMAIN}/shop/worker`,
        `${DEMO_DOMAIN}/tools/exporter`,
      ]);
      assert.deepEqual(byRepo.get(`${DEMO_DOMAIN}/shop/api`)?.tags, ['1.2.0', 'latest']);
      // both fixes in the API's newest build; the worker bumped lodash only (CVE-2023-5363 in libssl3 and openssl)
      assert.deepEqual(byRepo.get(`${DEMO_DOMAIN}/shop/api`)?.counts, {
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        unknown: 0,
      });
      assert.deepEqual(byRepo.get(`${DEMO_DOMAIN}/shop/worker`)?.counts, {
        critical: 0,
        high: 2,
        medium: 0,
        low: 0,
        unknown: 0,
      });
      const overview = await server.api.get<{ currentImages: number }>('/api/v1/overview');
      assert.equal(overview.body.currentImages, 3);
    });

    it("answers lodash's CVE-2021-23337 in three older builds and no current one", async () => {
      const all = await server.api.get<{ items: ImageItem[] }>('/api/v1/vulnerabilities/CVE-2021-23337/images');
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(all.body.items.map((i) => `${i.repository}`).sort(), [
        `${DEMO_DOMAIN}/shop/api`,
        `${DEMO_DOMAIN}/shop/api`,
        `${DEMO_DOMAIN}/shop/worker`,
      ]);
      const current = await server.api.get<{ items: unknown[] }>(
        '/api/v1/vulnerabilities/CVE-2021-23337/images?current=true',
      );
      assert.deepEqual(current.body.items, []);
    });
  });
});
