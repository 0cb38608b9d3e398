// One GitHub sync of a repository at a time. A running `github.sync` gives its dedupe key up when it starts (so an
// event during it queues a follow-up), which lets a follow-up start while the first sync still talks to GitHub; two
// syncs of one repository must never overlap, though: both could find a change's marker comment missing and both
// post it, and the per-repository request rate would double. So every sync holds its repository's lock for its
// whole run:
// - PostgreSQL: a session-level advisory lock on a connection of its own, held from before the sync reads anything
//   until it has recorded what it posted, whichever node runs it. The sync's own queries run on that connection
//   too, so a sync (or one waiting for the lock) takes exactly one pool connection and syncs waiting for each other
//   cannot starve the pool of the connection the running one needs. A sync whose process dies loses its session,
//   and the lock with it.
// - SQLite (embedded mode, one process whose job thread runs every job, possibly several at once): a promise chain
//   per repository in that process.
import { type Kysely, sql } from 'kysely';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/schema.js';

/** The advisory lock's first key (its namespace): the second is the repository's. */
const LOCK_CLASS = sql`hashtext('lading:github.sync')`;

/** In-process chains, per database handle (tests run several servers in one process), per repository. */
const chains = new WeakMap<object, Map<number, Promise<void>>>();

/**
 * Runs `work` holding the repository's sync lock, giving it the database to use (on PostgreSQL the connection that
 * holds the lock). When another sync holds it, `waiting` is called first (the job records a step, so an operator
 * sees why it is not moving), then this waits for it.
 */
export async function withRepositorySyncLock<T>(
  ctx: ServerContext,
  repositoryId: number,
  waiting: () => Promise<void>,
  work: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (ctx.dialect === 'postgres') {
    const objectKey = sql`hashtext(${String(repositoryId)})`;
    return ctx.db.connection().execute(async (conn) => {
      const tried = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${LOCK_CLASS}, ${objectKey}) as locked`
        .execute(conn)
        .then((r) => r.rows[0]?.locked === true);
      if (!tried) {
        await waiting();
        await sql`select pg_advisory_lock(${LOCK_CLASS}, ${objectKey})`.execute(conn);
      }
      try {
        return await work(conn);
      } finally {
        // should this fail, the connection is broken, and its session's locks are gone with it
        await sql`select pg_advisory_unlock(${LOCK_CLASS}, ${objectKey})`.execute(conn);
      }
    });
  }
  let perRepository = chains.get(ctx.db);
  if (!perRepository) {
    perRepository = new Map();
    chains.set(ctx.db, perRepository);
  }
  const previous = perRepository.get(repositoryId);
  let release = () => {};
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  // the next sync waits for this one, which waits for every earlier one
  const tail = previous === undefined ? mine : previous.then(() => mine);
  perRepository.set(repositoryId, tail);
  try {
    if (previous !== undefined) {
      await waiting();
      await previous;
    }
    return await work(ctx.db);
  } finally {
    release();
    if (perRepository.get(repositoryId) === tail) perRepository.delete(repositoryId);
  }
}
