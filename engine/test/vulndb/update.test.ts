import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { LadingError } from '../../src/errors/lading-error.js';
import { findVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { OsvRecord } from '../../src/model/osv.js';
import { openSqlite } from '../../src/sqlite-driver.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { recordNeededEcosystems } from '../../src/vulndb/needed.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { resolveSources } from '../../src/vulndb/sources.js';
import { dbPath, type PackageKey } from '../../src/vulndb/store.js';
import { updateStore } from '../../src/vulndb/update.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { startFileServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { pkg } from '../match/inventory-helpers.js';
import { ecosystemEntries, FIXTURES, fixtureRecord, OSV_FIXTURES } from './fixtures.js';

const NOW = new Date('2026-01-10T00:00:00Z');
const LAST_MODIFIED = 'Fri, 09 Jan 2026 10:00:00 GMT';

async function mirror(t: TestContext) {
  return startFileServer(t, {
    '/Debian/all.zip': { body: buildZip(ecosystemEntries('Debian')), etag: '"debian-1"', lastModified: LAST_MODIFIED },
    '/PyPI/all.zip': { body: buildZip(ecosystemEntries('PyPI')), etag: '"pypi-1"', lastModified: LAST_MODIFIED },
    '/known_exploited_vulnerabilities.json': { body: readFileSync(`${FIXTURES}known_exploited_vulnerabilities.json`) },
    '/epss_scores-current.csv.gz': { body: readFileSync(`${FIXTURES}epss_scores-current.csv`) },
  });
}

async function update(dir: string, base: string, extra: { ecosystems?: string[]; full?: boolean; now?: Date } = {}) {
  const store = VulnStoreWriter.open(dir);
  try {
    return await updateStore(store, {
      ecosystems: extra.ecosystems ?? [],
      sources: resolveSources(base, {}),
      now: extra.now ?? NOW,
      full: extra.full ?? false,
      tempDir: dir,
    });
  } finally {
    store.close();
  }
}

function countsOf(dir: string): Record<string, number> {
  const store = VulnStoreReader.open(dir)!;
  try {
    return Object.fromEntries(store.ecosystems().map((e) => [e.name, e.records]));
  } finally {
    store.close();
  }
}

function codeOf(err: unknown): string | undefined {
  return (err as LadingError).code;
}

describe('db update from an OSV mirror', () => {
  it('downloads all.zip per ecosystem, KEV and EPSS, then asks conditionally and gets 304', async (t) => {
    const server = await mirror(t);
    const dir = await tempDir(t);
    const first = await update(dir, server.url, { ecosystems: ['Debian', 'PyPI:ignored-suffix'] });
    assert.deepEqual(
      first.ecosystems.map((e) => `${e.ecosystem} ${e.mode} ${e.records}`),
      ['Debian full 5', 'PyPI full 4'],
    );
    assert.equal(first.kev, 2);
    assert.equal(first.epss, 3);
    assert.deepEqual(countsOf(dir), { Debian: 5, PyPI: 4 });

    server.requests.length = 0;
    const second = await update(dir, server.url, { full: true });
    assert.deepEqual(
      second.ecosystems.map((e) => `${e.ecosystem} ${e.mode}`),
      ['Debian not-modified', 'PyPI not-modified'],
    );
    const zipRequest = server.requests.find((r) => r.path === '/Debian/all.zip')!;
    assert.equal(zipRequest.headers['if-none-match'], '"debian-1"');
    assert.equal(zipRequest.headers['if-modified-since'], LAST_MODIFIED);
    assert.deepEqual(countsOf(dir), { Debian: 5, PyPI: 4 });
  });

  it('updates incrementally from modified_id.csv, fetching only records newer than the watermark', async (t) => {
    const server = await mirror(t);
    const dir = await tempDir(t);
    await update(dir, server.url, { ecosystems: ['PyPI'] });
    const changed = JSON.parse(readFileSync(`${FIXTURES}osv/PyPI/GHSA-w596-4wvx-j9j6.json`, 'utf8'));
    changed.modified = '2026-01-09T12:00:00Z';
    changed.affected[0].ranges[0].events = [{ introduced: '0' }, { fixed: '1.12.0' }];
    server.set('/PyPI/GHSA-w596-4wvx-j9j6.json', { body: JSON.stringify(changed) });
    server.set('/PyPI/GHSA-j8r2-6x86-q33q.json', {
      body: readFileSync(`${FIXTURES}osv/PyPI/GHSA-j8r2-6x86-q33q.json`),
    });
    server.set('/PyPI/modified_id.csv', {
      body: [
        '2026-01-09T12:00:00Z,GHSA-w596-4wvx-j9j6',
        '2026-01-08T00:00:00Z,PYSEC-GONE-1',
        '2024-11-18T16:26:14Z,GHSA-j8r2-6x86-q33q',
        '2023-06-05T01:13:00Z,PYSEC-2023-74',
        '',
      ].join('\n'),
    });
    server.requests.length = 0;
    const result = await update(dir, server.url, { now: new Date(NOW.getTime() + 3600_000) });
    assert.deepEqual(
      result.ecosystems.map((e) => `${e.ecosystem} ${e.mode} ${e.changed} ${e.records}`),
      ['PyPI incremental 2 4'],
    );
    const fetched = server.requests.map((r) => r.path).filter((p) => p.startsWith('/PyPI/'));
    assert.deepEqual(fetched.sort(), [
      '/PyPI/GHSA-j8r2-6x86-q33q.json',
      '/PyPI/GHSA-w596-4wvx-j9j6.json',
      '/PyPI/PYSEC-GONE-1.json',
      '/PyPI/modified_id.csv',
    ]);
    assert.match(result.warnings.map((w) => w.message).join('\n'), /not found; kept/);
    const store = VulnStoreReader.open(dir)!;
    t.after(() => store.close());
    const [py] = store.recordsFor('PyPI', 'py');
    assert.equal(py?.modified, '2026-01-09T12:00:00Z');
    assert.equal(store.ecosystem('PyPI')?.highWater, '2026-01-09T12:00:00Z');
  });

  it('reports the packages whose advisories moved: full refresh, incremental update and import', async (t) => {
    const pypi = (id: string) => fixtureRecord('PyPI', id);
    const entry = (r: OsvRecord) => ({ name: `${r.id}.json`, data: Buffer.from(JSON.stringify(r)) });
    const keys = (list: PackageKey[]) => list.map((k) => `${k.ecosystem}/${k.name}`);
    const server = await startFileServer(t, {
      '/PyPI/all.zip': { body: buildZip(ecosystemEntries('PyPI')), etag: '"pypi-1"' },
    });
    const dir = await tempDir(t);
    const first = await update(dir, server.url, { ecosystems: ['PyPI'] });
    assert.deepEqual(keys(first.changedPackages), ['PyPI/py', 'PyPI/requests'], 'all new');
    assert.deepEqual(first.ecosystems[0]?.changedPackages, first.changedPackages);

    // a new all.zip where one record changed and one is new; the requests advisories are as they were
    const py = { ...pypi('GHSA-w596-4wvx-j9j6'), modified: '2026-01-09T00:00:00Z' };
    const added: OsvRecord = {
      ...pypi('PYSEC-2023-74'),
      id: 'PYSEC-2026-1',
      modified: '2026-01-09T00:00:00Z',
      affected: [{ package: { ecosystem: 'PyPI', name: 'Other_Pkg' }, versions: ['1.0'] }],
    };
    const unchanged = ['GHSA-4wf5-vphf-c2xc', 'GHSA-j8r2-6x86-q33q', 'PYSEC-2023-74'].map(pypi);
    server.set('/PyPI/all.zip', { body: buildZip([...unchanged, py, added].map(entry)), etag: '"pypi-2"' });
    const full = await update(dir, server.url, { full: true, now: new Date(NOW.getTime() + 60_000) });
    assert.equal(full.ecosystems[0]?.mode, 'full');
    assert.deepEqual(keys(full.changedPackages), ['PyPI/other-pkg', 'PyPI/py']);

    // incremental: one requests advisory withdrawn, one listed again unchanged
    const withdrawn = {
      ...pypi('PYSEC-2023-74'),
      modified: '2026-01-09T12:00:00Z',
      withdrawn: '2026-01-09T12:00:00Z',
    };
    server.set('/PyPI/PYSEC-2023-74.json', { body: JSON.stringify(withdrawn) });
    server.set('/PyPI/GHSA-j8r2-6x86-q33q.json', { body: JSON.stringify(pypi('GHSA-j8r2-6x86-q33q')) });
    server.set('/PyPI/modified_id.csv', {
      body: '2026-01-09T12:00:00Z,PYSEC-2023-74\n2026-01-09T00:00:00Z,GHSA-j8r2-6x86-q33q\n',
    });
    const incremental = await update(dir, server.url, { now: new Date(NOW.getTime() + 120_000) });
    assert.equal(incremental.ecosystems[0]?.mode, 'incremental');
    assert.deepEqual(keys(incremental.changedPackages), ['PyPI/requests']);

    // nothing new: nothing moved
    const again = await update(dir, server.url, { now: new Date(NOW.getTime() + 180_000) });
    assert.deepEqual(again.changedPackages, []);

    const imported = join(await tempDir(t), 'db');
    const writer = VulnStoreWriter.open(imported);
    t.after(() => writer.close());
    const once = await importPaths(writer, [join(OSV_FIXTURES, 'PyPI')], NOW);
    assert.deepEqual(keys(once.changedPackages), ['PyPI/py', 'PyPI/requests']);
    const twice = await importPaths(writer, [join(OSV_FIXTURES, 'PyPI')], NOW);
    assert.deepEqual(twice.changedPackages, [], 'the same records again change nothing');
  });

  it('keeps the previous data when a download is cut halfway or the zip is corrupt', async (t) => {
    const server = await mirror(t);
    const dir = await tempDir(t);
    await update(dir, server.url, { ecosystems: ['Debian'] });
    const good = buildZip(ecosystemEntries('Debian').slice(0, 2));
    server.set('/Debian/all.zip', { body: good, etag: '"debian-2"', cutAfter: Math.floor(good.length / 2) });
    await assert.rejects(update(dir, server.url, { full: true }), (err) => codeOf(err) === 'NETWORK');
    assert.deepEqual(countsOf(dir), { Debian: 5 });

    server.set('/Debian/all.zip', {
      body: Buffer.from('PK\u0003\u0004 this is not a zip archive at all'),
      etag: '"x"',
    });
    await assert.rejects(update(dir, server.url, { full: true }), (err) => {
      assert.equal(codeOf(err), 'BAD_INPUT');
      assert.match((err as Error).message, /zip/);
      return true;
    });
    assert.deepEqual(countsOf(dir), { Debian: 5 });
    const store = VulnStoreReader.open(dir)!;
    t.after(() => store.close());
    assert.equal(store.recordsFor('Debian:12', 'openssl').length, 2);
  });

  it('imports the good records of a dump with malformed ones, one warning each', async (t) => {
    const entries = [
      ...ecosystemEntries('PyPI'),
      { name: 'BROKEN-1.json', data: Buffer.from('{"id": "BROKEN-1", "modified": ') },
      {
        name: 'BROKEN-2.json',
        data: Buffer.from('{"id": "BROKEN-2", "modified": "2024-01-01T00:00:00Z", "affected": 7}'),
      },
      { name: 'BROKEN-3.json', data: Buffer.from('[1, 2, 3]') },
    ];
    const server = await startFileServer(t, { '/PyPI/all.zip': { body: buildZip(entries) } });
    const dir = await tempDir(t);
    const store = VulnStoreWriter.open(dir);
    t.after(() => store.close());
    const result = await updateStore(store, {
      ecosystems: ['PyPI'],
      sources: resolveSources(server.url, {}),
      now: NOW,
      skipEnrichment: true,
      tempDir: dir,
    });
    assert.equal(result.ecosystems[0]?.records, 4);
    assert.equal(result.warnings.length, 3);
    assert.match(
      result.warnings.map((w) => w.message).join('\n'),
      /not valid JSON[\s\S]*BROKEN-2: "affected" is not a list[\s\S]*not a JSON object/,
    );
  });

  it('refuses a database from a newer schema without writing to it', async (t) => {
    const server = await mirror(t);
    const dir = await tempDir(t);
    const raw = openSqlite(dbPath(dir));
    raw.pragma('user_version = 99');
    raw.close();
    const before = readFileSync(dbPath(dir));
    await assert.rejects(update(dir, server.url, { ecosystems: ['Debian'] }), (err) => {
      assert.equal(codeOf(err), 'DB');
      assert.match((err as Error).message, /schema version 99 is newer/);
      return true;
    });
    assert.deepEqual(readFileSync(dbPath(dir)), before);
    assert.equal(server.requests.length, 0);
    const inventory: Inventory = {
      os: { family: 'debian', version: '12', ecosystem: 'Debian:12' },
      warnings: [],
      packages: [pkg('deb', 'bash', '5.2.15-2')],
    };
    await assert.rejects(
      findVulnerabilities(inventory, { dbDir: dir, offline: true, now: NOW }),
      (err) => codeOf(err) === 'DB',
    );
    assert.deepEqual(readFileSync(dbPath(dir)), before);
  });

  it('needs an ecosystem: named, or remembered from a scan', async (t) => {
    const server = await mirror(t);
    const dir = await tempDir(t);
    await assert.rejects(update(dir, server.url), (err) => codeOf(err) === 'USAGE');
    recordNeededEcosystems(dir, ['PyPI'], NOW);
    const result = await update(dir, server.url);
    assert.deepEqual(
      result.ecosystems.map((e) => e.ecosystem),
      ['PyPI'],
    );
  });

  it('turns an unreachable source into a NETWORK error', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(
      update(dir, 'http://127.0.0.1:1', { ecosystems: ['npm'] }),
      (err) => codeOf(err) === 'NETWORK',
    );
  });
});
