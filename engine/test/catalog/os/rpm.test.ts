import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { readBerkeleyDb } from '../../../src/catalog/os/rpm/bdb.js';
import { rpmCataloger } from '../../../src/catalog/os/rpm/cataloger.js';
import { HeaderError, RpmHeader, readPackage } from '../../../src/catalog/os/rpm/header.js';
import { readNdb } from '../../../src/catalog/os/rpm/ndb.js';
import { parseSourceRpm } from '../../../src/catalog/os/rpm/source-rpm.js';
import { readSqlite } from '../../../src/catalog/os/rpm/sqlite.js';
import type { WantedFile, WantedFiles } from '../../../src/image/file.js';
import type { OsInfo } from '../../../src/model/os.js';
import type { PackageFound } from '../../../src/model/package.js';
import { openSqlite } from '../../../src/sqlite-driver.js';
import { tempDir } from '../../helpers/tmp.js';
import { wantedFiles } from '../../helpers/wanted-files.js';
import { onPageDatabase, swapToBigEndian } from './bdb-builder.js';
import { buildDemoDatabase, rpmQuery } from './rpm-oracle.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/catalog/os/rpm/', import.meta.url));
const MARINER = join(FIXTURES, 'cbl-mariner-2.0-rpmdb.sqlite');
const SLE_NDB = join(FIXTURES, 'sle15-bci-Packages.db');
const LIBUUID_BDB = join(FIXTURES, 'libuuid-bdb-Packages');

async function catalog(files: WantedFiles, os?: OsInfo) {
  return rpmCataloger.catalog(files, os ? { os, limits: DEFAULT_LIMITS } : { limits: DEFAULT_LIMITS });
}

/** Our packages in the oracle's shape: `NAME EPOCHNUM VERSION RELEASE ARCH SOURCERPM`. */
function asRpmQuery(packages: PackageFound[]): string[] {
  return packages
    .map((p) => {
      const m = /^(?:(\d+):)?(.*)-([^-]*)$/.exec(p.version);
      const srpm = p.source ? `${p.source.name}-${p.source.version}.src.rpm` : '(none)';
      return `${p.name} ${m?.[1] ?? 0} ${m?.[2]} ${m?.[3]} ${p.arch} ${srpm}`;
    })
    .sort();
}

