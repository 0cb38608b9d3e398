// `lading-server backup --to DIR` for the embedded mode (SERVER.md section 7, "Backups"): first SQLite's online
// backup of the database (consistent while the server runs), then every blob the store holds, copied incrementally
// and re-hashed on the way. Database first: blobs are written before the rows naming them, so every blob the copied
// database references is in the store by then and so in the copy. The secret key file is copied too, since without
// it no API token or session of the backup verifies.
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openBlobStore } from './blobs/index.js';
import { ConfigError } from './config.js';
import type { ServerContext } from './context.js';
import { SECRET_KEY_FILE } from './secrets.js';

export interface BackupOutcome {
  readonly dir: string;
  /** Blobs in the backup's store. */
  readonly blobs: number;
  /** Blobs this run copied (the rest were there from an earlier backup). */
  readonly copied: number;
}

export async function backupEmbedded(ctx: ServerContext, to: string): Promise<BackupOutcome> {
  const { config } = ctx;
  if (config.database.kind !== 'sqlite') {
    throw new ConfigError(
      'backup copies the embedded SQLite database; back up PostgreSQL with pg_dump -Fc or WAL archiving',
    );
  }
  const dir = resolve(to);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const target = join(dir, 'lading.db');
  const source = new BetterSqlite3(config.database.path, { readonly: true, fileMustExist: true });
  try {
    await source.backup(`${target}.partial`);
  } finally {
    source.close();
  }
  const copy = new BetterSqlite3(`${target}.partial`);
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the backup copy fails PRAGMA integrity_check: ${String(check)}`);
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  // the finished copy replaces the previous one only once it is whole
  renameSync(`${target}.partial`, target);

  const keyFile = join(config.dataDir, SECRET_KEY_FILE);
  if (existsSync(keyFile)) copyFileSync(keyFile, join(dir, SECRET_KEY_FILE));

  const destination = openBlobStore({ blobs: `file://${join(dir, 'blobs')}`, now: ctx.now });
  let blobs = 0;
  let copied = 0;
  for await (const blob of ctx.blobs.list()) {
    blobs++;
    if (await destination.has(blob.sha256)) continue;
    await destination.put(await ctx.blobs.open(blob.sha256), { maxBytes: blob.size, expectedSha256: blob.sha256 });
    copied++;
  }
  return { dir, blobs, copied };
}
