import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { releaseCoverage } from '../../src/vulndb/coverage.js';
import { readNeededEcosystems } from '../../src/vulndb/needed.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { runCli } from '../helpers/cli.js';
import { startFileServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { ecosystemEntries, FIXTURES, OSV_FIXTURES } from './fixtures.js';

describe('lading db', () => {
  it('says "1 record", "1 entry" when there is one', async (t) => {
    const dir = await tempDir(t);
    const kev = join(dir, 'kev.json');
    await writeFile(
      kev,
      JSON.stringify({ catalogVersion: '1', vulnerabilities: [{ cveID: 'CVE-2019-14697', dateAdded: '2024-01-01' }] }),
    );
    const one = await runCli([
      'db',
      'import',
      join(OSV_FIXTURES, 'Alpine', 'ALPINE-CVE-2019-14697.json'),
      kev,
      '--db-dir',
      join(dir, 'db'),
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^1 record imported; .*KEV: 1 entry\n$/);
    const status = await runCli(['db', 'status', '--db-dir', join(dir, 'db')]);
    assert.match(status.stdout, /^KEV: 1 entry/m);
  });

  it('imports offline data, reports status as JSON and exports a usable copy', async (t) => {
    const dir = await tempDir(t);
    const db = join(dir, 'db');
    const imported = await runCli([
      'db',
      'import',
      OSV_FIXTURES,
      join(FIXTURES, 'known_exploited_vulnerabilities.json'),
      join(FIXTURES, 'epss_scores-current.csv'),
      '--db-dir',
      db,
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(
      imported.stdout,
      /14 records imported; ecosystems: Alpine, Debian, Go, Maven, PyPI, npm; KEV: 2 entries; EPSS: 3 scores/,
    );
    assert.match(imported.stderr, /1 KEV entries without a CVE id skipped/);

    const status = await runCli(['db', 'status', '--json'], { env: { LADING_DB_DIR: db } });
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout);
    assert.deepEqual(
      parsed.ecosystems.map(
        (e: { ecosystem: string; records: number; ageDays: number }) => `${e.ecosystem}:${e.records}:${e.ageDays}`,
      ),
      ['Alpine:2:0', 'Debian:5:0', 'Go:1:0', 'Maven:1:0', 'PyPI:4:0', 'npm:1:0'],
    );
    assert.equal(parsed.epss.modelVersion, 'v2025.03.14');

    const copy = join(dir, 'copy', 'vulndb.sqlite');
    const exported = await runCli(['db', 'export', join(dir, 'copy', 'vulndb.sqlite'), '--db-dir', db]);
    assert.equal(exported.code, 3, 'the destination folder does not exist yet');
    assert.match(exported.stderr, /^lading: cannot export to .*vulndb\.sqlite: the folder .*copy does not exist\n$/);
    assert.doesNotMatch(exported.stderr, /SQLITE|unable to open/, 'no SQLite temp-file error');
    await mkdir(join(dir, 'copy'));
    const again = await runCli(['db', 'export', copy, '--db-dir', db]);
    assert.equal(again.code, 0, again.stderr);
    const store = VulnStoreReader.open(join(dir, 'copy'))!;
    t.after(() => store.close());
    assert.equal(store.recordsFor('Maven', 'org.apache.logging.log4j:log4j-core').length, 1);
    assert.equal(store.kev('CVE-2021-44228')?.ransomware, 'Known');
  });

  it('updates from a mirror given by LADING_DB_SOURCE, and explains what to do without data', async (t) => {
    const dir = await tempDir(t);
    const server = await startFileServer(t, { '/npm/all.zip': { body: buildZip(ecosystemEntries('npm')) } });
    const none = await runCli(['db', 'update', '--db-dir', dir, '--no-enrichment']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^lading: no ecosystems to update: name some with --ecosystem/);
    const missing = await runCli(['db', 'status', '--db-dir', join(dir, 'nothing-here')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no vulnerability database in .*run `lading db update`/);
    assert.ok(!existsSync(join(dir, 'nothing-here')), 'status must not create a database');

    const updated = await runCli(['db', 'update', '--ecosystem', 'npm', '--db-dir', dir, '--no-enrichment'], {
      env: { LADING_DB_SOURCE: server.url },
    });
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout, 'npm: full, 1 changed, 1 record\n');
    assert.equal(updated.stderr, '', 'no progress output without a TTY');
  });

  it('a scan without data notes the ecosystems it needed beside the database; a bare db update fetches them', async (t) => {
    const dir = await tempDir(t);
    const db = join(dir, 'db');
    const root = join(dir, 'rootfs');
    await cp(join(FIXTURES, '../catalog/os/dpkg/bookworm'), root, { recursive: true });
    await mkdir(join(root, 'etc'), { recursive: true });
    await cp(join(FIXTURES, '../catalog/os/release/debian-12'), join(root, 'etc/os-release'));

    const scanned = await runCli(['scan', `dir:${root}`, '--db-dir', db, '--offline', '-o', 'json', '-q']);
    assert.equal(scanned.code, 3, scanned.stderr);
    assert.match(scanned.stderr, /no vulnerability data for Debian:12 \(\d+ packages\) in .*--allow-missing-data/);
    assert.ok(!existsSync(join(db, 'vulndb.sqlite')), 'the scan did not create the database');
    assert.deepEqual(Object.keys(readNeededEcosystems(db)), ['Debian']);

    const server = await startFileServer(t, { '/Debian/all.zip': { body: buildZip(ecosystemEntries('Debian')) } });
    const updated = await runCli(['db', 'update', '--db-dir', db, '--no-enrichment'], {
      env: { LADING_DB_SOURCE: server.url },
    });
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout, 'Debian: full, 5 changed, 5 records\n');
    const status = await runCli(['db', 'status', '--db-dir', db]);
    assert.match(status.stdout, /^Debian +5 +\S+ +\d+d +\S+ +0d +yes$/m);
    assert.match(status.stdout, /^ {2}Debian:12 +\d+ +\S+ +\d+d$/m, 'one row per release');
  });

  it('status shows per release the records, the newest record and its age, apart from the import time', async (t) => {
    const dir = await tempDir(t);
    const db = join(dir, 'db');
    const imported = await runCli(['db', 'import', join(OSV_FIXTURES, 'Debian'), '--db-dir', db]);
    assert.equal(imported.code, 0, imported.stderr);
    const status = await runCli(['db', 'status', '--json', '--db-dir', db]);
    assert.equal(status.code, 0, status.stderr);
    const debian = JSON.parse(status.stdout).ecosystems.find((e: { ecosystem: string }) => e.ecosystem === 'Debian');
    assert.equal(debian.ageDays, 0, 'imported just now');
    assert.ok(debian.dataAgeDays > 300, 'but the newest record is older than that');
    assert.equal(debian.wholeDump, false, 'single records are no whole dump');
    assert.deepEqual(
      debian.releases.map((r: { release: string; records: number }) => `${r.release}:${r.records}`),
      ['Debian:9:2', 'Debian:10:2', 'Debian:11:1', 'Debian:12:3'],
    );
    for (const r of debian.releases) assert.match(r.newestRecord, /^\d{4}-\d\d-\d\dT/);
    const table = await runCli(['db', 'status', '--db-dir', db]);
    assert.match(table.stdout, /^ECOSYSTEM +RECORDS +NEWEST RECORD +DATA AGE +UPDATED +AGE +NEEDED$/m);
    assert.match(table.stdout, /^ {2}Debian:9 +2 +\S+ +\d+d$/m);
  });

  it('import exits 3 saying why when nothing was imported, and changes nothing', async (t) => {
    const dir = await tempDir(t);
    const db = join(dir, 'db');
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const yaml = join(dir, 'config.yaml');
    await writeFile(yaml, 'name: not an advisory\nitems: [1, 2]\n');
    const png = join(dir, 'picture.png');
    await writeFile(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]));
    const cases: [string, RegExp][] = [
      [empty, /^lading: nothing imported from .*empty: no OSV records .* found\n$/],
      [yaml, /^lading: nothing imported from .*config\.yaml: skipped malformed OSV record/m],
      [png, /nothing imported from .*picture\.png: not valid JSON/],
      [
        join(FIXTURES, '../catalog/os/rpm/cbl-mariner-2.0-rpmdb.sqlite'),
        /nothing imported from .*rpmdb\.sqlite: (refusing vulnerability database|an SQLite file, but not)/,
      ],
    ];
    for (const [path, expected] of cases) {
      const result = await runCli(['db', 'import', path, '--db-dir', db]);
      assert.equal(result.code, 3, `${path}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      // An SQLite input is read from a private copy: nothing is written beside the user's file.
      assert.ok(!existsSync(`${path}-shm`) && !existsSync(`${path}-wal`), `${path}: files written beside it`);
    }
    const status = await runCli(['db', 'status', '--json', '--db-dir', db]);
    assert.deepEqual(JSON.parse(status.stdout).ecosystems, [], 'nothing was written');
  });

  it("import reads Lading's own db export file: records, their dates and whole-dump coverage", async (t) => {
    const dir = await tempDir(t);
    const first = join(dir, 'first');
    const server = await startFileServer(t, { '/Debian/all.zip': { body: buildZip(ecosystemEntries('Debian')) } });
    const updated = await runCli(['db', 'update', '--ecosystem', 'Debian', '--db-dir', first, '--no-enrichment'], {
      env: { LADING_DB_SOURCE: server.url },
    });
    assert.equal(updated.code, 0, updated.stderr);
    await runCli(['db', 'import', join(OSV_FIXTURES, 'npm'), '--db-dir', first]);
    const file = join(dir, 'export.sqlite');
    assert.equal((await runCli(['db', 'export', file, '--db-dir', first])).code, 0);

    const second = join(dir, 'second');
    const imported = await runCli(['db', 'import', file, '--db-dir', second]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^6 records imported; ecosystems: Debian, npm$/m);
    const before = JSON.parse((await runCli(['db', 'status', '--json', '--db-dir', first])).stdout);
    const after = JSON.parse((await runCli(['db', 'status', '--json', '--db-dir', second])).stdout);
    const pick = (s: { ecosystems: { ecosystem: string; records: number; updatedAt: string; wholeDump: boolean }[] }) =>
      s.ecosystems.map((e) => [e.ecosystem, e.records, e.updatedAt, e.wholeDump]);
    assert.deepEqual(pick(after), pick(before), 'the copy keeps the dates and the whole-dump mark');
    const store = VulnStoreReader.open(second)!;
    t.after(() => store.close());
    assert.equal(releaseCoverage(store, 'Debian:13').covered, true, 'the whole Debian dump came along');
    assert.equal(store.recordsFor('npm', 'lodash').length, 1);
  });
});
