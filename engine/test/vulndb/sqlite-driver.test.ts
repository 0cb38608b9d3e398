import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqlite, sqliteDriverName } from '../../src/sqlite-driver.js';
import { tempDir } from '../helpers/tmp.js';

// These tests, like every vulndb test, run twice in CI: on Node 20 (better-sqlite3) and on Node 24 (node:sqlite,
// .ci/test-node24). They pin what the store relies on, so a driver that drifts fails here first.
// Node 22 has node:sqlite too, but warns on every run: there the installed addon stays first.
const [major = 0] = process.versions.node.split('.').map(Number);
const builtinExpected = major >= 23;

describe('SQLite driver', () => {
  it(`is ${builtinExpected ? 'node:sqlite' : 'better-sqlite3'} on Node ${process.versions.node}`, () => {
    assert.equal(sqliteDriverName(), builtinExpected ? 'node:sqlite' : 'better-sqlite3');
  });

  it('reads blobs back as bytes, integers as numbers, and missing rows as undefined', async (t) => {
    const db = openSqlite(join(await tempDir(t), 'a.sqlite'));
    t.after(() => db.close());
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, b BLOB)');
    db.prepare('INSERT INTO t VALUES (?, ?, ?)').run('a', 7, Buffer.from([1, 2, 3]));
    db.prepare('INSERT INTO t VALUES (@k, @n, @b)').run({ k: 'b', n: 8, b: null });
    const row = db.prepare('SELECT n, b FROM t WHERE k = ?').get('a') as { n: number; b: Uint8Array };
    assert.equal(row.n, 7);
    assert.ok(row.b instanceof Uint8Array);
    assert.deepEqual([...row.b], [1, 2, 3]);
    assert.equal(db.prepare('SELECT n FROM t WHERE k = ?').get('zz'), undefined);
    assert.deepEqual(
      [...db.prepare('SELECT k FROM t ORDER BY k').iterate()].map((r) => (r as { k: string }).k),
      ['a', 'b'],
    );
  });

  it('pragmas: rows and single values', async (t) => {
    const db = openSqlite(join(await tempDir(t), 'p.sqlite'));
    t.after(() => db.close());
    db.pragma('user_version = 5');
    assert.equal(db.pragmaValue('user_version'), 5);
    assert.equal(String(db.pragmaValue('journal_mode = WAL')).toLowerCase(), 'wal');
  });

  it('transactions commit, roll back on a throw, refuse promises, and report inTransaction', async (t) => {
    const db = openSqlite(join(await tempDir(t), 't.sqlite'));
    t.after(() => db.close());
    db.exec('CREATE TABLE t (x INTEGER)');
    const count = () => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    assert.equal(
      db.transaction(() => {
        assert.equal(db.inTransaction, true);
        db.prepare('INSERT INTO t VALUES (1)').run();
        return 'done';
      }, 'immediate'),
      'done',
    );
    assert.equal(db.inTransaction, false);
    assert.throws(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO t VALUES (2)').run();
        throw new Error('boom');
      }),
    );
    assert.equal(count(), 1);
    assert.equal(db.inTransaction, false);
    assert.throws(() => db.transaction(() => Promise.resolve(1)));
    assert.equal(db.inTransaction, false);
    assert.equal(count(), 1);
  });

  it('readonly never creates a file', async (t) => {
    const path = join(await tempDir(t), 'missing.sqlite');
    assert.throws(() => openSqlite(path, { readonly: true }));
    const db = openSqlite(path);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const ro = openSqlite(path, { readonly: true });
    t.after(() => ro.close());
    assert.throws(() => ro.exec('INSERT INTO t VALUES (1)'));
  });
});

describe('SQLite driver locking', () => {
  it('waits for another connection’s write lock (busy timeout) instead of failing at once', async (t) => {
    const path = join(await tempDir(t), 'l.sqlite');
    const writer = openSqlite(path);
    writer.exec('CREATE TABLE t (x)');
    writer.exec('BEGIN EXCLUSIVE');
    const started = Date.now();
    // the lock is held for longer than the timeout (the wait blocks this thread): the second connection gives up
    // after waiting its 5 s, not at once as node:sqlite's own default (0) would
    const other = openSqlite(path);
    t.after(() => other.close());
    assert.throws(() => other.prepare('SELECT count(*) FROM t').get(), /locked|busy/i);
    assert.ok(Date.now() - started >= 4000, `waited ${Date.now() - started} ms before giving up`);
    writer.exec('ROLLBACK');
    writer.close();
  });
});
