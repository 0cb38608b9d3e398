// Every job kind this server runs, registered explicitly at start-up (no handler registers itself on import).
// A new kind adds one line here.
import type { ServerContext } from '../context.js';
import { registerGithubJobs } from '../github/index.js';
import { registerIngestJob } from '../ingest/process.js';
import { registerMetricsJobs } from '../metrics/jobs.js';
import { registerNotifyJobs } from '../notify/index.js';
import { registerReanalysisJobs } from '../reanalysis/index.js';
import { registerVulndataJobs } from '../vulndata/index.js';
import { registerRebuildJobs, registerWatchJobs } from '../watch/index.js';
import type { JobRunner } from './runner.js';

export function registerJobHandlers(runner: JobRunner, ctx: ServerContext): void {
  registerIngestJob(runner, ctx, ctx.blobs);
  registerMetricsJobs(runner, ctx);
  registerVulndataJobs(runner, ctx);
  registerReanalysisJobs(runner, ctx);
  registerNotifyJobs(runner, ctx);
  registerGithubJobs(runner, ctx);
  registerRebuildJobs(runner, ctx);
  registerWatchJobs(runner, ctx);
}
