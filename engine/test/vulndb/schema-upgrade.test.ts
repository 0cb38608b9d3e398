import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LadingError } from '../../src/errors/lading-error.js';
import { findVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { OsvRecord } from '../../src/model/osv.js';
import { openSqlite } from '../../src/sqlite-driver.js';
import { encodeRecord } from '../../src/vulndb/codec.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { baseEcosystem, normalizePackageName } from '../../src/vulndb/names.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { sourceOf } from '../../src/vulndb/record-importer.js';
import { SCHEMA_VERSION } from '../../src/vulndb/schema.js';
import { dbPath } from '../../src/vulndb/store.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { tempDir } from '../helpers/tmp.js';
import { pkg } from '../match/inventory-helpers.js';
import { OSV_FIXTURES } from './fixtures.js';

const NOW = new Date('2026-01-10T00:00:00Z');

/** The layout Lading wrote before schema 2 (packages without their affected entries), as released. */
const SCHEMA_1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
  source TEXT NOT NULL, id TEXT NOT NULL, modified TEXT NOT NULL, withdrawn INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX records_by_id ON records (source, id);
CREATE TABLE packages (
  ecosystem TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (ecosystem, name, source, id)) WITHOUT ROWID;
CREATE INDEX packages_by_record ON packages (source, id);
CREATE TABLE aliases (
  alias TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (alias, source, id)) WITHOUT ROWID;
CREATE INDEX aliases_by_record ON aliases (source, id);
CREATE TABLE ecosystems (
  name TEXT PRIMARY KEY, records INTEGER NOT NULL DEFAULT 0, updated_at TEXT, full_at TEXT, origin TEXT,
  etag TEXT, last_modified TEXT, high_water TEXT, needed_at TEXT) WITHOUT ROWID;
CREATE TABLE kev (cve TEXT PRIMARY KEY, date_added TEXT, ransomware TEXT) WITHOUT ROWID;
CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL) WITHOUT ROWID;
`;

function fixtureRecords(): OsvRecord[] {
  return readdirSync(OSV_FIXTURES).flatMap((eco) =>
    readdirSync(join(OSV_FIXTURES, eco))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(OSV_FIXTURES, eco, f), 'utf8')) as OsvRecord),
  );
}

/** Writes the fixture records the way schema 1 stored them. */
function writeSchema1(dir: string): void {
  const db = openSqlite(dbPath(dir));
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA_1);
  const counts = new Map<string, number>();
  for (const record of fixtureRecords()) {
    const source = sourceOf(record);
    counts.set(source, (counts.get(source) ?? 0) + 1);
    db.prepare('INSERT INTO records VALUES (?, ?, ?, ?, ?)').run(
      source,
      record.id,
      record.modified,
      0,
      encodeRecord(record),
    );
    for (const affected of record.affected ?? []) {
      const p = affected.package;
      if (!p) continue;
      db.prepare('INSERT OR IGNORE INTO packages VALUES (?, ?, ?, ?)').run(
        baseEcosystem(p.ecosystem),
        normalizePackageName(p.ecosystem, p.name),
        source,
        record.id,
      );
    }
  }
  for (const [name, records] of counts) {
    db.prepare('INSERT INTO ecosystems (name, records, updated_at) VALUES (?, ?, ?)').run(
      name,
      records,
      NOW.toISOString(),
    );
  }
  db.pragma('user_version = 1');
  db.close();
}

const INVENTORY: Inventory = {
  os: { family: 'debian', version: '9', ecosystem: 'Debian:9' },
  warnings: [],
  packages: [
    pkg('deb', 'e2fsprogs', '1.43.4-2'),
    pkg('deb', 'libcom-err2', '1.43.4-2', { source: { name: 'e2fsprogs' } }),
    pkg('deb', 'coreutils', '8.26-3'),
    pkg('deb', 'openssl', '1.1.0l-1~deb9u1'),
    pkg('pypi', 'requests', '2.19.0'),
    pkg('pypi', 'Pillow', '9.0.0'),
    pkg('npm', 'lodash', '4.17.15'),
  ],
};

async function scan(dir: string) {
  const result = await findVulnerabilities(INVENTORY, { dbDir: dir, offline: true, now: NOW });
  return result.findings;
}

describe('vulnerability store schema upgrade', () => {
  it('makes a scan of a schema 1 file fail with what to run, leaving the file as it was', async (t) => {
    const dir = await tempDir(t);
    writeSchema1(dir);
    const before = readFileSync(dbPath(dir));
    const older = (err: unknown) => {
      assert.equal((err as LadingError).code, 'DB');
      assert.match(
        (err as Error).message,
        /schema version 1 is older than this Lading reads \(3\): run `lading db update`/,
      );
      return true;
    };
    assert.throws(() => VulnStoreReader.open(dir), older);
    await assert.rejects(scan(dir), older);
    assert.deepEqual(readFileSync(dbPath(dir)), before);
  });

  it('upgrades a schema 1 file in place when opened for an update, then matches as a fresh import does', async (t) => {
    const fresh = await tempDir(t);
    const store = VulnStoreWriter.open(fresh);
    await importPaths(store, [OSV_FIXTURES], NOW);
    store.close();
    const expected = await scan(fresh);
    assert.ok(expected.length >= 3, `fixtures give findings (${expected.length})`);

    const old = await tempDir(t);
    writeSchema1(old);
    // what `db update` and `db import` do first: rebuild the package rows from the stored records
    VulnStoreWriter.open(old).close();
    const upgraded = await scan(old);
    assert.deepEqual(upgraded, expected);
    const raw = openSqlite(dbPath(old), { readonly: true });
    t.after(() => raw.close());
    assert.equal(raw.pragmaValue('user_version'), SCHEMA_VERSION);
    const reread = VulnStoreReader.open(old)!;
    t.after(() => reread.close());
    assert.equal(reread.recordsFor('Debian:10', 'e2fsprogs')[0]?.id, 'DEBIAN-CVE-2019-5094');
  });
});
