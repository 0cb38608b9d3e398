// The data-update job kinds: `vulndb.update` (nightly at 03:00 UTC and on an administrator's request) and
// `vulndb.import` (a file an administrator uploaded, for installations without internet access). Both record a
// data generation (update.ts). One at a time: both share the dedupe key of the store they write.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveSources, type SourceUrls } from '@lading/engine/vulndb';
import type { ServerContext } from '../context.js';
import { JobFailure, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import type { Schedule } from '../jobs/schedules.js';
import type { VulnReaders } from './reader.js';
import { importVulnerabilityData, updateVulnerabilityData } from './update.js';

export const VULNDB_UPDATE = 'vulndb.update';
export const VULNDB_IMPORT = 'vulndb.import';
/** The store takes one writer: updates and imports queue behind each other under this key. */
export const VULNDB_DEDUPE_KEY = 'vulndb';

export const VULNDATA_SCHEDULES: readonly Schedule[] = [
  { name: VULNDB_UPDATE, cron: '0 3 * * *', kind: VULNDB_UPDATE },
];

export interface VulndataOptions {
  /** The store; default `<dataDir>/vulndb` (the one the ingest job matches with). */
  readonly dbDir?: string;
  /** Where updates download from; default the public OSV, KEV and EPSS hosts. */
  readonly sources?: SourceUrls;
  /** The process's shared reader of the store (reader.ts): told after each update or import to open it anew. */
  readonly readers?: VulnReaders;
}

export interface UpdatePayload {
  ecosystems?: string[];
  full?: boolean;
}

export interface ImportPayload {
  /** A file under the data dir's upload folder, removed once imported. */
  file: string;
}

export function vulndbDirOf(ctx: ServerContext, options: VulndataOptions = {}): string {
  return options.dbDir ?? join(ctx.config.dataDir, 'vulndb');
}

export function uploadDirOf(ctx: ServerContext): string {
  return join(ctx.config.dataDir, 'vulndb-uploads');
}

export function registerVulndataJobs(runner: JobRunner, ctx: ServerContext, options: VulndataOptions = {}): void {
  const dbDir = vulndbDirOf(ctx, options);
  const sources = options.sources ?? resolveSources();
  registerJobHandler(runner, VULNDB_UPDATE, async (run) => {
    const p = (run.payload ?? {}) as UpdatePayload;
    const started = Date.now();
    await run.step({ name: 'update', state: 'running' });
    // the next job reads the new generation with a reader opened after it (even when the update failed half-way)
    const result = await updateVulnerabilityData(ctx, {
      dbDir,
      sources,
      ecosystems: p.ecosystems ?? [],
      full: p.full === true,
      signal: run.signal,
    }).finally(() => options.readers?.invalidate());
    await run.step({
      name: 'update',
      state: 'succeeded',
      ms: Date.now() - started,
      detail: `generation ${result.generation}: ${result.changed} packages changed`,
    });
    return result;
  });
  registerJobHandler(runner, VULNDB_IMPORT, async (run) => {
    const p = (run.payload ?? {}) as Partial<ImportPayload>;
    const uploads = uploadDirOf(ctx);
    if (typeof p.file !== 'string' || !/^[0-9a-f]{32}\.(zip|json)$/.test(p.file)) {
      throw new JobFailure('bad_payload', 'vulndb.import needs the name of an uploaded file', false);
    }
    const path = join(uploads, p.file);
    const started = Date.now();
    await run.step({ name: 'import', state: 'running' });
    try {
      const result = await importVulnerabilityData(ctx, dbDir, [path]).finally(() => options.readers?.invalidate());
      await run.step({
        name: 'import',
        state: 'succeeded',
        ms: Date.now() - started,
        detail: `generation ${result.generation}: ${result.changed} packages changed`,
      });
      return result;
    } catch (error) {
      // the engine's errors are one line and name the problem (a corrupt zip, a record that is not OSV)
      throw new JobFailure('import_failed', error instanceof Error ? error.message : String(error), false);
    } finally {
      await rm(path, { force: true });
    }
  });
}
