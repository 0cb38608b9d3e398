// One server process (a "node"), by role (SERVER.md section 3, "Scale-out"): `api` serves HTTP only, `worker` runs
// jobs, schedules and the janitor (and answers only /healthz and /readyz, for the orchestrator's probes), `all` does
// both (the embedded default). Every role heartbeats to `nodes`. Job kinds are registered in jobs/handlers.ts and
// schedules listed in SCHEDULES, explicitly.

import { LADING_VERSION } from '@lading/engine/version';
import type { FastifyInstance } from 'fastify';
import { registerSystemRoutes } from './api/system.js';
import { buildApp } from './app.js';
import { BLOBS_SCHEDULES } from './blobs/jobs.js';
import type { ServerConfig } from './config.js';
import { type ContextOptions, createContext, type ServerContext } from './context.js';
import { type GraphileRunner, startGraphileRunner } from './jobs/graphile.js';
import { type JobHandlerResources, registerJobHandlers } from './jobs/handlers.js';
import { JOBS_SCHEDULES } from './jobs/prune.js';
import { JobRunner, type RunnerOptions } from './jobs/runner.js';
import { parseSchedules, type Schedule } from './jobs/schedules.js';
import { type NodeServices, startNodeServices } from './jobs/services.js';
import { type JobThread, startJobThread } from './jobs/thread.js';
import { METRICS_SCHEDULES } from './metrics/jobs.js';
import { EXCEPTIONS_SCHEDULES } from './reanalysis/index.js';
import { VULNDATA_SCHEDULES } from './vulndata/index.js';
import { WATCH_SCHEDULES } from './watch/index.js';

/** The scheduled jobs (five-field cron, UTC). A feature adds its line here and its handler in jobs/handlers.ts. */
export const SCHEDULES: readonly Schedule[] = [
  ...METRICS_SCHEDULES,
  ...VULNDATA_SCHEDULES,
  ...EXCEPTIONS_SCHEDULES,
  ...WATCH_SCHEDULES,
  ...JOBS_SCHEDULES,
  ...BLOBS_SCHEDULES,
];

export interface NodeOptions extends ContextOptions {
  readonly runner?: RunnerOptions;
  /** More handlers and schedules (test processes add their own kinds). */
  readonly extraHandlers?: (runner: JobRunner, ctx: ServerContext) => void;
  readonly extraSchedules?: readonly Schedule[];
  readonly heartbeatMs?: number;
  readonly staleMs?: number;
  /**
   * Run jobs, the janitor and the schedules in a worker thread with its own connection (default: role all, on both
   * engines, so matching never blocks the API; on PostgreSQL graphile-worker runs there). Handlers in the thread come
   * from jobs/handlers.ts and `extraHandlersModule`; `extraHandlers` functions cannot cross threads.
   */
  readonly jobThread?: boolean;
  readonly extraHandlersModule?: string;
  /** Added to Date.now() in the job thread (tests place cron ticks with it; `now` cannot cross threads). */
  readonly threadClockOffsetMs?: number;
}

export interface ServerNode {
  readonly ctx: ServerContext;
  /** The HTTP address (every role listens: the worker for its probes only). */
  readonly url: string;
  /**
   * The in-process handler registry (role worker, or all with `jobThread: false`); undefined with a job thread or
   * role api.
   * On SQLite it is also the running table-queue runner; on PostgreSQL `graphile` runs its handlers.
   */
  readonly runner: JobRunner | undefined;
  /** The graphile-worker pool running jobs on this thread (PostgreSQL without a job thread, e.g. role worker). */
  readonly graphile: GraphileRunner | undefined;
  readonly jobThread: JobThread | undefined;
  readonly services: NodeServices;
  /** Stops claiming, lets running jobs settle, leaves `nodes`, closes HTTP and the database. */
  close(): Promise<void>;
}

/** Starts a node on an already-migrated database. */
export async function startServerNode(config: ServerConfig, options: NodeOptions = {}): Promise<ServerNode> {
  const ctx = await createContext(config, options);
  const schedules = parseSchedules([...SCHEDULES, ...(options.extraSchedules ?? [])]);
  let app: FastifyInstance | undefined;
  let runner: JobRunner | undefined;
  let jobThread: JobThread | undefined;
  let graphile: GraphileRunner | undefined;
  let handlerResources: JobHandlerResources | undefined;
  // role all runs its jobs in a thread on both engines (on PostgreSQL graphile-worker runs there), so the HTTP
  // thread only accepts (issue 17)
  const threaded = config.role !== 'api' && (options.jobThread ?? config.role === 'all');
  try {
    app = await buildApp(ctx, config.role === 'worker' ? { routes: [registerSystemRoutes] } : {});
    await app.listen({ host: config.listen.host, port: config.listen.port });
    if (threaded) {
      const { backoffMs: _functionsStayHere, ...runnerData } = options.runner ?? {};
      jobThread = await startJobThread(ctx, {
        config,
        version: LADING_VERSION,
        schedules: [...SCHEDULES, ...(options.extraSchedules ?? [])],
        runner: runnerData,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.staleMs === undefined ? {} : { staleMs: options.staleMs }),
        ...(options.threadClockOffsetMs === undefined ? {} : { clockOffsetMs: options.threadClockOffsetMs }),
        ...(options.extraHandlersModule === undefined ? {} : { extraHandlersModule: options.extraHandlersModule }),
      });
    } else if (config.role !== 'api') {
      runner = new JobRunner(ctx, options.runner);
      handlerResources = registerJobHandlers(runner, ctx);
      options.extraHandlers?.(runner, ctx);
      // PostgreSQL: graphile-worker runs the same handlers (its schema is installed or upgraded at its start)
      if (ctx.dialect === 'postgres') graphile = await startGraphileRunner(ctx, runner, options.runner ?? {});
      else runner.start();
    }
  } catch (error) {
    await graphile?.stop();
    await jobThread?.stop();
    await runner?.stop();
    handlerResources?.close();
    await app?.close();
    await ctx.close();
    throw error;
  }
  const services = startNodeServices(ctx, {
    role: config.role,
    version: LADING_VERSION,
    schedules,
    background: config.role !== 'api' && !threaded,
    ...(graphile ? { graphileWorkerIds: graphile.workerIds } : {}),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.staleMs === undefined ? {} : { staleMs: options.staleMs }),
  });
  const address = app.server.address();
  const port = address && typeof address === 'object' ? address.port : config.listen.port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const started = app;
  return {
    ctx,
    url: `http://${host}:${port}`,
    runner,
    jobThread,
    graphile,
    services,
    close: async () => {
      await graphile?.stop();
      await jobThread?.stop();
      await runner?.stop();
      handlerResources?.close();
      await services.stop();
      await started.close();
      await ctx.close();
    },
  };
}
