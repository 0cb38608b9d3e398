// The `/diff` and `/gates/evaluate` caches (queries/report-cache.ts): a repeated request is answered from them
// (observed through their counters, not timings), and they are never stale: after an exception suppresses a finding,
// after re-analysis adds one and after a re-ingest brings a new report, the next answer is the one computed from the
// rows without any cache; the bounds on entries and bytes hold. Two real CLI bundles (Alpine 3.16.2, then 3.16.4),
// ingested by the ingest job, on both engines.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { REPO_ROOT } from '../../engine/test/helpers/paths.js';
import { MAX_STORED_REPORT_BYTES } from '../src/api/diff.js';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { readBlob } from '../src/api/read-common.js';
import { ROUTE_MODULES } from '../src/app.js';
import type { ServerContext } from '../src/context.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { diffJson, parseStoredReport } from '../src/queries/compare.js';
import { findingRowsOf, withServerFindings } from '../src/queries/diff-input.js';
import {
  BoundedCache,
  configureReportCaches,
  DEFAULT_DIFF_CACHE,
  DEFAULT_REPORT_CACHE,
  fingerprint,
  reportCacheStats,
} from '../src/queries/report-cache.js';
import { reportOf } from '../src/queries/reports.js';
import { registerReanalysisJobs } from '../src/reanalysis/index.js';
import { registerVulndataJobs } from '../src/vulndata/index.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { runLading } from './helpers/reports.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPO = 'registry.example:5000/acme/cached';
const ADVISORY = 'ALPINE-CVE-2099-0778';
const DAY = 86_400_000;

interface DiffFinding {
  id: string;
  package: { name: string; version: string };
  suppressed?: unknown;
}
interface DiffBody {
  new: { createdAt: string };
  findings: { new: DiffFinding[]; fixed: DiffFinding[]; unchanged: number };
}
interface GateBody {
  verdict: string;
  reasons: string[];
  notes: string[];
}

describe('the bounded LRU cache', () => {
  it('evicts the least recently used entry past its entry bound', () => {
    const cache = new BoundedCache<string>({ maxEntries: 2, maxBytes: 1000 });
    cache.set('a', 'A', 1);
    cache.set('b', 'B', 1);
    assert.equal(cache.get('a'), 'A'); // a is now the newest
    cache.set('c', 'C', 1);
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual([cache.get('a'), cache.get('c')], ['A', 'C']);
    assert.deepEqual(cache.stats(), { entries: 2, bytes: 2, hits: 3, misses: 1, evictions: 1 });
  });

  it('evicts past its byte bound, keeps no entry larger than the bound, and replaces a key in place', () => {
    const cache = new BoundedCache<string>({ maxEntries: 100, maxBytes: 10 });
    cache.set('a', 'A', 4);
    cache.set('b', 'B', 4);
    cache.set('c', 'C', 4); // 12 > 10: a goes
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.stats().bytes, 8);
    cache.set('big', 'X', 11);
    assert.equal(cache.get('big'), undefined);
    assert.equal(cache.stats().bytes, 8);
    cache.set('b', 'B2', 2);
    assert.deepEqual([cache.get('b'), cache.stats().bytes, cache.stats().entries], ['B2', 6, 2]);
  });

  it('keeps nothing with a zero entry bound', () => {
    const cache = new BoundedCache<string>({ maxEntries: 0, maxBytes: 10 });
    cache.set('a', 'A', 1);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.stats().entries, 0);
  });

  it('fingerprints lists of parts unambiguously', () => {
    assert.notEqual(fingerprint(['ab', 'c']), fingerprint(['a', 'bc']));
    assert.notEqual(fingerprint(['1:a']), fingerprint(['1', 'a']));
    assert.equal(fingerprint(['x', 'y']), fingerprint(['x', 'y']));
  });
});

