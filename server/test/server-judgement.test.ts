// `/diff` and `/gates/evaluate` answer from the server's own findings, on both engines: two real CLI bundles (Alpine
// 3.16.2 then 3.16.4) ingested by the ingest job into one repository give exactly `lading diff -o json` and the
// verdict of `lading scan --baseline` (the server's matcher found what the CLI found); then an advisory imported
// into the server's store names a package only at the newer image's version, re-analysis adds the finding to that
// image alone, and the gate and the diff see it (the reports CI pushed do not hold it), and `/trends` for the
// repository counts what the gate counted.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { recordDailyMetrics } from '../src/metrics/index.js';
import { registerReanalysisJobs } from '../src/reanalysis/index.js';
import { registerVulndataJobs } from '../src/vulndata/index.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { runLading } from './helpers/reports.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPO = 'registry.example:5000/acme/judged';
const ADVISORY = 'ALPINE-CVE-2099-0777';
const FINDING_IDS = [ADVISORY, 'CVE-2099-0777'];

interface GateBody {
  verdict: string;
  reasons: string[];
  notes: string[];
  newCritical: string[];
  counts: { critical: number; high: number; medium: number; low: number; unknown: number };
}
interface DiffBody {
  findings: { new: { id: string; package: { name: string; version: string } }[]; fixed: unknown[] };
}

