import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { REPO_ROOT } from '../../engine/test/helpers/paths.js';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { enqueue } from '../src/jobs/queue.js';
import { registerReanalysisJobs } from '../src/reanalysis/index.js';
import { registerVulndataJobs, uploadDirOf, VULNDB_DEDUPE_KEY, VULNDB_IMPORT } from '../src/vulndata/index.js';
import { openVulnReaders, type VulnReaders } from '../src/vulndata/reader.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { runLading } from './helpers/reports.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

/**
 * The shared reader of the vulnerability store (vulndata/reader.ts): one open reader per data generation, reused by
 * the jobs of a process, never serving data an update, an import or a replaced file made old.
 */

const OSV = join(REPO_ROOT, 'engine', 'test', 'fixtures', 'e2e', 'osv');
const STORE_FILE = 'vulndb.sqlite';

function work(): string {
  return mkdtempSync(join(tmpdir(), 'lading-vulndb-reader-'));
}

/** A folder holding only some records of the e2e data (the CLI's `db import` from a staging copy). */
async function importRecords(dbDir: string, files: readonly string[]): Promise<void> {
  const staging = work();
  try {
    for (const file of files) {
      const ecosystem = file.split('/')[0] ?? '';
      mkdirSync(join(staging, ecosystem), { recursive: true });
      copyFileSync(join(OSV, file), join(staging, file));
    }
    await runLading(['db', 'import', staging, '--db-dir', dbDir, '--quiet']);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const ids = (readers: VulnReaders, name: string) =>
  readers.use((store) => (store ? store.candidatesFor('Alpine:v3.16', name).map((c) => c.id) : undefined));

describe('the shared vulnerability reader', () => {
  it('opens lazily, is reused, sees in-place commits, and is replaced per generation and per file', async () => {
    const dir = work();
    const dbDir = join(dir, 'db');
    const readers = openVulnReaders(dbDir);
    try {
      // no store yet: nothing to read, and it is looked for again next time
      assert.equal(await ids(readers, 'openssl'), undefined);
      await importRecords(dbDir, ['Alpine/ALPINE-CVE-2022-37434.json']);
      assert.deepEqual(await ids(readers, 'openssl'), []);
      const first = await readers.use((store) => store);
      assert.equal(await readers.use((store) => store), first, 'the same reader serves the next job');

      // another process commits into the same file: the open reader answers the new state at once (its memo of
      // the earlier "no openssl advisory" answer is dropped), without being reopened
      await importRecords(dbDir, ['Alpine/ALPINE-CVE-2023-0286.json']);
      assert.deepEqual(await ids(readers, 'openssl'), ['ALPINE-CVE-2023-0286']);
      assert.equal(await readers.use((store) => store), first);

      // a generation made in this process: the next use opens a new reader and the old one is closed
      const held = await readers.acquire();
      readers.invalidate();
      const second = await readers.use((store) => store);
      assert.notEqual(second, first);
      // work that acquired the older reader keeps it until it releases it, then it is closed
      assert.deepEqual(
        held.store?.candidatesFor('Alpine:v3.16', 'openssl').map((c) => c.id),
        ['ALPINE-CVE-2023-0286'],
      );
      held.release();
      assert.throws(() => first?.candidatesFor('Alpine:v3.16', 'zlib'));

      // the file replaced (a restore): a new inode, so a new reader of the new content, not the unlinked file
      const other = join(dir, 'other');
      await importRecords(other, ['Alpine/ALPINE-CVE-2023-0464.json']);
      copyFileSync(join(other, STORE_FILE), join(dbDir, `${STORE_FILE}.restore`));
      rmSync(join(dbDir, `${STORE_FILE}-wal`), { force: true });
      rmSync(join(dbDir, `${STORE_FILE}-shm`), { force: true });
      renameSync(join(dbDir, `${STORE_FILE}.restore`), join(dbDir, STORE_FILE));
      assert.deepEqual(await ids(readers, 'openssl'), ['ALPINE-CVE-2023-0464']);
      const third = await readers.use((store) => store);
      assert.notEqual(third, second);
      assert.throws(() => second?.candidatesFor('Alpine:v3.16', 'zlib'));

      readers.close();
      assert.throws(() => third?.candidatesFor('Alpine:v3.16', 'zlib'));
    } finally {
      readers.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('ingest jobs with the shared reader', () => {
    let server: TestServer;
    let readers: VulnReaders;
    let dbDir: string;
    before(async () => {
      dbDir = join(work(), 'db');
      // the store exists but holds no Alpine data yet
      await importRecords(dbDir, ['npm/GHSA-29mw-wpgm-hmr9.json']);
      readers = openVulnReaders(dbDir);
      server = await startTestServer({
        database,
        routes: [...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes), ingestRoutes()],
        jobHandlers: (runner, ctx) => {
          registerIngestJob(runner, ctx, blobStoreOf(ctx), { readers });
          registerVulndataJobs(runner, ctx, { dbDir, readers });
          registerReanalysisJobs(runner, ctx, { dbDir, readers });
        },
      });
    });
    after(async () => {
      await server.close();
      readers.close();
    });

    async function awaitJob(url: string): Promise<{ state: string }> {
      const job = await server.api.get<{ state: string }>(`${url}?wait=60`);
      assert.equal(job.status, 200);
      return job.body;
    }

    async function findingsOf(digest: string): Promise<string[]> {
      const rows = await server.ctx.db
        .selectFrom('findings')
        .innerJoin('images', 'images.id', 'findings.image_id')
        .innerJoin('vulnerabilities', 'vulnerabilities.id', 'findings.vulnerability_id')
        .select('vulnerabilities.vuln_id')
        .where('images.digest', '=', digest)
        .where('findings.status', '=', 'open')
        .execute();
      return rows.map((r) => r.vuln_id).sort();
    }

    async function ingest(bundle: TestBundles['a'], tag: string): Promise<string[]> {
      const { body, headers } = await bundleBody(
        {
          repository: 'registry.example:5000/acme/api',
          digest: bundle.digest,
          tags: [tag],
          observedAt: '2026-01-01T00:00:00Z',
        },
        [
          ['sbom', bundle.sbomFile],
          ['report', bundle.reportFile],
        ],
      );
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.equal(accepted.status, 202, accepted.text);
      const job = await awaitJob(accepted.body.job.url);
      assert.equal(job.state, 'succeeded');
      return findingsOf(bundle.digest);
    }

    it('the job after an import reads the new generation', async () => {
      assert.deepEqual(await ingest(bundles.a, 'a'), [], 'no Alpine data: nothing matched');
      // the CLI's report of b (the full e2e data): import one of its Alpine advisories through the server's job
      const report = JSON.parse(readFileSync(bundles.b.reportFile, 'utf8')) as Report;
      const finding = report.findings.find((f) => f.aliases.some((a) => a.startsWith('ALPINE-')));
      const record = finding?.aliases.find((a) => a.startsWith('ALPINE-'));
      assert.ok(finding && record, 'the e2e data has an Alpine advisory for b');
      const wanted = finding.id;
      const file = `${'0'.repeat(32)}.json`;
      mkdirSync(uploadDirOf(server.ctx), { recursive: true });
      writeFileSync(join(uploadDirOf(server.ctx), file), readFileSync(join(OSV, 'Alpine', `${record}.json`)));
      const queued = await enqueue(server.ctx.db, server.ctx.now(), {
        kind: VULNDB_IMPORT,
        payload: { file },
        dedupeKey: VULNDB_DEDUPE_KEY,
      });
      server.ctx.jobSignals.enqueued();
      const imported = await awaitJob(`/api/v1/jobs/${queued.publicId}`);
      assert.equal(imported.state, 'succeeded');
      const found = await ingest(bundles.b, 'b');
      assert.ok(found.includes(wanted), `${wanted} in ${JSON.stringify(found)}`);
      // the re-analysis the generation queued matched image a again with the shared reader: it sees the import too
      const aReport = JSON.parse(readFileSync(bundles.a.reportFile, 'utf8')) as Report;
      assert.ok(
        aReport.findings.some((f) => f.id === wanted),
        'the CLI finds it in a as well',
      );
      const reanalysis = await server.ctx.db
        .selectFrom('jobs')
        .select('public_id')
        .where('kind', '=', 'reanalyze')
        .executeTakeFirstOrThrow();
      assert.equal((await awaitJob(`/api/v1/jobs/${reanalysis.public_id}`)).state, 'succeeded');
      assert.ok((await findingsOf(bundles.a.digest)).includes(wanted));
    });
  });
});
