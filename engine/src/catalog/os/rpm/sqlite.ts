import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { thrownValueText } from '../../../errors/lading-error.js';
import { openSqlite, type SqliteDatabase, sqliteDriverName, wrapBetterSqlite3 } from '../../../sqlite-driver.js';
import { sqliteShapeProblem } from '../../../sqlite-guard.js';
import { type BlobRead, DatabaseError } from './blobs.js';

type DatabaseClass = typeof Database;
let databaseClass: DatabaseClass | undefined;

/** The native addon loads only for images that hold an rpm SQLite database, not on every scan (and not where node:sqlite serves). */
function sqlite(): DatabaseClass {
  databaseClass ??= createRequire(import.meta.url)('better-sqlite3') as DatabaseClass;
  return databaseClass;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** A WAL file is a 32-byte header and then frames; a shorter one holds no pages (rpm leaves empty ones behind). */
const WAL_HEADER_BYTES = 32;

export function isSqlite(content: Buffer): boolean {
  return content.length >= 100 && content.subarray(0, 16).equals(SQLITE_MAGIC);
}

/** Does a `-wal` file beside the database hold frames SQLite would read? (Invalid frames it ignores itself.) */
export function walHasFrames(wal: Buffer | undefined): wal is Buffer {
  return wal !== undefined && wal.length > WAL_HEADER_BYTES;
}

/**
 * rpm >= 4.16 `rpmdb.sqlite`: table `Packages(hnum, blob)`, read-only. rpm keeps the file in WAL mode, which
 * SQLite cannot open from a buffer; header bytes 18-19 switch a private in-memory copy back to rollback-journal
 * mode (a checkpointed WAL database reads the same). When the image also holds a `-wal` file with frames
 * (transactions rpm committed but never checkpointed), the pages in the main file are stale: the pair is written
 * to a private temporary directory so SQLite itself merges the log, exactly as rpm would on its next open.
 */
export function readSqlite(content: Buffer, wal?: Buffer): BlobRead {
  if (!isSqlite(content)) throw new DatabaseError('not an SQLite database (bad magic)');
  if (walHasFrames(wal)) return readWithWal(content, wal);
  const copy = Buffer.from(content);
  copy[18] = 1;
  copy[19] = 1;
  // node:sqlite opens files only (the GitHub Action's runtime, which has no better-sqlite3): a private file copy
  if (sqliteDriverName() === 'node:sqlite') return readFromPrivateFile(copy);
  return readPackages(() => wrapBetterSqlite3(new (sqlite())(copy, { readonly: true })), copy.length);
}

function readFromPrivateFile(copy: Buffer): BlobRead {
  const dir = mkdtempSync(join(tmpdir(), 'lading-rpmdb-'));
  try {
    const path = join(dir, 'rpmdb.sqlite');
    writeFileSync(path, copy, { mode: 0o600 });
    return readPackages(() => openSqlite(path, { readonly: true }), copy.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readWithWal(content: Buffer, wal: Buffer): BlobRead {
  const dir = mkdtempSync(join(tmpdir(), 'lading-rpmdb-'));
  try {
    const path = join(dir, 'rpmdb.sqlite');
    writeFileSync(path, content, { mode: 0o600 });
    writeFileSync(`${path}-wal`, wal, { mode: 0o600 });
    // Writable so SQLite can build the -shm index it needs to read a WAL; only the private copy changes.
    return readPackages(() => openSqlite(path), content.length + wal.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Far more packages than any image installs (a full Fedora workstation has ~3,000). */
export const MAX_RPM_ROWS = 200_000;

/**
 * Reads `Packages` after checking it is a plain table (no view or trigger may run SQL of the image's choosing),
 * row by row, under a row budget and a byte budget: the blobs of a database can never add up to more than the
 * bytes of the files that hold them (`budgetBytes`), so a larger total means SQLite is computing, not reading.
 */
function readPackages(open: () => SqliteDatabase, budgetBytes: number): BlobRead {
  let db: SqliteDatabase | undefined;
  try {
    db = open();
    const problem = sqliteShapeProblem(db, { required: ['Packages'] });
    if (problem !== undefined) throw new DatabaseError(`refusing rpm SQLite database: ${problem}`);
    const rows = db
      .prepare('SELECT blob FROM Packages ORDER BY hnum LIMIT ?')
      .iterate(MAX_RPM_ROWS + 1) as IterableIterator<{ blob: unknown }>;
    const result: BlobRead = { blobs: [], problems: [] };
    let count = 0;
    let bytes = 0;
    for (const { blob } of rows) {
      if (++count > MAX_RPM_ROWS) throw new DatabaseError(`rpm SQLite database has more than ${MAX_RPM_ROWS} packages`);
      // better-sqlite3 reads a BLOB as a Buffer, node:sqlite as a Uint8Array: the same bytes, viewed as a Buffer
      if (blob instanceof Uint8Array) {
        bytes += blob.length;
        if (bytes > budgetBytes) throw new DatabaseError('rpm SQLite database yields more bytes than it holds');
        result.blobs.push(Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
      } else result.problems.push('Packages row without a blob');
    }
    return result;
  } catch (err) {
    if (err instanceof DatabaseError) throw err;
    throw new DatabaseError(`unreadable rpm SQLite database: ${thrownValueText(err)}`);
  } finally {
    db?.close();
  }
}
