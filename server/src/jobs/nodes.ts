// Nodes and the crashed-worker janitor (SERVER.md section 3). Every server process writes a heartbeat to `nodes`;
// a worker node whose heartbeat is older than the stale limit is dead (kill -9, a lost machine, an OOM kill), and
// the janitor running on the surviving worker nodes expires the leases of the jobs it held, so another node takes
// them over at its next claim instead of waiting out the lease. The fencing in queue.ts (id + attempts + locked_by)
// keeps a node that was only slow, not dead, from writing over the new owner's work. On PostgreSQL jobs run on
// graphile-worker, which keeps a dead worker's job locked for 4 hours: each node records its graphile worker ids in
// `nodes`, and the janitor force-unlocks those of a dead node, so the survivors' graphile workers take the jobs.
import { type Kysely, sql } from 'kysely';
import type { ServerRole } from '../config.js';
import { decodeJson, encodeJson, isPostgres } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { forceUnlockGraphileWorkers, GRAPHILE_APPLICATION_PREFIX } from './graphile.js';

export interface NodeIdentity {
  readonly id: string;
  readonly role: ServerRole;
  readonly version: string;
  /** The graphile worker ids of this node's pool (PostgreSQL workers), for the janitor. */
  readonly graphileWorkerIds?: readonly string[];
}

/** Records that this node is alive at `now` (insert on first call, then update). */
export async function heartbeat(db: Kysely<Database>, node: NodeIdentity, now: number): Promise<void> {
  const workerIds = node.graphileWorkerIds?.length ? encodeJson([...node.graphileWorkerIds].sort()) : null;
  await db
    .insertInto('nodes')
    .values({
      id: node.id,
      role: node.role,
      version: node.version,
      heartbeat_at: now,
      graphile_worker_ids: workerIds,
      created_at: now,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ heartbeat_at: now, role: node.role, version: node.version, graphile_worker_ids: workerIds }),
    )
    .execute();
}

/** Removes this node's row at a clean shutdown, so the others do not wait for it to go stale. */
export async function leave(db: Kysely<Database>, nodeId: string): Promise<void> {
  await db.deleteFrom('nodes').where('id', '=', nodeId).execute();
}

export interface JanitorOutcome {
  /** The nodes found dead (and removed from `nodes`). */
  readonly deadNodes: readonly string[];
  /** How many running jobs they held, now claimable again. */
  readonly releasedJobs: number;
  /** The dead nodes' graphile workers whose locks were released (PostgreSQL). */
  readonly unlockedWorkers?: readonly string[];
}

/**
 * Finds nodes whose heartbeat is older than `staleMs` and releases their running jobs by expiring the lease: the
 * next claim then treats each exactly like a lease that ran out (retry, or fail when it was the last attempt).
 * On PostgreSQL it also force-unlocks their graphile workers' jobs, in the same transaction: graphile then hands
 * each to a live worker as its next attempt. Safe on several nodes at once: every statement is idempotent.
 *
 * `suspectMs` (PostgreSQL, shorter than staleMs): a graphile worker node silent that long AND with no
 * connection left in pg_stat_activity (its graphile pool is named after it, and holds a LISTEN connection for as
 * long as the process lives) is dead already: a killed process's connections close with it. Both conditions, so a
 * worker that is only reconnecting is not taken for dead.
 */
export async function releaseDeadNodes(
  db: Kysely<Database>,
  now: number,
  staleMs: number,
  selfId: string,
  options: { readonly suspectMs?: number } = {},
): Promise<JanitorOutcome> {
  const suspectMs = options.suspectMs;
  const fast = suspectMs !== undefined && suspectMs < staleMs && isPostgres(db);
  const dead = await db
    .selectFrom('nodes')
    .select(['id', 'graphile_worker_ids'])
    .where('id', '!=', selfId)
    .where((eb) =>
      fast
        ? eb.or([
            eb('heartbeat_at', '<', now - staleMs),
            eb.and([
              eb('heartbeat_at', '<', now - suspectMs),
              eb('graphile_worker_ids', 'is not', null),
              eb.not(
                eb.exists(
                  sql`(select 1 from pg_stat_activity a where a.application_name = ${GRAPHILE_APPLICATION_PREFIX} || nodes.id)`,
                ),
              ),
            ]),
          ])
        : eb('heartbeat_at', '<', now - staleMs),
    )
    .execute();
  if (dead.length === 0) return { deadNodes: [], releasedJobs: 0 };
  const ids = dead.map((n) => n.id);
  const workerIds = dead.flatMap((n) => decodeJson<string[]>(n.graphile_worker_ids) ?? []);
  const released = await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('jobs')
      .set({ lease_until: now - 1 })
      .where('state', '=', 'running')
      .where('locked_by', 'in', ids)
      .executeTakeFirst();
    if (workerIds.length > 0 && isPostgres(trx)) await forceUnlockGraphileWorkers(trx, workerIds);
    await trx.deleteFrom('nodes').where('id', 'in', ids).execute();
    return Number(result.numUpdatedRows);
  });
  return {
    deadNodes: ids,
    releasedJobs: released,
    ...(workerIds.length > 0 ? { unlockedWorkers: workerIds } : {}),
  };
}

export interface NodeView {
  readonly id: string;
  readonly role: string;
  readonly version: string;
  readonly heartbeatAt: number;
}

export async function listNodes(db: Kysely<Database>): Promise<NodeView[]> {
  const rows = await db.selectFrom('nodes').select(['id', 'role', 'version', 'heartbeat_at']).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, role: r.role, version: r.version, heartbeatAt: r.heartbeat_at }));
}
