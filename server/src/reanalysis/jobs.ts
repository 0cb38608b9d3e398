// The job kinds of findings over time, registered explicitly (jobs/handlers.ts): re-analysis after a data update,
// and exception expiry.
import type { ServerContext } from '../context.js';
import { JobFailure, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import { vulndbDirOf } from '../vulndata/jobs.js';
import type { VulnReaders } from '../vulndata/reader.js';
import { EXCEPTIONS_EXPIRE, expireExceptions } from './expire.js';
import { REANALYZE, type ReanalyzePayload, reanalyze } from './reanalyze.js';

export interface ReanalysisOptions {
  /** The store re-analysis matches with; default `<dataDir>/vulndb` (the one updates write). */
  readonly dbDir?: string;
  /** The process's shared reader of that store (vulndata/reader.ts); without it each job opens the store. */
  readonly readers?: VulnReaders;
}

export function registerReanalysisJobs(runner: JobRunner, ctx: ServerContext, options: ReanalysisOptions = {}): void {
  const dbDir = options.dbDir ?? vulndbDirOf(ctx);
  registerJobHandler(runner, EXCEPTIONS_EXPIRE, async () => expireExceptions(ctx));
  registerJobHandler(runner, REANALYZE, async (run) => {
    const p = (run.payload ?? {}) as Partial<ReanalyzePayload>;
    if (typeof p.generation !== 'number' || !Number.isSafeInteger(p.generation)) {
      throw new JobFailure('bad_payload', 'reanalyze needs a data generation', false);
    }
    return reanalyze(
      ctx,
      ctx.blobs,
      options.readers ?? dbDir,
      p.generation,
      (s) => run.step(s),
      run.signal,
      p.everything === true,
    );
  });
}
