// Runs the server's migrations with Kysely's Migrator from a static list (no directory scanning, so a bundle or a
// packed install carries exactly these). Forward-only; Kysely's lock table makes simultaneous starts safe.
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { installGraphileSchema } from '../jobs/graphile.js';
import type { SqlDialect } from './dialect.js';
import { initialMigration } from './migrations/0001_initial.js';
import { readIndexesMigration } from './migrations/0002_read_indexes.js';
import { metricsMigration } from './migrations/0003_metrics.js';
import { notifyMigration } from './migrations/0005_notify.js';
import { githubMigration } from './migrations/0006_github.js';
import { rebuildMigration } from './migrations/0007_rebuild.js';
import { jobsMigration } from './migrations/0008_jobs.js';
import { watchMigration } from './migrations/0009_watch.js';
import { matchInputsMigration } from './migrations/0010_match_inputs.js';
import type { Database } from './schema.js';

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_initial': initialMigration(dialect),
    '0002_read_indexes': readIndexesMigration(dialect),
    '0003_metrics': metricsMigration(dialect),
    '0005_notify': notifyMigration(dialect),
    '0006_github': githubMigration(dialect),
    '0007_rebuild': rebuildMigration(dialect),
    '0008_jobs': jobsMigration(dialect),
    '0009_watch': watchMigration(dialect),
    '0010_match_inputs': matchInputsMigration(dialect),
  };
}

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly list: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.list;
  }
}

export interface MigrationOutcome {
  /** Names of the migrations this call applied, in order (empty when the database was up to date). */
  readonly applied: readonly string[];
}

export async function migrateToLatest(db: Kysely<Database>, dialect: SqlDialect): Promise<MigrationOutcome> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(migrations(dialect)) });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed} failed: ${message}`);
  }
  // jobs on PostgreSQL run on graphile-worker: its schema is installed (or upgraded) by its own migrations, every
  // time, since they are idempotent and follow the installed graphile-worker version rather than ours
  if (dialect === 'postgres') await installGraphileSchema(db);
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** Names of the migrations this build has that the database has not applied. */
export async function pendingMigrations(db: Kysely<Database>, dialect: SqlDialect): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(migrations(dialect)) });
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}