let bundles: TestBundles;
let cliDiff = '';
let cliGate: Report;
let cliPolicyGate: Report;
let policyDir = '';
let policyFile = '';
before(async () => {
  bundles = await makeBundles();
  // the e2e gates policy, plus an exception for a finding the newer image has (applied by `assess` to a copy)
  const newer = JSON.parse(await readFile(bundles.b.reportFile, 'utf8')) as Report;
  const excepted = newer.findings.find((f) => !f.suppressed);
  assert.ok(excepted, 'the newer image has an unsuppressed finding');
  const base = await readFile(join(REPO_ROOT, 'engine/test/fixtures/e2e/gates/policy.yaml'), 'utf8');
  policyDir = await mkdtemp(join(tmpdir(), 'lading-report-cache-policy-'));
  policyFile = join(policyDir, 'policy.yaml');
  await writeFile(
    policyFile,
    `${base.trimEnd()}\n  - vulnerability: ${excepted.id}\n    reason: excepted by the cache test\n`,
  );
  const [diff, gate, policyGate] = await Promise.all([
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
    runLading(
      [
        'scan',
        bundles.b.target,
        '--db-dir',
        bundles.dbDir,
        '--offline',
        '--baseline',
        bundles.a.reportFile,
        '--policy',
        policyFile,
        '-o',
        'json',
      ],
      { allowFailure: true },
    ),
  ]);
  cliDiff = diff.stdout;
  cliGate = JSON.parse(gate.stdout) as Report;
  cliPolicyGate = JSON.parse(policyGate.stdout) as Report;
});
after(async () => {
  await bundles.dispose();
  await rm(policyDir, { recursive: true, force: true });
});

/** The `/diff` answer computed from the rows and the stored reports now, by the same builders, with no cache. */
async function uncachedDiff(ctx: ServerContext, from: string, to: string): Promise<string> {
  const judged = async (digest: string): Promise<Report> => {
    const image = await ctx.db.selectFrom('images').select('id').where('digest', '=', digest).executeTakeFirstOrThrow();
    const stored = await reportOf(ctx.db, image.id);
    assert.ok(stored, `a report is stored for ${digest}`);
    const bytes = await readBlob(blobStoreOf(ctx), stored.sha256, MAX_STORED_REPORT_BYTES);
    return withServerFindings(parseStoredReport(bytes, 'report'), await findingRowsOf(ctx.db, image.id));
  };
  return diffJson(await judged(from), await judged(to));
}

