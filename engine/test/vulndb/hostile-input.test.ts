import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { LadingError } from '../../src/errors/lading-error.js';
import { findVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import type { Inventory } from '../../src/model/inventory.js';
import { openSqlite } from '../../src/sqlite-driver.js';
import { readEpss } from '../../src/vulndb/epss.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { parseKev } from '../../src/vulndb/kev.js';
import { parseOsvRecord } from '../../src/vulndb/parse-record.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { dbPath } from '../../src/vulndb/store.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { readZipEntries } from '../../src/vulndb/zip-entries.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { pkg } from '../match/inventory-helpers.js';
import { FIXTURES, fixtureRecord } from './fixtures.js';

const NOW = new Date('2026-01-10T00:00:00Z');

describe('hostile vulnerability data', () => {
  it('parseOsvRecord never throws and accepts only records with the fields matching relies on', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = parseOsvRecord(value);
        if ('record' in parsed) {
          assert.equal(typeof parsed.record.id, 'string');
          assert.equal(typeof parsed.record.modified, 'string');
        } else {
          assert.equal(typeof parsed.error, 'string');
        }
      }),
      { numRuns: 2000 },
    );
    const good = fixtureRecord('Go', 'GO-2022-0969');
    assert.ok('record' in parseOsvRecord(good));
    const badEvent = structuredClone(good) as unknown as { affected: { ranges: { events: unknown[] }[] }[] };
    badEvent.affected[0]!.ranges[0]!.events.push({ fixed: '1', introduced: '0' });
    assert.match((parseOsvRecord(badEvent) as { error: string }).error, /GO-2022-0969: affected\[0\]: invalid event/);
  });

  it('skips an oversized zip entry with a reason and reads the rest', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'dump.zip');
    await writeFile(
      file,
      buildZip([
        { name: 'big.json', data: Buffer.alloc(5000, 0x20) },
        { name: 'small.json', data: '{}' },
      ]),
    );
    const seen: string[] = [];
    for await (const entry of readZipEntries(file, { maxEntryBytes: 1000 })) {
      seen.push(`${entry.name}:${entry.error ? 'skipped' : entry.data?.length}`);
    }
    assert.deepEqual(seen, ['big.json:skipped', 'small.json:2']);
  });

  it('rejects a truncated zip in db import and leaves the store as it was', async (t) => {
    const dir = await tempDir(t);
    const zip = buildZip([{ name: 'GO-2022-0969.json', data: JSON.stringify(fixtureRecord('Go', 'GO-2022-0969')) }]);
    const truncated = join(dir, 'truncated.zip');
    await writeFile(truncated, zip.subarray(0, zip.length - 30));
    const store = VulnStoreWriter.open(join(dir, 'db'));
    t.after(() => store.close());
    await importPaths(store, [join(FIXTURES, 'osv', 'npm')], NOW);
    await assert.rejects(importPaths(store, [join(FIXTURES, 'osv', 'PyPI'), truncated], NOW), (err) => {
      assert.equal((err as LadingError).code, 'BAD_INPUT');
      return true;
    });
    assert.deepEqual(
      store.ecosystems().map((e) => `${e.name}:${e.records}`),
      ['npm:1'],
    );
  });

  it('reads gzipped EPSS with its model line and skips bad rows; rejects a CSV that is not EPSS', async (t) => {
    const dir = await tempDir(t);
    const gz = join(dir, 'epss_scores-current.csv.gz');
    await writeFile(
      gz,
      gzipSync(
        Buffer.from(
          '#model_version:v2023.03.01,score_date:2024-01-01T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.97,0.99\nCVE-2021-1,x,y\n',
        ),
      ),
    );
    const rows: string[] = [];
    const result = await readEpss(gz, (row) => rows.push(`${row.cve}=${row.score}/${row.percentile}`));
    assert.equal(result.modelVersion, 'v2023.03.01');
    assert.equal(result.scoreDate, '2024-01-01T00:00:00+0000');
    assert.deepEqual(rows, ['CVE-2021-44228=0.97/0.99']);
    assert.equal(result.skipped, 1);
    const other = join(dir, 'other.csv');
    await writeFile(other, 'name,value\na,b\n');
    await assert.rejects(
      readEpss(other, () => {}),
      /not an EPSS CSV/,
    );
    const cut = join(dir, 'cut.csv.gz');
    await writeFile(cut, gzipSync(Buffer.from('cve,epss\nCVE-2021-44228,0.5\n'.repeat(200))).subarray(0, 40));
    await assert.rejects(
      readEpss(cut, () => {}),
      (err) => (err as LadingError).code === 'BAD_INPUT',
    );
  });

  it('a store holding a recursive view, or a named pipe in its place, is refused at once', async (t) => {
    const dir = await tempDir(t);
    const raw = openSqlite(dbPath(dir));
    raw.exec(
      'CREATE VIEW packages AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x AS ecosystem, x AS name, x AS release, x AS source, x AS id, x AS modified, x AS affected FROM n ORDER BY x',
    );
    raw.pragma('user_version = 3');
    raw.close();
    const started = Date.now();
    assert.throws(
      () => VulnStoreReader.open(dir),
      (err) => {
        assert.equal((err as LadingError).code, 'DB');
        assert.match(
          (err as Error).message,
          /vulndb\.sqlite: refusing vulnerability database: it holds a view \("packages"\)/,
        );
        return true;
      },
    );
    assert.throws(() => VulnStoreWriter.open(dir), /it holds a view/);
    const piped = await tempDir(t);
    execFileSync('mkfifo', [dbPath(piped)]);
    assert.throws(() => VulnStoreReader.open(piped), /not a regular file/);
    assert.throws(() => VulnStoreWriter.open(piped), /not a regular file/);
    assert.ok(Date.now() - started < 5000);
  });

  it('an EPSS line of 64 MiB fails at the first 4 KiB past its start; a pipe is refused unread', async (t) => {
    const dir = await tempDir(t);
    const long = join(dir, 'epss_scores-current.csv.gz');
    await writeFile(long, gzipSync(Buffer.concat([Buffer.from('cve,epss\n'), Buffer.alloc(64 << 20, 0x41)])));
    const started = Date.now();
    await assert.rejects(
      readEpss(long, () => {}),
      /EPSS line longer than 4096 characters/,
    );
    assert.ok(Date.now() - started < 5000);
    const fifo = join(dir, 'epss.csv');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(
      readEpss(fifo, () => {}),
      /epss\.csv is not a regular file/,
    );
  });

  it('a record nested 200,000 levels deep is skipped with a warning; the rest of the import goes on', async (t) => {
    const dir = await tempDir(t);
    const records = join(dir, 'records');
    await mkdir(records);
    const depth = 200_000;
    await writeFile(
      join(records, 'GHSA-deep.json'),
      `{"id":"GHSA-deep","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"x"},"database_specific":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}`,
    );
    await writeFile(join(records, 'GO-2022-0969.json'), JSON.stringify(fixtureRecord('Go', 'GO-2022-0969')));
    const store = VulnStoreWriter.open(join(dir, 'db'));
    t.after(() => store.close());
    const summary = await importPaths(store, [records], NOW);
    assert.equal(summary.records, 1);
    assert.deepEqual(
      summary.warnings.map((w) => `${w.path}: ${w.message}`),
      [`${join(records, 'GHSA-deep.json')}: skipped malformed OSV record: nested deeper than 64 levels`],
    );
  });

  it('rejects a KEV document without its vulnerabilities list', () => {
    assert.throws(() => parseKev({ title: 'x' }, 'kev.json'), /not a CISA KEV catalog/);
    const kev = parseKev({ vulnerabilities: [null, 7, { cveID: 'CVE-2021-44228' }] }, 'kev.json');
    assert.deepEqual(kev.entries, [{ cve: 'CVE-2021-44228' }]);
    assert.equal(kev.skipped, 2);
  });

  it('a damaged package row or record head in the store is one DB error, not a stack trace', async (t) => {
    for (const [table, column] of [
      ['packages', 'affected'],
      ['heads', 'head'],
    ] as const) {
      const dir = await tempDir(t);
      const store = VulnStoreWriter.open(dir);
      await importPaths(store, [join(FIXTURES, 'osv', 'Debian')], NOW);
      store.close();
      const raw = openSqlite(dbPath(dir));
      raw.prepare(`UPDATE ${table} SET ${column} = '{"truncated'`).run();
      raw.close();
      const inventory: Inventory = {
        os: { family: 'debian', version: '10', ecosystem: 'Debian:10' },
        warnings: [],
        packages: [pkg('deb', 'e2fsprogs', '1.44.5-1')],
      };
      await assert.rejects(findVulnerabilities(inventory, { dbDir: dir, offline: true, now: NOW }), (err) => {
        assert.equal((err as LadingError).code, 'DB', String(err));
        assert.match(
          (err as Error).message,
          /vulndb\.sqlite: damaged (package row|record head) for DEBIAN-CVE-2019-5094/,
        );
        return true;
      });
    }
  });
});
