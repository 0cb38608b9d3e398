// What every part of the server receives: the configuration, the database, the clock, the secrets and the log.
// Built once at start-up (createContext) and passed explicitly; nothing reads globals.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { type BlobStore, openBlobStore } from './blobs/index.js';
import type { ServerConfig } from './config.js';
import { type DatabaseHandle, openDatabase } from './db/connection.js';
import type { SqlDialect } from './db/dialect.js';
import type { Database } from './db/schema.js';
import { JobSignals } from './jobs/signals.js';
import { createLogger, type Logger } from './log.js';
import { loadOrCreateSecretKeyFile, type ServerSecrets, serverSecrets } from './secrets.js';

export interface ServerContext {
  readonly config: ServerConfig;
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** The clock, in epoch ms: tests pass their own. */
  readonly now: () => number;
  readonly secrets: ServerSecrets;
  readonly log: Logger;
  /** The content-addressed artifact store (config.blobs): filesystem or S3-compatible. */
  readonly blobs: BlobStore;
  /** Wake-ups between enqueuers, the runner and long-polls in this process. */
  readonly jobSignals: JobSignals;
  /** This process's id in `nodes` and in `jobs.locked_by`. */
  readonly nodeId: string;
  close(): Promise<void>;
}

export interface ContextOptions {
  readonly now?: () => number;
  readonly log?: Logger;
  /** An already-open database (tests); otherwise config.database is opened. */
  readonly database?: DatabaseHandle;
}

export async function createContext(config: ServerConfig, options: ContextOptions = {}): Promise<ServerContext> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const root = config.secretKey ?? loadOrCreateSecretKeyFile(config.dataDir);
  const now = options.now ?? Date.now;
  // uploads are staged inside the data dir, so a rename (same filesystem) publishes them into a file:// store
  const blobs = openBlobStore({
    blobs: config.blobs,
    blobsS3: config.blobsS3,
    stagingDir: join(config.dataDir, 'staging'),
    now,
  });
  const handle = options.database ?? (await openDatabase(config.database));
  return {
    config,
    db: handle.db,
    dialect: handle.dialect,
    now,
    secrets: serverSecrets(root),
    log: options.log ?? createLogger(config.logLevel),
    blobs,
    jobSignals: new JobSignals(),
    nodeId: `node-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    close: () => handle.close(),
  };
}