forEachDatabase((database) => {
  describe('the /diff and /gates/evaluate caches', () => {
    let server: TestServer;
    let work = '';
    const diffPath = () => `/api/v1/diff?to=${bundles.b.digest}`;
    const stats = () => reportCacheStats(server.ctx.db);
    const ingest = async (reportFile: string, observedAt: string, digest: string) => {
      const { body, headers } = await bundleBody({ repository: REPO, digest, tags: ['latest'], observedAt }, [
        ['sbom', digest === bundles.a.digest ? bundles.a.sbomFile : bundles.b.sbomFile],
        ['report', reportFile],
      ]);
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', {
        body,
        headers,
      });
      assert.equal(accepted.status, 202, accepted.text);
      const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', job.text);
    };
    /** `/diff` now, asserted equal to the answer built without any cache. */
    const checkedDiff = async () => {
      const answer = await server.api.get<DiffBody>(diffPath());
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, await uncachedDiff(server.ctx, bundles.a.digest, bundles.b.digest));
      return answer;
    };

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'lading-report-cache-'));
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
      await ingest(bundles.a.reportFile, '2026-11-01T10:00:00Z', bundles.a.digest);
      await ingest(bundles.b.reportFile, '2026-11-08T10:00:00Z', bundles.b.digest);
    });
    after(async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    });

    it('answers a second identical /diff and the gate from the cache, byte-identical to the CLI', async () => {
      configureReportCaches(server.ctx.db, { reports: DEFAULT_REPORT_CACHE, diffs: DEFAULT_DIFF_CACHE });
      const first = await server.api.get(diffPath());
      assert.equal(first.status, 200, first.text);
      assert.equal(first.text, cliDiff);
      assert.deepEqual(
        [stats().reports.built, stats().reports.hits, stats().diffs.misses, stats().diffs.hits],
        [2, 0, 1, 0],
      );
      const second = await server.api.get(diffPath());
      assert.equal(second.text, cliDiff);
      assert.deepEqual(
        [stats().reports.built, stats().reports.hits, stats().diffs.misses, stats().diffs.hits],
        [2, 2, 1, 1],
      );
      // the gate judges the same two reports: from the cache, with the CLI's verdict
      const gate = await server.api.post<GateBody>('/api/v1/gates/evaluate', { digest: bundles.b.digest });
      assert.equal(gate.status, 200, gate.text);
      assert.deepEqual(
        [gate.body.verdict === 'pass', gate.body.reasons, gate.body.notes],
        [cliGate.gate?.pass, cliGate.gate?.reasons, cliGate.gate?.notes],
      );
      assert.deepEqual([stats().reports.built, stats().reports.hits], [2, 4]);
      // the reverse diff is another answer over the same two cached reports
      const reverse = await server.api.get(`/api/v1/diff?from=${bundles.b.digest}&to=${bundles.a.digest}`);
      assert.equal(reverse.text, await uncachedDiff(server.ctx, bundles.b.digest, bundles.a.digest));
      assert.deepEqual([stats().reports.built, stats().diffs.entries], [2, 2]);
    });

    it('gates with a policy (its exceptions applied to copies) on cached reports as the CLI does', async () => {
      const policy = await readFile(policyFile, 'utf8');
      assert.ok(cliPolicyGate.findings.some((f) => f.suppressed?.kind === 'policy-exception'));
      const answers = [];
      for (let i = 0; i < 2; i++) {
        const gate = await server.api.post<GateBody>('/api/v1/gates/evaluate', { digest: bundles.b.digest, policy });
        assert.equal(gate.status, 200, gate.text);
        answers.push(gate.body);
      }
      assert.deepEqual(answers[1], answers[0]);
      assert.deepEqual(
        [answers[0]?.verdict === 'pass', answers[0]?.reasons, answers[0]?.notes],
        [cliPolicyGate.gate?.pass, cliPolicyGate.gate?.reasons, cliPolicyGate.gate?.notes],
      );
      // and the cached reports were left as they were: the diff is still the CLI's
      assert.equal((await server.api.get(diffPath())).text, cliDiff);
    });

    it('builds a report once for concurrent identical requests', async () => {
      configureReportCaches(server.ctx.db, { reports: DEFAULT_REPORT_CACHE, diffs: DEFAULT_DIFF_CACHE });
      const answers = await Promise.all(Array.from({ length: 4 }, () => server.api.get(diffPath())));
      for (const answer of answers) assert.equal(answer.text, cliDiff);
      assert.equal(stats().reports.built, 2);
    });

    it('is not stale after an exception suppresses a finding, and answers as before once it is revoked', async () => {
      await checkedDiff(); // the state before is cached
      const newer = JSON.parse(await readFile(bundles.b.reportFile, 'utf8')) as Report;
      const target = newer.findings.find((f) => !f.suppressed);
      assert.ok(target, 'the newer image has an unsuppressed finding');
      const created = await server.api.post<{ id: string; suppressedFindings: number }>('/api/v1/exceptions', {
        vulnerability: target.id,
        repository: REPO,
        image: bundles.b.digest,
        package: target.package.name,
        status: 'accepted_risk',
        reason: 'the cache test suppresses it',
        expiresAt: new Date(server.ctx.now() + 30 * DAY).toISOString(),
      });
      assert.equal(created.status, 201, created.text);
      assert.ok(created.body.suppressedFindings > 0, created.text);
      const built = stats().reports.built;
      const suppressed = await checkedDiff();
      // no longer counted in the newer image: one fewer unchanged, and "fixed" as far as the diff can tell
      const cli = JSON.parse(cliDiff) as DiffBody;
      assert.ok(suppressed.body.findings.unchanged < cli.findings.unchanged, suppressed.text.slice(0, 400));
      assert.ok(
        suppressed.body.findings.fixed.some((f) => f.id === target.id && f.package.name === target.package.name),
        'the suppressed finding is no longer in the newer image',
      );
      assert.equal(stats().reports.built, built + 1, 'the newer image was rebuilt, the older one was not');
      const revoked = await server.api.request('DELETE', `/api/v1/exceptions/${created.body.id}`);
      assert.equal(revoked.status, 204, revoked.text);
      // the rows are as they were: the first answer again. SQLite keys the rows' content, so it comes from the
      // cache; PostgreSQL keys the rows' versions (each revoked finding is a new version), so it is rebuilt
      const hits = stats().diffs.hits;
      const rebuilt = stats().reports.built;
      const back = await checkedDiff();
      assert.equal(back.text, cliDiff);
      if (server.ctx.dialect === 'postgres') {
        assert.equal(stats().diffs.hits, hits);
        assert.equal(stats().reports.built, rebuilt + 1);
      } else {
        assert.equal(stats().diffs.hits, hits + 1);
      }
    });

    it('is not stale after re-analysis adds a finding to the newer image', async () => {
      await checkedDiff();
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
      const record = {
        id: ADVISORY,
        modified: '2026-11-20T00:00:00Z',
        published: '2026-11-19T00:00:00Z',
        details: 'a test advisory for the newer build only',
        affected: [
          {
            package: { ecosystem: 'Alpine:v3.16', name },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: inB.get(name) ?? '' }] }],
          },
        ],
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
      const answer = await checkedDiff();
      assert.ok(
        answer.body.findings.new.some((f) => f.id === ADVISORY),
        'the finding re-analysis added is new in the diff',
      );
    });

    it('is not stale after vulnerability rows change (KEV; EPSS, including a non-finite one)', async () => {
      await checkedDiff();
      type Shown = DiffFinding & { kev?: boolean; epss?: number | null };
      const cli = JSON.parse(cliDiff) as DiffBody;
      const fixed = cli.findings.fixed[0] as Shown | undefined;
      assert.ok(fixed, 'the newer image fixes a finding of the older one');
      const update = (id: string, values: { kev?: number; epss?: number | null }) =>
        server.ctx.db.updateTable('vulnerabilities').set(values).where('vuln_id', '=', id).execute();
      // the KEV mark comes from the row for every finding
      await update(fixed.id, { kev: fixed.kev ? 0 : 1 });
      const kev = await checkedDiff();
      const shown = (kev.body.findings.fixed as Shown[]).find((f) => f.id === fixed.id);
      assert.equal(shown?.kev, !fixed.kev);
      await update(fixed.id, { kev: fixed.kev ? 1 : 0 });
      // EPSS shows on a finding written from its row (the one re-analysis added); JSON writes NaN as null, and the
      // key must still tell NaN from null (PostgreSQL's real holds NaN; SQLite stores it as NULL, the same rows)
      const epssOf = (body: DiffBody) => (body.findings.new as Shown[]).find((f) => f.id === ADVISORY)?.epss;
      await update(ADVISORY, { epss: 0.25 });
      assert.equal(epssOf((await checkedDiff()).body), 0.25);
      await update(ADVISORY, { epss: Number.NaN });
      const withNaN = await checkedDiff();
      await update(ADVISORY, { epss: null });
      const withNull = await checkedDiff();
      assert.equal(epssOf(withNull.body), undefined);
      if (database === 'postgres') assert.notEqual(withNaN.text, withNull.text);
    });

    it('is not stale after a re-ingest stores a newer report for the image', async () => {
      const before = await checkedDiff();
      const report = JSON.parse(await readFile(bundles.b.reportFile, 'utf8')) as Report;
      const createdAt = '2026-11-30T10:00:00.000Z';
      assert.notEqual(before.body.new.createdAt, createdAt);
      const file = join(work, 'report-again.json');
      await writeFile(file, JSON.stringify({ ...report, createdAt }, null, 2));
      await ingest(file, '2026-11-30T10:00:00Z', bundles.b.digest);
      const answer = await checkedDiff();
      assert.equal(answer.body.new.createdAt, createdAt);
    });

    it('holds its bounds on entries and bytes', async () => {
      const huge = 1 << 30;
      configureReportCaches(server.ctx.db, {
        reports: { maxEntries: 1, maxBytes: huge },
        diffs: { maxEntries: 1, maxBytes: huge },
      });
      await checkedDiff();
      const reverse = await server.api.get(`/api/v1/diff?from=${bundles.b.digest}&to=${bundles.a.digest}`);
      assert.equal(reverse.status, 200, reverse.text);
      let now = stats();
      assert.deepEqual([now.reports.entries, now.diffs.entries], [1, 1]);
      assert.ok(now.reports.evictions >= 1 && now.diffs.evictions >= 1, JSON.stringify(now));

      // a byte bound smaller than one report keeps none, and the answers stay right
      configureReportCaches(server.ctx.db, {
        reports: { maxEntries: 100, maxBytes: 1024 },
        diffs: { maxEntries: 100, maxBytes: 1024 },
      });
      await checkedDiff();
      await checkedDiff();
      now = stats();
      assert.deepEqual(
        [now.reports.entries, now.reports.bytes, now.reports.built, now.diffs.entries, now.diffs.bytes],
        [0, 0, 4, 0, 0],
      );

      // a byte bound of about two reports keeps at most that many bytes
      configureReportCaches(server.ctx.db, {
        reports: { maxEntries: 100, maxBytes: huge },
        diffs: { maxEntries: 100, maxBytes: huge },
      });
      await checkedDiff();
      const oneReport = Math.ceil(stats().reports.bytes / 2);
      configureReportCaches(server.ctx.db, {
        reports: { maxEntries: 100, maxBytes: oneReport + 16 },
        diffs: { maxEntries: 100, maxBytes: huge },
      });
      await checkedDiff();
      now = stats();
      assert.ok(now.reports.bytes <= oneReport + 16, JSON.stringify(now));
      assert.ok(now.reports.entries <= 1, JSON.stringify(now));
    });
  });
});
