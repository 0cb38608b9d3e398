// GET /api/v1/jobs/{id}?wait=N: a job's state, steps, result and error; with `wait`, the answer waits (at most 60 s)
// until the job reaches a terminal state, so CI never races the server (SERVER.md section 2).
import type { FastifyInstance } from 'fastify';
import { type Caller, callerMayAccess, requireCaller } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { decodeJson } from '../db/dialect.js';
import { ProblemError } from '../http/problem.js';
import { findJob, type JobRow, jobView, TERMINAL_STATES } from '../jobs/queue.js';

export const MAX_JOB_WAIT_SECONDS = 60;
/** Another process (a worker node) may finish the job: look at the database at least this often while waiting. */
const RECHECK_MS = 1_000;

function waitSeconds(value: unknown): number {
  if (value === undefined || value === '') return 0;
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value) || Number(value) > MAX_JOB_WAIT_SECONDS) {
    throw new ProblemError(
      400,
      'Bad Request',
      `wait must be a whole number of seconds from 0 to ${MAX_JOB_WAIT_SECONDS}`,
      {
        code: 'bad_wait',
      },
    );
  }
  return Number(value);
}

/** The `created_by` text of jobs a caller enqueues (so the caller can read them back). */
export function jobCreator(caller: Caller): string {
  return `${caller.kind}:${caller.id}`;
}

/**
 * Whether the caller may see a job: administrators see all; others see the jobs they enqueued and the jobs about a
 * repository (payload.repository) they hold a scope on. Anything else answers 404, like a missing job.
 */
function mayReadJob(caller: Caller, job: JobRow): boolean {
  if (caller.isAdmin || job.created_by === jobCreator(caller)) return true;
  const payload = decodeJson<{ repository?: unknown }>(job.payload);
  return typeof payload?.repository === 'string' && callerMayAccess(caller, payload.repository);
}

export function registerJobRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>(
    '/api/v1/jobs/:id',
    async (request, reply) => {
      const caller = requireCaller(request);
      if (!caller.isAdmin && !caller.scopes.has('ingest') && !caller.scopes.has('read')) {
        throw new ProblemError(403, 'Forbidden', 'reading jobs needs the ingest or the read scope');
      }
      const wait = waitSeconds(request.query.wait);
      const id = request.params.id;
      const notFound = () => new ProblemError(404, 'Not Found', `no job ${id}`, { code: 'job_not_found' });
      if (!/^job_[0-9A-Z]{26}$/.test(id)) throw notFound();
      let row = await findJob(ctx.db, id);
      if (!row || !mayReadJob(caller, row)) throw notFound();
      // wall-clock deadline (not ctx.now(): a test clock may stand still)
      const deadline = Date.now() + wait * 1000;
      const gone = new AbortController();
      // the client hung up: stop waiting (the response's close fires on a dropped connection)
      reply.raw.once('close', () => gone.abort());
      while (!TERMINAL_STATES.has(row.state) && Date.now() < deadline && !gone.signal.aborted) {
        await ctx.jobSignals.nextChange(id, Math.min(RECHECK_MS, deadline - Date.now()), gone.signal);
        row = (await findJob(ctx.db, id)) ?? row;
      }
      return { ...jobView(row), url: `/api/v1/jobs/${row.public_id}` };
    },
  );
}
