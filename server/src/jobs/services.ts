// The background duties of a server process besides running jobs: its heartbeat (every role), and on worker roles
// the janitor (dead nodes' leases released) and the scheduler (due cron ticks enqueued). One timer loop; a failed
// round (the database restarting) is logged and retried at the next one, never fatal.
import type { ServerRole } from '../config.js';
import type { ServerContext } from '../context.js';
import { heartbeat, leave, releaseDeadNodes } from './nodes.js';
import { fireDueSchedules, type ParsedSchedule } from './schedules.js';

export interface NodeServicesOptions {
  readonly role: ServerRole;
  readonly version: string;
  readonly schedules: readonly ParsedSchedule[];
  /** Heartbeat, janitor and scheduler period (default 15 s). */
  readonly heartbeatMs?: number;
  /** A node silent this long is dead (default 60 s: four missed heartbeats). */
  readonly staleMs?: number;
  /** Run the janitor and the scheduler (default: unless role is api; false where a job thread does it). */
  readonly background?: boolean;
  /** This node's graphile worker ids (a PostgreSQL worker), written with each heartbeat for the janitor. */
  readonly graphileWorkerIds?: () => readonly string[];
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_STALE_MS = 60_000;

export interface NodeServices {
  /** One round now (tests; also the first round at start). */
  round(): Promise<void>;
  /** Stops the loop and removes this node from `nodes`. */
  stop(): Promise<void>;
}

export function startNodeServices(ctx: ServerContext, options: NodeServicesOptions): NodeServices {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const runsJobs = options.background ?? options.role !== 'api';
  const identity = { id: ctx.nodeId, role: options.role, version: options.version };
  const node = () => ({
    ...identity,
    ...(options.graphileWorkerIds ? { graphileWorkerIds: options.graphileWorkerIds() } : {}),
  });
  let current: Promise<void> = Promise.resolve();
  let stopped = false;

  const round = async (): Promise<void> => {
    try {
      await heartbeat(ctx.db, node(), ctx.now());
      if (!runsJobs) return;
      // a graphile worker node two heartbeats late (or later than the job lease, when that is set shorter) whose
      // connections are gone is dead without waiting for staleMs: the lease is the operator's "how long may a dead
      // worker's job wait", as it is for the table queue
      const janitor = await releaseDeadNodes(ctx.db, ctx.now(), staleMs, ctx.nodeId, {
        suspectMs: Math.min(2 * heartbeatMs, ctx.config.jobs.leaseMs),
      });
      if (janitor.deadNodes.length > 0) {
        ctx.log.warn('released the jobs of dead nodes', {
          nodes: janitor.deadNodes,
          jobs: janitor.releasedJobs,
          graphileLockers: janitor.unlockedWorkers ?? [],
        });
      }
      const fired = await fireDueSchedules(ctx.db, ctx.now(), options.schedules);
      for (const f of fired) {
        ctx.log.info('schedule fired', { schedule: f.name, tick: new Date(f.tick).toISOString(), job: f.job.publicId });
      }
      if (fired.length > 0 || janitor.releasedJobs > 0) ctx.jobSignals.enqueued();
    } catch (error) {
      ctx.log.warn('node round failed', { error: String(error) });
    }
  };
  // rounds never overlap: a slow database delays the next one instead of stacking them
  const next = (): Promise<void> => {
    current = current.then(() => (stopped ? undefined : round()));
    return current;
  };
  void next();
  const timer = setInterval(() => void next(), heartbeatMs);
  return {
    round: next,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current;
      try {
        await leave(ctx.db, ctx.nodeId);
      } catch (error) {
        ctx.log.warn('could not remove this node from nodes', { error: String(error) });
      }
    },
  };
}