describe('rpm databases against rpm itself', () => {
  it('SQLite (CBL-Mariner 2.0): the same 129 packages as rpm -qa', async (t) => {
    const scratch = await tempDir(t);
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/rpm/rpmdb.sqlite': readFileSync(MARINER) }));
    assert.deepEqual(warnings, []);
    const oracle = rpmQuery(MARINER, 'rpmdb.sqlite', scratch);
    assert.equal(oracle.length, 129);
    assert.deepEqual(asRpmQuery(packages), oracle);
  });

  it('Berkeley DB hash (EL8 libuuid): the same package as rpm -qa with the bdb_ro backend', async (t) => {
    const scratch = await tempDir(t);
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/rpm/Packages': readFileSync(LIBUUID_BDB) }));
    assert.deepEqual(warnings, []);
    const oracle = rpmQuery(LIBUUID_BDB, 'Packages', scratch, true);
    assert.deepEqual(oracle, ['libuuid 0 2.32.1 42.el8_8 x86_64 util-linux-2.32.1-42.el8_8.src.rpm']);
    assert.deepEqual(asRpmQuery(packages), oracle);
  });

  it('NDB (SUSE BCI 15.3): the table go-rpmdb asserts, in database order', async () => {
    const expected = readFileSync(join(FIXTURES, 'sle15-bci.expected.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split('\t'));
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/rpm/Packages.db': readFileSync(SLE_NDB) }));
    assert.deepEqual(warnings, []);
    assert.equal(packages.length, 35);
    assert.deepEqual(
      packages.map((p) => [
        p.name,
        p.version.split('-')[0],
        p.version.split('-').slice(1).join('-'),
        p.arch,
        p.licenses[0],
      ]),
      expected.map(([name, version, release, arch, , license]) => [name, version, release, arch, license]),
    );
    assert.deepEqual(
      packages.map((p) => `${p.source?.name}-${p.source?.version}.src.rpm`),
      expected.map((row) => row[4]),
    );
  });

  it('a database rpmbuild and rpm wrote here: epoch, modularity label, source, owned files', async (t) => {
    const scratch = await tempDir(t);
    const db = buildDemoDatabase(scratch);
    const files = wantedFiles({ '/usr/lib/sysimage/rpm/rpmdb.sqlite': readFileSync(db) });
    const { packages, warnings } = await catalog(files, { family: 'rhel', version: '9.3' });
    assert.deepEqual(warnings, []);
    assert.deepEqual(asRpmQuery(packages), rpmQuery(db, 'rpmdb.sqlite', scratch));
    const demo = packages[0];
    assert.equal(demo?.version, '3:1.2-4.el9');
    assert.equal(demo?.purl, 'pkg:rpm/redhat/lading-demo@1.2-4.el9?arch=noarch&distro=rhel-9.3&epoch=3');
    assert.deepEqual(demo?.source, { name: 'lading-demo', version: '1.2-4.el9' });
    assert.deepEqual(demo?.licenses, ['MIT and ASL 2.0']);
    assert.equal(demo?.metadata?.['rpm.modularitylabel'], 'demo:1:9000:abcd');
    assert.deepEqual(demo?.ownedFiles, [
      '/usr/lib/python3/site-packages/lading_demo-1.2.dist-info',
      '/usr/lib/python3/site-packages/lading_demo-1.2.dist-info/METADATA',
    ]);
    assert.equal(demo?.locations[0]?.path, '/usr/lib/sysimage/rpm/rpmdb.sqlite');
  });
});

describe('rpm SQLite write-ahead log', () => {
  /**
   * Leaves committed-but-not-checkpointed transactions in `rpmdb.sqlite-wal`, as an image layer captured while
   * rpm's connection was open would: one package removed, the rpmbuild demo package added. Copies db + WAL
   * before the connection closes (closing would checkpoint).
   */
  function databaseWithWal(scratch: string): { db: Buffer; wal: Buffer; dir: string } {
    const demo = readSqlite(readFileSync(buildDemoDatabase(scratch))).blobs[0];
    assert.ok(demo);
    const live = join(scratch, 'live');
    mkdirSync(live);
    copyFileSync(MARINER, join(live, 'rpmdb.sqlite'));
    const conn = openSqlite(join(live, 'rpmdb.sqlite'));
    const frozen = join(scratch, 'frozen');
    mkdirSync(frozen);
    try {
      conn.pragma('journal_mode = WAL');
      conn.pragma('wal_autocheckpoint = 0');
      // rpm's index tables reference Packages rows; -qa reads Packages only.
      conn.pragma('foreign_keys = OFF');
      conn.prepare('DELETE FROM Packages WHERE hnum = (SELECT max(hnum) FROM Packages)').run();
      conn.prepare('INSERT INTO Packages (hnum, blob) VALUES ((SELECT max(hnum) + 100 FROM Packages), ?)').run(demo);
      copyFileSync(join(live, 'rpmdb.sqlite'), join(frozen, 'rpmdb.sqlite'));
      copyFileSync(join(live, 'rpmdb.sqlite-wal'), join(frozen, 'rpmdb.sqlite-wal'));
    } finally {
      conn.close();
    }
    return {
      db: readFileSync(join(frozen, 'rpmdb.sqlite')),
      wal: readFileSync(join(frozen, 'rpmdb.sqlite-wal')),
      dir: frozen,
    };
  }

  it('merges committed transactions still in rpmdb.sqlite-wal, as rpm -qa does', async (t) => {
    const scratch = await tempDir(t);
    const { db, wal, dir } = databaseWithWal(scratch);
    assert.ok(wal.length > 32, 'the WAL holds frames');
    const oracle = execFileSync('rpm', ['--dbpath', dir, '-qa', '--qf', '%{NAME}\\n'], { encoding: 'utf8' })
      .split('\n')
      .filter((n) => n !== '' && n !== 'gpg-pubkey')
      .sort();
    assert.ok(oracle.includes('lading-demo'));
    assert.equal(oracle.length, 129);
    const files = wantedFiles({ '/var/lib/rpm/rpmdb.sqlite': db, '/var/lib/rpm/rpmdb.sqlite-wal': wal });
    assert.ok(rpmCataloger.wants('/var/lib/rpm/rpmdb.sqlite-wal', { size: wal.length, mode: 0o644, type: 'file' }));
    const { packages, warnings } = await catalog(files);
    assert.deepEqual(warnings, []);
    assert.deepEqual(packages.map((p) => p.name).sort(), oracle);
    const stale = await catalog(wantedFiles({ '/var/lib/rpm/rpmdb.sqlite': db }));
    assert.ok(!stale.packages.some((p) => p.name === 'lading-demo'), 'without the WAL the main file is stale');
  });

  it('ignores an empty or garbage WAL and reads the main file', async () => {
    const db = readFileSync(MARINER);
    for (const wal of [Buffer.alloc(0), Buffer.alloc(4096, 0x41), Buffer.from('x'.repeat(40))]) {
      const { packages, warnings } = await catalog(
        wantedFiles({ '/usr/lib/sysimage/rpm/rpmdb.sqlite': db, '/usr/lib/sysimage/rpm/rpmdb.sqlite-wal': wal }),
      );
      assert.deepEqual(warnings, []);
      assert.equal(packages.length, 129);
    }
  });
});

describe('hostile rpm SQLite databases', () => {
  /** A small database whose `Packages` is whatever `ddl` makes of it, as an image could ship it. */
  function hostileDatabase(scratch: string, ddl: string): Buffer {
    const path = join(scratch, 'rpmdb.sqlite');
    const db = openSqlite(path);
    db.exec(ddl);
    db.close();
    return readFileSync(path);
  }

  it('a recursive view named Packages is refused at once, as a warning, not run', async (t) => {
    const scratch = await tempDir(t);
    const content = hostileDatabase(
      scratch,
      'CREATE VIEW Packages AS WITH RECURSIVE n(hnum) AS (SELECT 1 UNION ALL SELECT hnum + 1 FROM n) SELECT hnum, randomblob(100) AS blob FROM n',
    );
    assert.ok(content.length <= 8192, `${content.length} bytes`);
    const started = Date.now();
    assert.throws(() => readSqlite(content), /refusing rpm SQLite database: it holds a view \("Packages"\)/);
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/rpm/rpmdb.sqlite': content }));
    assert.equal(packages.length, 0);
    assert.match(warnings.map((w) => w.message).join('\n'), /it holds a view/);
    assert.ok(Date.now() - started < 5000);
  });

  it('a trigger, a virtual table or a missing Packages table is refused', async (t) => {
    const cases: [string, RegExp][] = [
      [
        'CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB); CREATE TABLE x (a); CREATE TRIGGER t AFTER INSERT ON x BEGIN DELETE FROM x; END',
        /holds a trigger/,
      ],
      [
        'CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB); CREATE VIRTUAL TABLE Names USING fts5(name)',
        /holds a virtual table \("Names"\)/,
      ],
      ['CREATE TABLE Other (a)', /no table "Packages"/],
    ];
    for (const [ddl, reason] of cases) {
      const content = hostileDatabase(await tempDir(t), ddl);
      assert.throws(() => readSqlite(content), reason);
    }
  });
});

describe('Berkeley DB layouts beyond the fixture', () => {
  it('reads a big-endian (s390x-style) copy of the database the same as the original', () => {
    const le = readFileSync(LIBUUID_BDB);
    const be = swapToBigEndian(le);
    assert.notDeepEqual(be, le);
    const original = readBerkeleyDb(le);
    const swapped = readBerkeleyDb(be);
    assert.deepEqual(swapped.problems, []);
    assert.equal(swapped.blobs.length, 1);
    assert.deepEqual(swapped.blobs, original.blobs);
  });

  it('reads values stored on the hash page itself (H_KEYDATA)', async () => {
    const blobs = readSqlite(readFileSync(MARINER))
      .blobs.filter((b) => b.length < 20000)
      .slice(0, 3);
    assert.equal(blobs.length, 3);
    const read = readBerkeleyDb(onPageDatabase(blobs));
    assert.deepEqual(read.blobs, blobs);
    const { packages } = await catalog(wantedFiles({ '/var/lib/rpm/Packages': onPageDatabase(blobs) }));
    assert.deepEqual(
      packages.map((p) => p.name),
      blobs.map((b) => readPackage(b).name),
    );
  });
});

describe('rpm package details', () => {
  it('resolves REQUIRENAME through provides and files, skipping rpmlib() and itself', async () => {
    const { packages } = await catalog(wantedFiles({ '/var/lib/rpm/rpmdb.sqlite': readFileSync(MARINER) }));
    const bash = packages.find((p) => p.name === 'bash');
    // `rpm -q --requires bash` resolved with `rpm -q --whatprovides`: bash coreutils glibc grep readline.
    assert.deepEqual(bash?.dependsOn, ['coreutils', 'glibc', 'grep', 'readline']);
    for (const p of packages) for (const d of p.dependsOn ?? []) assert.ok(packages.some((q) => q.name === d));
    assert.ok(bash?.ownedFiles?.includes('/bin/bash'));
  });

  it('parses source rpm file names', () => {
    assert.deepEqual(parseSourceRpm('openssl-3.0.7-27.el9.src.rpm'), { name: 'openssl', version: '3.0.7-27.el9' });
    assert.deepEqual(parseSourceRpm('gcc11-11.2.1+git610-1.3.9.src.rpm'), {
      name: 'gcc11',
      version: '11.2.1+git610-1.3.9',
    });
    assert.equal(parseSourceRpm('nonsense'), undefined);
    assert.equal(parseSourceRpm('x.src.rpm'), undefined);
  });

  it('prefers the newest database format when several are present', async () => {
    const files = wantedFiles({
      '/var/lib/rpm/Packages': readFileSync(LIBUUID_BDB),
      '/var/lib/rpm/rpmdb.sqlite': readFileSync(MARINER),
    });
    const { packages } = await catalog(files);
    assert.equal(packages.length, 129);
    assert.ok(packages.every((p) => p.locations[0]?.path === '/var/lib/rpm/rpmdb.sqlite'));
  });

  it('attributes packages to the oldest layer whose database already had them at this version', async () => {
    const current = readFileSync(MARINER);
    const file: WantedFile = {
      path: '/var/lib/rpm/Packages',
      layer: 'sha256:top',
      meta: { size: 1, mode: 0o644, type: 'file' },
      content: readFileSync(LIBUUID_BDB),
      history: [
        { layer: 'sha256:garbage', content: Buffer.from('not a database') },
        { layer: 'sha256:base', content: readFileSync(LIBUUID_BDB) },
      ],
    };
    const { packages } = await catalog(new Map([[file.path, file]]));
    assert.equal(packages[0]?.locations[0]?.layer, 'sha256:base', 'unreadable older versions stop the walk');
    const changed: WantedFile = {
      ...file,
      path: '/var/lib/rpm/rpmdb.sqlite',
      content: current,
      history: [{ layer: 'sha256:base', content: readFileSync(SLE_NDB) }],
    };
    const other = await catalog(new Map([[changed.path, changed]]));
    assert.ok(other.packages.every((p) => p.locations[0]?.layer === 'sha256:top'));
  });
});

describe('rpm hostile input', () => {
  const formats: [string, string][] = [
    ['/var/lib/rpm/rpmdb.sqlite', MARINER],
    ['/var/lib/rpm/Packages.db', SLE_NDB],
    ['/var/lib/rpm/Packages', LIBUUID_BDB],
  ];
  for (const [path, fixture] of formats) {
    it(`${path.split('/').pop()}: truncated and bit-flipped copies give warnings, never a throw`, async () => {
      const whole = readFileSync(fixture);
      const cuts = [
        0,
        1,
        15,
        100,
        511,
        4096,
        8192,
        Math.floor(whole.length / 3),
        Math.floor(whole.length / 2),
        whole.length - 1,
      ];
      for (const cut of cuts) {
        const result = await catalog(wantedFiles({ [path]: whole.subarray(0, cut) }));
        for (const p of result.packages) assert.ok(p.name && p.version);
        if (cut < 512) assert.ok(result.warnings.length > 0 || result.packages.length === 0);
      }
      let seed = 7;
      for (let round = 0; round < 20; round++) {
        const damaged = Buffer.from(whole);
        for (let i = 0; i < 50; i++) {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          damaged[seed % damaged.length] = seed & 0xff;
        }
        const result = await catalog(wantedFiles({ [path]: damaged }));
        for (const w of result.warnings) assert.equal(w.cataloger, 'rpm');
      }
    });
  }

  it('reports garbage under each database name as one warning', async () => {
    for (const path of ['/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/Packages.db', '/var/lib/rpm/Packages']) {
      const { packages, warnings } = await catalog(wantedFiles({ [path]: Buffer.alloc(5000, 0x41) }));
      assert.deepEqual(packages, []);
      assert.equal(warnings.length, 1, path);
      assert.match(warnings[0]?.message ?? '', /bad magic/);
    }
  });

  it('stops at loops and out-of-file pointers in Berkeley DB overflow chains', () => {
    const db = Buffer.from(readFileSync(LIBUUID_BDB));
    const pageSize = db.readUInt32LE(20);
    // Point every overflow page's next-page field at itself.
    for (let page = pageSize; page + pageSize <= db.length; page += pageSize) {
      if (db[page + 25] === 7) db.writeUInt32LE(page / pageSize, page + 16);
    }
    const looped = readBerkeleyDb(db);
    assert.deepEqual(looped.blobs, []);
    assert.match(looped.problems.join('\n'), /loops/);
  });

  it('rejects absurd NDB slot counts and blob lengths', () => {
    const db = Buffer.from(readFileSync(SLE_NDB));
    const bad = Buffer.from(db);
    bad.writeUInt32LE(100000, 12);
    assert.throws(() => readNdb(bad), /slot page count/);
    const longBlob = Buffer.from(db);
    const firstBlob = longBlob.readUInt32LE(32 + 8) * 16;
    longBlob.writeUInt32LE(0x7fffffff, firstBlob + 12);
    assert.match(readNdb(longBlob).problems.join('\n'), /runs past the file/);
  });

  it('reads arbitrary header blobs without anything but a HeaderError', () => {
    const real = readSqlite(readFileSync(MARINER)).blobs[0] ?? Buffer.alloc(0);
    assert.equal(readPackage(real).name.length > 0, true);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(real.length), (noise, at) => {
        for (const blob of [Buffer.from(noise), Buffer.concat([real.subarray(0, at), Buffer.from(noise)])]) {
          try {
            readPackage(blob);
          } catch (err) {
            assert.ok(err instanceof HeaderError || err instanceof RangeError, String(err));
          }
        }
      }),
      { numRuns: 400 },
    );
    assert.throws(() => new RpmHeader(Buffer.from([0, 1, 0, 0, 0, 0, 0, 0])), /index count/);
  });

  it('warns instead of reporting a header whose name or version holds control characters, and about duplicates', async (t) => {
    const blobs = readSqlite(readFileSync(MARINER)).blobs.slice(0, 3);
    const [first, second, third] = blobs.map((b) => Buffer.from(b));
    assert.ok(first && second && third);
    const nameOf = (blob: Buffer) => readPackage(blob).name;
    const victim = nameOf(second);
    const versionOf = readPackage(third).version;
    // Same-length edits inside the header's data store keep every offset valid.
    const rename = (blob: Buffer, from: string, to: string) => {
      const at = blob.indexOf(Buffer.from(`\0${from}\0`));
      assert.ok(at > 0, from);
      blob.write(to, at + 1, 'latin1');
    };
    rename(second, victim, `\x1b${victim.slice(1)}`);
    rename(third, versionOf, `${versionOf.slice(0, -1)}\x07`);
    const dir = await tempDir(t, 'lading-rpm-hostile-');
    const path = join(dir, 'rpmdb.sqlite');
    const db = openSqlite(path);
    db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
    for (const blob of [first, second, third, first]) insert.run(blob);
    db.close();
    const { packages, warnings } = await catalog(wantedFiles({ '/var/lib/rpm/rpmdb.sqlite': readFileSync(path) }));
    assert.deepEqual(
      packages.map((p) => p.name),
      [nameOf(first)],
    );
    const said = warnings.map((w) => w.message);
    assert.equal(said.length, 3, said.join('\n'));
    assert.match(
      said[0] ?? '',
      new RegExp(`^package header 2: invalid package name "\\\\u001b${victim.slice(1)}"; skipped$`),
    );
    assert.match(said[1] ?? '', /^package header 3: package \S+ has an invalid version ".*\\u0007"; skipped$/);
    assert.match(said[2] ?? '', new RegExp(`^duplicate header for ${nameOf(first)}\\.`));
  });
});
