// GET /api/v1/system/vulndb on both engines, through the validating client: a fresh server answers 200 with
// `status: no-data` (never an error); an offline import shows its generation (source import) and the ecosystem's
// newest advisory time; an update from a local mirror shows its generation (source update), the KEV and EPSS refresh
// times and the last vulndb.update job; readers may look, a token without the read scope may not.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LADING_VERSION } from '@lading/engine/version';
import { resolveSources } from '@lading/engine/vulndb';
import { startFileServer } from '../../engine/test/helpers/http-server.js';
import { ecosystemEntries, FIXTURES } from '../../engine/test/helpers/vulndb-fixtures.js';
import { buildZip } from '../../engine/test/helpers/zip-writer.js';
import { createApiToken, type Scope } from '../src/auth/index.js';
import type { VulndbFreshness } from '../src/vulndata/freshness.js';
import { registerVulndataJobs } from '../src/vulndata/index.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const T = Date.UTC(2026, 0, 10, 12);

interface Accepted {
  url: string;
}
interface JobDone {
  id: string;
  state: string;
  result: { generation: number } | null;
  error: { message: string } | null;
}

forEachDatabase((kind) => {
  describe('vulnerability data freshness', () => {
    let server: TestServer;
    let mirror: Awaited<ReturnType<typeof startFileServer>>;
    const clock = new TestClock(T);
    const closers: (() => unknown)[] = [];

    before(async () => {
      mirror = await startFileServer(
        { after: (fn: () => unknown) => closers.push(fn) },
        {
          '/PyPI/all.zip': { body: buildZip(ecosystemEntries('PyPI')), etag: '"pypi-1"' },
          '/known_exploited_vulnerabilities.json': {
            body: readFileSync(`${FIXTURES}known_exploited_vulnerabilities.json`),
          },
          '/epss_scores-current.csv.gz': { body: readFileSync(`${FIXTURES}epss_scores-current.csv`) },
        },
      );
      server = await startTestServer({
        database: kind,
        clock,
        jobHandlers: (runner, ctx) => registerVulndataJobs(runner, ctx, { sources: resolveSources(mirror.url) }),
      });
    });
    after(async () => {
      await server?.close();
      for (const close of closers) await close();
    });

    const freshness = async (token?: string) => {
      const res = await server.api.get<VulndbFreshness>('/api/v1/system/vulndb', token ? { token } : {});
      assert.equal(res.status, 200, res.text);
      return res.body;
    };
    const finished = async (accepted: { status: number; text: string; body: Accepted }) => {
      assert.equal(accepted.status, 202, accepted.text);
      const res = await server.api.get<JobDone>(`${accepted.body.url}?wait=60`);
      assert.equal(res.body.state, 'succeeded', JSON.stringify(res.body.error));
      return res.body;
    };
    const tokenWith = async (scopes: Scope[]) =>
      (
        await createApiToken(server.ctx, {
          name: scopes.join('+'),
          scopes,
          repositoryPattern: 'ghcr.io/other/*',
          expiresAt: server.ctx.now() + 86_400_000,
          ownerUserId: server.admin.userId,
        })
      ).token;

    it('a fresh server says there is no data yet, in the status field, not with an error', async () => {
      const body = await freshness();
      assert.equal(body.status, 'no-data');
      assert.match(body.summary, /^no vulnerability data yet/);
      assert.equal(body.generation, null);
      assert.deepEqual(body.ecosystems, []);
      assert.equal(body.newestRecord, null);
      assert.equal(body.lastUpdateJob, null);
      assert.deepEqual(body.kev, { entries: 0, catalogVersion: null, updatedAt: null });
      assert.equal(body.epss.scores, 0);
      assert.equal(body.matcherVersion, LADING_VERSION);
    });

    it('after an offline import: the import generation, the ecosystem and its newest advisory time', async () => {
      const record = JSON.parse(readFileSync(`${FIXTURES}osv/PyPI/GHSA-j8r2-6x86-q33q.json`, 'utf8'));
      record.id = 'PYSEC-2099-1';
      record.aliases = [];
      record.modified = '2026-01-09T13:00:00Z';
      record.affected[0].package.name = 'lading-test-pkg';
      clock.advance(60_000);
      const job = await finished(
        await server.api.request<Accepted>('POST', '/api/v1/system/vulndb/import', {
          body: JSON.stringify(record),
          headers: { 'content-type': 'application/json' },
        }),
      );
      const body = await freshness();
      assert.equal(body.status, 'ready');
      assert.deepEqual(body.generation, {
        id: job.result?.generation,
        source: 'import',
        createdAt: new Date(clock.ms).toISOString(),
        finishedAt: new Date(clock.ms).toISOString(),
        matcherVersion: LADING_VERSION,
        changedPackages: 1,
      });
      const pypi = body.ecosystems.find((e) => e.ecosystem === 'PyPI');
      assert.ok(pypi, JSON.stringify(body.ecosystems));
      assert.equal(pypi.source, 'import');
      assert.ok(pypi.records >= 1, JSON.stringify(pypi));
      assert.equal(body.newestRecord, pypi.newestRecord);
      assert.match(body.summary, new RegExp(`^generation ${job.result?.generation} \\(import\\)`));
      assert.equal(body.lastUpdateJob, null, 'an import is not an update job');
      assert.doesNotMatch(JSON.stringify(body), new RegExp(server.dataDir), 'no server path is shown');
    });

    it('after an update: its generation, the KEV and EPSS refresh times and the last update job', async () => {
      clock.advance(3_600_000);
      const job = await finished(
        await server.api.post<Accepted>('/api/v1/system/vulndb/update', { ecosystems: ['PyPI'] }),
      );
      const body = await freshness();
      assert.equal(body.generation?.id, job.result?.generation);
      assert.equal(body.generation?.source, 'update');
      const pypi = body.ecosystems.find((e) => e.ecosystem === 'PyPI');
      assert.equal(pypi?.source, 'update');
      assert.equal(pypi?.wholeDump, true);
      assert.ok((pypi?.records ?? 0) > 1, JSON.stringify(pypi));
      assert.ok(body.kev.entries > 0 && body.kev.updatedAt !== null, JSON.stringify(body.kev));
      assert.ok(body.epss.scores > 0 && body.epss.updatedAt !== null, JSON.stringify(body.epss));
      assert.equal(body.lastUpdateJob?.id, job.id);
      assert.equal(body.lastUpdateJob?.state, 'succeeded');
      assert.equal(body.lastUpdateJob?.error, null);
      assert.ok(body.lastUpdateJob?.finishedAt, 'the job finished');
    });

    it('readers of any repository may look; a token without the read scope may not', async () => {
      const reader = await freshness(await tokenWith(['read']));
      assert.equal(reader.status, 'ready');
      const ingestOnly = await server.api.get('/api/v1/system/vulndb', { token: await tokenWith(['ingest']) });
      assert.equal(ingestOnly.status, 403, ingestOnly.text);
      assert.equal((await server.api.get('/api/v1/system/vulndb', { token: null })).status, 401);
    });

    it('a damaged store is said in one line (status unreadable), never a 500 or a server path', async () => {
      const dir = join(server.dataDir, 'vulndb');
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
      writeFileSync(join(dir, 'vulndb.sqlite'), 'SQLite format 3\u0000 but cut short');
      const body = await freshness();
      assert.equal(body.status, 'unreadable');
      assert.match(body.summary, /^the vulnerability store cannot be read: /);
      assert.doesNotMatch(body.summary, /\n/);
      assert.doesNotMatch(body.summary, new RegExp(server.dataDir));
      assert.equal(body.generation?.source, 'update', 'the database still names the generation');
    });
  });
});
