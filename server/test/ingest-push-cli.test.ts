import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

/** `lading push` (the CLI, run from source) against a real lading-server: the whole way from a CI step to the job. */

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('lading push → lading-server', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
    });
    after(() => server.close());

    it('pushes the report and SBOM, waits for the job and prints its outcome; the replay says so', async () => {
      const args = [
        'push',
        '--server',
        server.url,
        '--repository',
        'registry.example/acme/api',
        '--report',
        bundles.a.reportFile,
        '--sbom',
        bundles.a.sbomFile,
        '--tag',
        '1.0',
      ];
      const env = { LADING_SERVER_TOKEN: server.admin.token };
      const first = await runCli(args, { env });
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        new RegExp(`^${bundles.a.digest}: accepted \\(job job_[0-9A-Z]{26}\\): succeeded · critical \\d+, high \\d+`),
      );
      const again = await runCli(args, { env });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /already ingested/);
      const images = await server.ctx.db.selectFrom('images').select('digest').execute();
      assert.deepEqual(
        images.map((i) => i.digest),
        [bundles.a.digest],
      );
    });

    it("a report for another image is refused: exit 3 with the server's reason", async () => {
      const out = await runCli(
        [
          'push',
          '--server',
          server.url,
          '--repository',
          'registry.example/acme/api',
          '--digest',
          bundles.b.digest,
          '--report',
          bundles.a.reportFile,
        ],
        { env: { LADING_SERVER_TOKEN: server.admin.token } },
      );
      assert.equal(out.code, 3);
      assert.equal(
        out.stderr,
        `lading: lading-server refused /api/v1/ingest: 422 Unprocessable Content: report: target digest ${bundles.a.digest} differs from metadata.digest ${bundles.b.digest}\n`,
      );
    });

    it('an unknown token: exit 3, the 401 in one line', async () => {
      const out = await runCli(
        ['push', '--server', server.url, '--repository', 'registry.example/acme/api', '--report', bundles.a.reportFile],
        { env: { LADING_SERVER_TOKEN: 'lading_aaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' } },
      );
      assert.equal(out.code, 3);
      assert.match(out.stderr, /^lading: lading-server refused \/api\/v1\/ingest: 401 /);
    });
  });
});
