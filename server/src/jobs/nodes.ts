// Nodes and the crashed-worker janitor (SERVER.md section 3). Every server process writes a heartbeat to `nodes`;
// a worker node whose heartbeat is older than the stale limit is dead (kill -9, a lost machine, an OOM kill), and
// the janitor running on the surviving worker nodes expires the leases of the jobs it held, so another node takes
// them over at its next claim instead of waiting out the lease. The fencing in queue.ts (id + attempts + locked_by)
// keeps a node that was only slow, not dead, from writing over the new owner's work.
import type { Kysely } from 'kysely';
import type { ServerRole } from '../config.js';
import type { Database } from '../db/schema.js';

export interface NodeIdentity {
  readonly id: string;
  readonly role: ServerRole;
  readonly version: string;
}

/** Records that this node is alive at `now` (insert on first call, then update). */
export async function heartbeat(db: Kysely<Database>, node: NodeIdentity, now: number): Promise<void> {
  await db
    .insertInto('nodes')
    .values({ id: node.id, role: node.role, version: node.version, heartbeat_at: now, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now, role: node.role, version: node.version }))
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
}

/**
 * Finds nodes whose heartbeat is older than `staleMs` and releases their running jobs by expiring the lease: the
 * next claim then treats each exactly like a lease that ran out (retry, or fail when it was the last attempt).
 * Safe on several nodes at once: every statement is idempotent.
 */
export async function releaseDeadNodes(
  db: Kysely<Database>,
  now: number,
  staleMs: number,
  selfId: string,
): Promise<JanitorOutcome> {
  const dead = await db
    .selectFrom('nodes')
    .select('id')
    .where('heartbeat_at', '<', now - staleMs)
    .where('id', '!=', selfId)
    .execute();
  if (dead.length === 0) return { deadNodes: [], releasedJobs: 0 };
  const ids = dead.map((n) => n.id);
  const released = await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('jobs')
      .set({ lease_until: now - 1 })
      .where('state', '=', 'running')
      .where('locked_by', 'in', ids)
      .executeTakeFirst();
    await trx.deleteFrom('nodes').where('id', 'in', ids).execute();
    return Number(result.numUpdatedRows);
  });
  return { deadNodes: ids, releasedJobs: released };
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
