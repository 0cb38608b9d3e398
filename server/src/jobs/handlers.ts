// Every job kind this server runs, registered explicitly at start-up (no handler registers itself on import).
// A new kind adds one line here.
import { registerBlobJobs } from '../blobs/jobs.js';
import type { ServerContext } from '../context.js';
import { registerGithubJobs } from '../github/index.js';
import { registerIngestJob } from '../ingest/process.js';
import { registerMetricsJobs } from '../metrics/jobs.js';
import { registerNotifyJobs } from '../notify/index.js';
import { registerReanalysisJobs } from '../reanalysis/index.js';
import { registerVulndataJobs, vulndbDirOf } from '../vulndata/index.js';
import { openVulnReaders } from '../vulndata/reader.js';
import { registerRebuildJobs, registerWatchJobs } from '../watch/index.js';
import { registerPruneJobs } from './prune.js';
import type { JobRunner } from './runner.js';

/** What the handlers keep open between jobs, closed when the runner has stopped. */
export interface JobHandlerResources {
  close(): void;
}

export function registerJobHandlers(runner: JobRunner, ctx: ServerContext): JobHandlerResources {
  // one reader of the vulnerability store for every job of this process, per data generation (vulndata/reader.ts)
  const readers = openVulnReaders(vulndbDirOf(ctx));
  registerIngestJob(runner, ctx, ctx.blobs, { readers });
  registerMetricsJobs(runner, ctx);
  registerVulndataJobs(runner, ctx, { readers });
  registerReanalysisJobs(runner, ctx, { readers });
  registerNotifyJobs(runner, ctx);
  registerGithubJobs(runner, ctx);
  registerRebuildJobs(runner, ctx);
  registerWatchJobs(runner, ctx);
  registerPruneJobs(runner, ctx);
  registerBlobJobs(runner, ctx);
  return { close: () => readers.close() };
}
