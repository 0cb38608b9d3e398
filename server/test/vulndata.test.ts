// Vulnerability data on the server, on both engines: the admin-only update endpoint queues `vulndb.update`, which runs
// the CLI's OSV update against a local mirror (all.zip first, then modified_id.csv), and records a data generation
// with exactly the changed (ecosystem, package) pairs and an event; offline imports of OSV JSON do the same; a bad
// upload is a one-line problem or a failed job, never a stack trace.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { resolveSources } from '@lading/engine/vulndb';
import { startFileServer } from '../../engine/test/helpers/http-server.js';
import { ecosystemEntries, FIXTURES } from '../../engine/test/helpers/vulndb-fixtures.js';
import { buildZip } from '../../engine/test/helpers/zip-writer.js';
import { createApiToken } from '../src/auth/index.js';
import { SETTLE_MS } from '../src/events/index.js';
import { registerVulndataJobs } from '../src/vulndata/index.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const T = Date.UTC(2026, 0, 10);

interface Accepted {
  job: string;
  url: string;
  created: boolean;
}
interface JobDone {
  state: string;
  result: { generation: number; changed: number } | null;
  error: { message: string } | null;
}

forEachDatabase((kind) => {
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
    await server.close();
    for (const close of closers) await close();
  });

  const finished = async (accepted: Accepted) => {
    const res = await server.api.get<JobDone>(`${accepted.url}?wait=60`);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  const changesOf = async (generation: number) =>
    (
      await server.ctx.db
        .selectFrom('db_changes')
        .select(['ecosystem', 'package_name'])
        .where('generation_id', '=', generation)
        .orderBy('ecosystem')
        .orderBy('package_name')
        .execute()
    ).map((r) => `${r.ecosystem}/${r.package_name}`);

  describe('updates', () => {
    let first = 0;
    it('a first update downloads the dump and records every package it names as changed', async () => {
      const res = await server.api.post<Accepted>('/api/v1/system/vulndb/update', { ecosystems: ['PyPI'] });
      assert.equal(res.status, 202, res.text);
      assert.equal(res.headers.get('location'), res.body.url);
      const job = await finished(res.body);
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      first = job.result?.generation ?? 0;
      assert.deepEqual(await changesOf(first), ['PyPI/py', 'PyPI/requests']);
      const generation = await server.ctx.db
        .selectFrom('db_generations')
        .selectAll()
        .where('id', '=', first)
        .executeTakeFirstOrThrow();
      assert.equal(generation.state, 'done');
      assert.equal(Number(generation.changed_count), 2);
      assert.equal(Number(generation.finished_at), T);
      clock.advance(SETTLE_MS + 1); // the stream leaves the newest events on PostgreSQL
      const events = await server.api.get('/api/v1/events?types=vulndb.updated');
      const [event] = events.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(event.data.generation, first);
      assert.equal(event.data.changedPackages, 2);
    });

    it('an incremental update records only the packages of the advisories that changed', async () => {
      const changed = JSON.parse(readFileSync(`${FIXTURES}osv/PyPI/GHSA-w596-4wvx-j9j6.json`, 'utf8'));
      changed.modified = '2026-01-10T12:00:00Z';
      changed.affected[0].ranges[0].events = [{ introduced: '0' }, { fixed: '1.12.0' }];
      mirror.set('/PyPI/GHSA-w596-4wvx-j9j6.json', { body: JSON.stringify(changed) });
      mirror.set('/PyPI/modified_id.csv', {
        body: ['2026-01-10T12:00:00Z,GHSA-w596-4wvx-j9j6', '2024-11-18T16:26:14Z,GHSA-j8r2-6x86-q33q', ''].join('\n'),
      });
      clock.advance(3_600_000);
      mirror.requests.length = 0;
      const res = await server.api.post<Accepted>('/api/v1/system/vulndb/update');
      assert.equal(res.status, 202, res.text);
      const job = await finished(res.body);
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      const generation = job.result?.generation ?? 0;
      assert.ok(generation > first);
      assert.deepEqual(await changesOf(generation), ['PyPI/py']);
      assert.ok(!mirror.requests.some((r) => r.path === '/PyPI/all.zip'), 'incremental: no dump downloaded');
    });

    it('is for administrators only, and refuses a bad body', async () => {
      const reader = (
        await createApiToken(server.ctx, {
          name: 'reader',
          scopes: ['read', 'ingest', 'triage'],
          repositoryPattern: '*',
          expiresAt: server.ctx.now() + 86_400_000,
          ownerUserId: server.admin.userId,
        })
      ).token;
      assert.equal((await server.api.post('/api/v1/system/vulndb/update', {}, { token: reader })).status, 403);
      assert.equal((await server.api.post('/api/v1/system/vulndb/update', {}, { token: null })).status, 401);
      for (const body of [{ ecosystems: 'PyPI' }, { ecosystems: ['../x'] }, { full: 'yes' }, { other: 1 }, [1]]) {
        const res = await server.api.post<{ detail: string }>('/api/v1/system/vulndb/update', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.doesNotMatch(res.body.detail, /\n/);
      }
    });
  });

  describe('offline imports', () => {
    it('imports OSV JSON records and records their packages as a generation', async () => {
      const record = JSON.parse(readFileSync(`${FIXTURES}osv/PyPI/GHSA-j8r2-6x86-q33q.json`, 'utf8'));
      record.id = 'PYSEC-2099-1';
      record.aliases = [];
      record.modified = '2026-01-10T13:00:00Z';
      record.affected[0].package.name = 'lading-test-pkg';
      const res = await server.api.request<Accepted>('POST', '/api/v1/system/vulndb/import', {
        body: JSON.stringify(record),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 202, res.text);
      const job = await finished(res.body);
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(
        await changesOf(job.result?.generation ?? 0),
        ['PyPI/lading-test-pkg'],
        JSON.stringify(job.result),
      );
    });

    it('imports a zip dump', async () => {
      const res = await server.api.request<Accepted>('POST', '/api/v1/system/vulndb/import', {
        body: buildZip(ecosystemEntries('PyPI')),
        headers: { 'content-type': 'application/zip' },
      });
      assert.equal(res.status, 202, res.text);
      const job = await finished(res.body);
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    });

    it('fails a corrupt upload with a one-line error, and refuses other media types and empty bodies', async () => {
      const res = await server.api.request<Accepted>('POST', '/api/v1/system/vulndb/import', {
        body: Buffer.from('PK\u0003\u0004 truncated'),
        headers: { 'content-type': 'application/zip' },
      });
      assert.equal(res.status, 202, res.text);
      const job = await finished(res.body);
      assert.equal(job.state, 'failed');
      assert.doesNotMatch(job.error?.message ?? '\n', /\n/);
      const text = await server.api.request('POST', '/api/v1/system/vulndb/import', {
        body: 'hello',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(text.status, 415, text.text);
      const empty = await server.api.request('POST', '/api/v1/system/vulndb/import', {
        body: '',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(empty.status, 400, empty.text);
    });
  });
});
