// Both database engines for every server test: forEachDatabase runs a block once on SQLite and once on PostgreSQL,
// and openTestDatabase gives a fresh, migrated database of either kind that the caller closes (and so drops).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { type DatabaseHandle, type DatabaseTarget, openDatabase } from '../../src/db/connection.js';
import type { SqlDialect } from '../../src/db/dialect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createTestPostgresDatabase } from './postgres.js';

export type TestDatabaseKind = SqlDialect;
export const DATABASE_KINDS: readonly TestDatabaseKind[] = ['sqlite', 'postgres'];

/** Runs `block` inside a describe per engine, so every test in it runs on SQLite and on PostgreSQL. */
export function forEachDatabase(block: (kind: TestDatabaseKind) => void): void {
  for (const kind of DATABASE_KINDS) describe(`[${kind}]`, () => block(kind));
}

export interface TestDatabaseTarget {
  readonly target: DatabaseTarget;
  /** Removes the database (the SQLite directory, or the PostgreSQL database). */
  dispose(): Promise<void>;
}

/** An empty database of the given kind: a file in a temp dir, or a fresh database on the test cluster. */
export async function createTestDatabaseTarget(kind: TestDatabaseKind, dataDir?: string): Promise<TestDatabaseTarget> {
  if (kind === 'sqlite') {
    const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'lading-sqlite-'));
    return {
      target: { kind: 'sqlite', path: join(dir, 'lading.db') },
      dispose: async () => {
        if (!dataDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const pgdb = await createTestPostgresDatabase();
  return { target: { kind: 'postgres', url: pgdb.url }, dispose: () => pgdb.drop() };
}

export interface TestDatabase extends DatabaseHandle {
  readonly target: DatabaseTarget;
}

/** A fresh database with every migration applied; close() also deletes it. */
export async function openTestDatabase(
  kind: TestDatabaseKind,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const made = await createTestDatabaseTarget(kind);
  const handle = await openDatabase(made.target, { poolSize: 4 });
  if (options.migrate !== false) await migrateToLatest(handle.db, handle.dialect);
  return {
    ...handle,
    target: made.target,
    close: async () => {
      await handle.close();
      await made.dispose();
    },
  };
}
