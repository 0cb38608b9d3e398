import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readNeededEcosystems } from '../../src/vulndb/needed.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { runCli } from '../helpers/cli.js';
import { startFileServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { ecosystemEntries, FIXTURES, OSV_FIXTURES } from './fixtures.js';

describe('lading db', () => {
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
    assert.equal(updated.stdout, 'npm: full, 1 changed, 1 records\n');
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
    assert.match(scanned.stderr, /no vulnerability data for Debian in /);
    assert.ok(!existsSync(join(db, 'vulndb.sqlite')), 'the scan did not create the database');
    assert.deepEqual(Object.keys(readNeededEcosystems(db)), ['Debian']);

    const server = await startFileServer(t, { '/Debian/all.zip': { body: buildZip(ecosystemEntries('Debian')) } });
    const updated = await runCli(['db', 'update', '--db-dir', db, '--no-enrichment'], {
      env: { LADING_DB_SOURCE: server.url },
    });
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout, 'Debian: full, 5 changed, 5 records\n');
    const status = await runCli(['db', 'status', '--db-dir', db]);
    assert.match(status.stdout, /^Debian +5 +\S+ +0d +yes$/m);
  });
});
