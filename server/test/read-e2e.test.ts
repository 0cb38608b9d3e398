// The read API on what the real ingest path wrote: two real bundles made by the CLI (Alpine 3.16.2, then 3.16.4 on the
// same repository track) pushed over POST /api/v1/ingest and processed by the ingest job; then the reads answer from
// those rows and blobs: the fleet list and counters, "which images have CVE-2023-0286", the report downloaded byte
// for byte, /diff equal to `lading diff -o json` of the two pushed reports, and /gates/evaluate equal to
// `lading scan --baseline`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { runLading } from './helpers/reports.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';

let bundles: TestBundles;
let cliDiff: string;
let cliGate: Report;
before(async () => {
  bundles = await makeBundles();
  const [diff, gate] = await Promise.all([
    runLading(['diff', bundles.a.reportFile, bundles.b.reportFile, '-o', 'json']),
    runLading([
      'scan',
      bundles.b.target,
      '--db-dir',
      bundles.dbDir,
      '--offline',
      '--baseline',
      bundles.a.reportFile,
      '-o',
      'json',
    ]),
  ]);
  cliDiff = diff.stdout;
  cliGate = JSON.parse(gate.stdout) as Report;
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('reads after real ingests', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        routes: [...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes), ingestRoutes()],
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
      for (const [bundle, tags, observedAt] of [
        [bundles.a, ['3.16.2', 'latest'], '2026-11-01T10:00:00Z'],
        [bundles.b, ['3.16.4', 'latest'], '2026-11-08T10:00:00Z'],
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

    it('lists both images, the newer one current with the moved tag, with counters matching its findings', async () => {
      const list = await server.api.get<{
        items: { digest: string; tags: string[]; counts: Record<string, number> }[];
      }>('/api/v1/images');
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(
        list.body.items.map((i) => [i.digest, i.tags]),
        [
          [bundles.b.digest, ['3.16.4', 'latest']],
          [bundles.a.digest, ['3.16.2']],
        ],
      );
      const current = await server.api.get<{ items: { digest: string }[] }>('/api/v1/images?current=true');
      assert.deepEqual(
        current.body.items.map((i) => i.digest),
        [bundles.b.digest],
      );
      for (const item of list.body.items) {
        const findings = await server.api.get<{ items: { severity: string }[] }>(
          `/api/v1/images/${item.digest}/findings?status=open&limit=200`,
        );
        const bySeverity = (s: string) => findings.body.items.filter((f) => f.severity === s).length;
        assert.deepEqual(item.counts, {
          critical: bySeverity('CRITICAL'),
          high: bySeverity('HIGH'),
          medium: bySeverity('MEDIUM'),
          low: bySeverity('LOW'),
          unknown: bySeverity('UNKNOWN'),
        });
      }
    });

    it('answers which images have CVE-2023-0286 (fixed in the newer build) by its CVE id', async () => {
      const all = await server.api.get<{ items: { digest: string }[] }>('/api/v1/vulnerabilities/CVE-2023-0286/images');
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(
        all.body.items.map((i) => i.digest),
        [bundles.a.digest],
      );
      const current = await server.api.get<{ items: unknown[] }>(
        '/api/v1/vulnerabilities/CVE-2023-0286/images?current=true',
      );
      assert.deepEqual(current.body.items, []);
    });

    it('downloads the pushed report byte for byte', async () => {
      const bytes = await readFile(bundles.b.reportFile);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const artifacts = await server.api.get<{ items: { sha256: string; role: string }[] }>(
        `/api/v1/images/${bundles.b.digest}/artifacts`,
      );
      assert.ok(
        artifacts.body.items.some((a) => a.sha256 === sha256 && a.role === 'report'),
        artifacts.text,
      );
      // raw bytes (the client decodes text), so the answer is checked against the OpenAPI document here
      const response = await fetch(`${server.url}/api/v1/artifacts/${sha256}`, {
        headers: { authorization: `Bearer ${server.admin.token}` },
      });
      assert.equal(response.status, 200);
      const downloaded = Buffer.from(await response.arrayBuffer());
      assert.ok(downloaded.equals(bytes));
      server.validator.check({
        method: 'GET',
        path: `/api/v1/artifacts/${sha256}`,
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: downloaded.toString('utf8'),
      });
    });

    it('diffs and gates the two builds exactly as the CLI does on the pushed reports', async () => {
      const diff = await server.api.get(`/api/v1/diff?to=${bundles.b.digest}&from=previous`);
      assert.equal(diff.status, 200, diff.text);
      assert.equal(diff.text, cliDiff);
      const gate = await server.api.post<{ verdict: string; reasons: string[]; notes: string[] }>(
        '/api/v1/gates/evaluate',
        { digest: bundles.b.digest, baseline: 'previous' },
      );
      assert.equal(gate.status, 200, gate.text);
      assert.deepEqual(
        [gate.body.verdict === 'pass', gate.body.reasons, gate.body.notes],
        [cliGate.gate?.pass, cliGate.gate?.reasons, cliGate.gate?.notes],
      );
    });
  });
});
