import { readBerkeleyDb } from './bdb.js';
import type { BlobRead } from './blobs.js';
import { readNdb } from './ndb.js';
import { readSqlite } from './sqlite.js';

export const RPM_DIRS = ['/usr/lib/sysimage/rpm/', '/var/lib/rpm/', '/usr/share/rpm/'] as const;
/** In the order rpm moved through them: a newer format beside an older one is the live database. */
export const RPM_DB_FILES = [
  { file: 'rpmdb.sqlite', read: readSqlite },
  { file: 'Packages.db', read: readNdb },
  { file: 'Packages', read: readBerkeleyDb },
] as const satisfies readonly { file: string; read: (content: Buffer, wal?: Buffer) => BlobRead }[];

const WANTED = new Set<string>(RPM_DIRS.flatMap((dir) => RPM_DB_FILES.map((db) => dir + db.file)));

export function isRpmDatabase(path: string): boolean {
  return WANTED.has(path);
}

/** SQLite's write-ahead log beside an `rpmdb.sqlite`: committed transactions not yet copied into the database. */
export function isRpmWal(path: string): boolean {
  return path.endsWith('-wal') && WANTED.has(path.slice(0, -'-wal'.length)) && path.includes('/rpmdb.sqlite-');
}

/** The database paths in preference order: newest format first, then /usr/lib/sysimage over /var/lib over /usr/share. */
export function preferredPaths(): string[] {
  return RPM_DB_FILES.flatMap((db) => RPM_DIRS.map((dir) => dir + db.file));
}

export function readerFor(path: string): ((content: Buffer, wal?: Buffer) => BlobRead) | undefined {
  return RPM_DB_FILES.find((db) => path.endsWith(`/${db.file}`))?.read;
}
