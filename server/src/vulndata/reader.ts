// One open reader of the server's vulnerability store, shared by every job of a process (ingest's match, re-analysis):
// opening the store per job reopened the SQLite file, re-checked its schema and threw away the reader's memos
// (a package's advisory candidates, record heads, EPSS scores, the KEV list), which every ingest then read again.
//
// Freshness, in three layers:
// - a commit to the same file by anyone (this process's `vulndb.update`, the CLI's `lading db import` on the same
//   folder, another node's update on a shared folder) is seen by the engine's reader itself: every snapshot starts
//   by comparing SQLite's `data_version` and drops all memos when it moved (engine vulndb/reader.ts);
// - a data generation made in this process (`vulndb.update` / `vulndb.import`, vulndata/jobs.ts) calls
//   `invalidate()`: the reader of the older generation is closed and the next job opens a new one, so nothing opened
//   before the generation (its schema check included) outlives it;
// - the file replaced under the reader (a restore from backup, a folder swapped in: a new inode) is noticed by a
//   `stat` before each use, and reopened: an open descriptor would keep reading the unlinked old file forever.
// A store that does not exist yet is looked for again on the next use (the first update creates it).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { VulnStoreReader } from '@lading/engine/vulndb';

/** The engine's file name inside a `lading db` folder (DB_FILE of engine vulndb/store.ts). */
const STORE_FILE = 'vulndb.sqlite';

export interface VulnReaders {
  /** The store folder every reader comes from. */
  readonly dir: string;
  /**
   * Runs `read` on the current generation's reader (opened on first use; undefined while the folder holds no data).
   * `read` is synchronous: the reader cannot be closed under it.
   */
  use<T>(read: (store: VulnStoreReader | undefined) => T): Promise<T>;
  /**
   * The current reader for work that awaits between reads (re-analysis's batches): it stays open until `release()`
   * even if a new generation retires it meanwhile (that work then reads the generation it started with; the engine's
   * data_version check still shows it every commit to the same file).
   */
  acquire(): Promise<{ store: VulnStoreReader | undefined; release(): void }>;
  /** A new data generation was made: the next use opens the store again. */
  invalidate(): void;
  /** Closes the open reader (shutdown), once whoever holds it released it. */
  close(): void;
}

interface OpenReader {
  readonly store: VulnStoreReader;
  /** The file's identity when it was opened: a different one means the file was replaced. */
  readonly identity: string;
  /** Acquired and not yet released. */
  users: number;
  /** Replaced or closed: closed as soon as nobody holds it. */
  retired: boolean;
}

export function openVulnReaders(dir: string): VulnReaders {
  let open: OpenReader | undefined;
  const file = join(dir, STORE_FILE);
  const identity = (): string | undefined => {
    try {
      const s = statSync(file, { bigint: true });
      return `${s.dev}:${s.ino}`;
    } catch {
      return undefined;
    }
  };
  const retire = () => {
    const old = open;
    open = undefined;
    if (!old) return;
    old.retired = true;
    if (old.users === 0) old.store.close();
  };
  /** The current reader, already counted as held (before any await can let a retire() close it). */
  const current = async (): Promise<OpenReader | undefined> => {
    const now = identity();
    if (open && open.identity === now) {
      open.users++;
      return open;
    }
    retire();
    if (now === undefined) return undefined;
    const { VulnStoreReader } = await import('@lading/engine/vulndb');
    // another caller may have opened it while this one awaited the import
    if (open !== undefined) {
      open.users++;
      return open;
    }
    const store = VulnStoreReader.open(dir);
    if (!store) return undefined;
    // the identity read before opening: a replacement between the two is caught by the next use's stat
    open = { store, identity: now, users: 1, retired: false };
    return open;
  };
  return {
    dir,
    async use(read) {
      const { store, release } = await acquire();
      try {
        return read(store);
      } finally {
        release();
      }
    },
    acquire,
    invalidate: retire,
    close: retire,
  };

  async function acquire(): Promise<{ store: VulnStoreReader | undefined; release(): void }> {
    const held = await current();
    if (!held) return { store: undefined, release: () => {} };
    let released = false;
    return {
      store: held.store,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.retired && held.users === 0) held.store.close();
      },
    };
  }
}
