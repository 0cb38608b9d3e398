// The job kinds of findings over time, registered explicitly (jobs/handlers.ts).
import type { ServerContext } from '../context.js';
import { type JobRunner, registerJobHandler } from '../jobs/runner.js';
import { EXCEPTIONS_EXPIRE, expireExceptions } from './expire.js';

export function registerReanalysisJobs(runner: JobRunner, ctx: ServerContext): void {
  registerJobHandler(runner, EXCEPTIONS_EXPIRE, async () => expireExceptions(ctx));
}