let bundles: TestBundles;
let cliDiff = '';
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
  describe('the gate, the diff and the trends judge the server findings', () => {
    let server: TestServer;
    let work = '';
    let pkg = { name: '', version: '' };

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'lading-judgement-'));
      const dbDir = join(work, 'db');
      await cp(bundles.dbDir, dbDir, { recursive: true });
      server = await startTestServer({
        database,
        routes: [...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes), ingestRoutes()],
        jobHandlers: (runner, ctx) => {
          registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: dbDir });
          registerVulndataJobs(runner, ctx, { dbDir });
          registerReanalysisJobs(runner, ctx, { dbDir });
        },
      });
      for (const [bundle, observedAt] of [
        [bundles.a, '2026-11-01T10:00:00Z'],
        [bundles.b, '2026-11-08T10:00:00Z'],
      ] as const) {
        const { body, headers } = await bundleBody(
          { repository: REPO, digest: bundle.digest, tags: ['latest'], observedAt },
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
      // an apk package whose version differs between the two images: the advisory names the newer version only
      const versions = async (digest: string) =>
        new Map(
          (
            await server.ctx.db
              .selectFrom('package_occurrences as o')
              .innerJoin('packages as p', 'p.id', 'o.package_id')
              .innerJoin('images as i', 'i.id', 'o.image_id')
              .select(['p.match_name', 'p.version'])
              .where('i.digest', '=', digest)
              .where('p.type', '=', 'apk')
              .execute()
          ).map((r) => [r.match_name ?? '', r.version]),
        );
      const [inA, inB] = await Promise.all([versions(bundles.a.digest), versions(bundles.b.digest)]);
      const name = [...inB.keys()].filter((n) => n && inA.has(n) && inA.get(n) !== inB.get(n)).sort()[0] ?? '';
      assert.ok(name, 'the two images hold one apk package at two versions');
      pkg = { name, version: inB.get(name) ?? '' };
    });
    after(async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    });

    it('gives exactly the CLI diff and the CLI baseline verdict when the server found what the CLI found', async () => {
      const diff = await server.api.get(`/api/v1/diff?to=${bundles.b.digest}`);
      assert.equal(diff.status, 200, diff.text);
      assert.equal(diff.text, cliDiff);
      const gate = await server.api.post<GateBody>('/api/v1/gates/evaluate', { digest: bundles.b.digest });
      assert.equal(gate.status, 200, gate.text);
      assert.deepEqual(
        [gate.body.verdict === 'pass', gate.body.reasons, gate.body.notes],
        [cliGate.gate?.pass, cliGate.gate?.reasons, cliGate.gate?.notes],
      );
      assert.deepEqual(gate.body.counts, cliGate.summary.bySeverity);
    });

    it('judges images that came with an SBOM only (no report): the server matched them itself', async () => {
      const R2 = 'registry.example:5000/acme/sbom-only';
      // other digests than the reported ones (a rebuild with the same packages), so no report is stored for them
      const A2 = `sha256:${'a2'.repeat(32)}`;
      const B2 = `sha256:${'b2'.repeat(32)}`;
      for (const [bundle, digest, observedAt] of [
        [bundles.a, A2, '2026-11-02T10:00:00Z'],
        [bundles.b, B2, '2026-11-09T10:00:00Z'],
      ] as const) {
        const { body, headers } = await bundleBody({ repository: R2, digest, tags: ['latest'], observedAt }, [
          ['sbom', bundle.sbomFile],
        ]);
        const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', {
          body,
          headers,
        });
        assert.equal(accepted.status, 202, accepted.text);
        const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
        assert.equal(job.body.state, 'succeeded', job.text);
      }
      // judged on the server's findings over the SBOMs' inventories: the CLI's new and fixed findings
      const cli = JSON.parse(cliDiff) as DiffBody;
      const ids = (list: { id: string }[]) => list.map((f) => f.id).sort();
      const diff = await server.api.get<DiffBody>(`/api/v1/diff?to=${B2}`);
      assert.equal(diff.status, 200, diff.text);
      assert.deepEqual(
        [ids(diff.body.findings.new), ids(diff.body.findings.fixed as { id: string }[])],
        [ids(cli.findings.new), ids(cli.findings.fixed as { id: string }[])],
      );
    });

    it('sees a finding re-analysis added after ingest, and /trends counts what the gate counted', async () => {
      const record = {
        id: ADVISORY,
        modified: '2026-11-20T00:00:00Z',
        published: '2026-11-19T00:00:00Z',
        upstream: ['CVE-2099-0777'],
        details: 'a test advisory for the newer build only',
        affected: [
          {
            package: { ecosystem: 'Alpine:v3.16', name: pkg.name },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: pkg.version }] }],
          },
        ],
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      };
      const imported = await server.api.request<{ url: string }>('POST', '/api/v1/system/vulndb/import', {
        body: JSON.stringify(record),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(imported.status, 202, imported.text);
      const job = await server.api.get<{ state: string; result: { generation: number } }>(
        `${imported.body.url}?wait=60`,
      );
      assert.equal(job.body.state, 'succeeded', job.text);
      const queued = await server.ctx.db
        .selectFrom('jobs')
        .select('public_id')
        .where('dedupe_key', '=', `reanalyze:${job.body.result.generation}`)
        .executeTakeFirstOrThrow();
      const done = await server.api.get<{ state: string }>(`/api/v1/jobs/${queued.public_id}?wait=60`);
      assert.equal(done.body.state, 'succeeded', done.text);
      const rows = await server.ctx.db
        .selectFrom('findings as f')
        .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
        .innerJoin('images as i', 'i.id', 'f.image_id')
        .select(['i.digest', 'f.detected_by'])
        .where('v.vuln_id', 'in', FINDING_IDS)
        .execute();
      assert.ok(rows.every((r) => r.detected_by === 'reanalysis'));
      // the newer build has it (and the SBOM-only image with its packages), the older one does not
      const inB = rows.filter((r) => r.digest === bundles.b.digest);
      assert.ok(inB.length > 0);
      assert.ok(!rows.some((r) => r.digest === bundles.a.digest));

      const diff = await server.api.get<DiffBody>(`/api/v1/diff?to=${bundles.b.digest}`);
      assert.equal(diff.status, 200, diff.text);
      const added = diff.body.findings.new.filter((f) => FINDING_IDS.includes(f.id));
      assert.equal(added.length, inB.length);
      assert.ok(added.every((f) => f.package.version === pkg.version));
      assert.notEqual(diff.text, cliDiff);

      const gate = await server.api.post<GateBody>('/api/v1/gates/evaluate', { digest: bundles.b.digest });
      assert.equal(gate.status, 200, gate.text);
      assert.equal(gate.body.verdict, 'fail');
      assert.ok(
        gate.body.newCritical.some((line) => FINDING_IDS.some((id) => line.startsWith(`${id} `))),
        gate.body.newCritical.join('\n'),
      );
      assert.equal(gate.body.counts.critical, (cliGate.summary.bySeverity.critical ?? 0) + inB.length);

      await recordDailyMetrics(server.ctx.db, server.ctx.now());
      const trends = await server.api.get<{ points: GateBody['counts'][] }>(
        `/api/v1/trends?scope=${encodeURIComponent(`repository:${REPO}`)}&interval=day`,
      );
      assert.equal(trends.status, 200, trends.text);
      const last = trends.body.points.at(-1);
      assert.ok(last, trends.text);
      assert.deepEqual(
        { critical: last.critical, high: last.high, medium: last.medium, low: last.low, unknown: last.unknown },
        gate.body.counts,
      );
    });
  });
});
