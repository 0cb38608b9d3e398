import Database from 'better-sqlite3';
import { type BlobRead, DatabaseError } from './blobs.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export function isSqlite(content: Buffer): boolean {
  return content.length >= 100 && content.subarray(0, 16).equals(SQLITE_MAGIC);
}

/**
 * rpm >= 4.16 `rpmdb.sqlite`: table `Packages(hnum, blob)`. Opened from memory, read-only. rpm keeps the file
 * in WAL mode, which SQLite cannot open from a buffer; header bytes 18-19 switch a private copy back to
 * rollback-journal mode (a checkpointed WAL database reads the same). A `-wal` file beside it is not merged.
 */
export function readSqlite(content: Buffer): BlobRead {
  if (!isSqlite(content)) throw new DatabaseError('not an SQLite database (bad magic)');
  const copy = Buffer.from(content);
  copy[18] = 1;
  copy[19] = 1;
  let db: Database.Database | undefined;
  try {
    db = new Database(copy, { readonly: true });
    const rows = db.prepare('SELECT blob FROM Packages ORDER BY hnum').raw().all() as [unknown][];
    const result: BlobRead = { blobs: [], problems: [] };
    for (const [blob] of rows) {
      if (Buffer.isBuffer(blob)) result.blobs.push(blob);
      else result.problems.push('Packages row without a blob');
    }
    return result;
  } catch (err) {
    if (err instanceof DatabaseError) throw err;
    throw new DatabaseError(`unreadable rpm SQLite database: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}
