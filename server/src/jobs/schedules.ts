// Scheduled jobs (SERVER.md section 3): every worker node calls fireDueSchedules every few seconds. Each schedule
// keeps its last fired tick in `settings` (key `schedule:<name>`, the tick in `updated_at`); a node fires a tick by
// moving that value forward with a compare-and-set in the SAME transaction as the enqueue, so on any number of nodes
// exactly one of them enqueues each tick, and a crash between the two leaves neither.
// Ticks missed while every node was down collapse into one run at the next start: a daily 03:00 job missed for a
// week runs once, not seven times (the work is state-based, so one run catches up).
import { type Kysely, sql, type Transaction } from 'kysely';
import { encodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { type CronExpression, parseCron, previousTick } from './cron.js';
import { type EnqueueResult, enqueue } from './queue.js';

export interface Schedule {
  /** Stable name: the settings key and the dedupe key derive from it. */
  readonly name: string;
  /** Five-field cron, UTC. */
  readonly cron: string;
  /** The job kind enqueued at each tick. */
  readonly kind: string;
  readonly payload?: unknown;
  /**
   * Enqueue only when at least one of these finds a row (asked inside the tick's transaction, after the
   * compare-and-set): otherwise the tick is consumed without a job, so a schedule with nothing to do, such as the
   * registry watch on a server that watches nothing, adds no job row. The tick is taken either way, so each tick is
   * still decided exactly once, by one node. Plain data, not a function: schedules cross into the job thread.
   */
  readonly onlyIfRows?: readonly ScheduleCondition[];
}

/** "`table` has a row" (where `column` equals `equals`, when given). */
export interface ScheduleCondition {
  readonly table: keyof Database & string;
  readonly column?: string;
  readonly equals?: string | number;
}

export interface ParsedSchedule extends Schedule {
  readonly expression: CronExpression;
}

/** Checks every schedule once, at start-up, so a typo stops the process instead of silently never firing. */
export function parseSchedules(schedules: readonly Schedule[]): ParsedSchedule[] {
  const seen = new Set<string>();
  return schedules.map((s) => {
    if (seen.has(s.name)) throw new Error(`schedule ${s.name} is listed twice`);
    seen.add(s.name);
    return { ...s, expression: parseCron(s.cron) };
  });
}

export const scheduleKey = (name: string): string => `schedule:${name}`;

export interface FiredSchedule {
  readonly name: string;
  readonly tick: number;
  readonly job: EnqueueResult;
}

/**
 * Enqueues each schedule whose latest tick (at or before `now`) is newer than the one it last fired. A schedule
 * seen for the first time records its latest tick without firing, so a fresh installation does not run every job
 * at its first start. Returns what this call fired (other nodes may have fired the rest).
 */
export async function fireDueSchedules(
  db: Kysely<Database>,
  now: number,
  schedules: readonly ParsedSchedule[],
): Promise<FiredSchedule[]> {
  const fired: FiredSchedule[] = [];
  for (const schedule of schedules) {
    const tick = previousTick(schedule.expression, now);
    if (tick === undefined) continue;
    const key = scheduleKey(schedule.name);
    const value = encodeJson({ cron: schedule.cron, kind: schedule.kind, lastTick: new Date(tick).toISOString() });
    const first = await db
      .insertInto('settings')
      .values({ key, value, updated_at: tick, created_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    if (Number(first.numInsertedOrUpdatedRows ?? 0n) === 1) continue;
    const job = await db.transaction().execute(async (trx) => {
      // the compare-and-set: only the node whose update moves the tick forward enqueues it
      const moved = await trx
        .updateTable('settings')
        .set({ value, updated_at: tick })
        .where('key', '=', key)
        .where('updated_at', '<', tick)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) return undefined;
      if (schedule.onlyIfRows && !(await anyRow(trx, schedule.onlyIfRows))) return undefined;
      return enqueue(trx, now, {
        kind: schedule.kind,
        payload: schedule.payload ?? {},
        // a tick whose previous run is still queued or running adds nothing
        dedupeKey: key,
        createdBy: 'system',
      });
    });
    if (job) fired.push({ name: schedule.name, tick, job });
  }
  return fired;
}

async function anyRow(trx: Transaction<Database>, conditions: readonly ScheduleCondition[]): Promise<boolean> {
  for (const c of conditions) {
    const where = c.column === undefined ? sql`` : sql` where ${sql.ref(c.column)} = ${c.equals ?? null}`;
    const found = await sql<{ one: number }>`select 1 as one from ${sql.table(c.table)}${where} limit 1`.execute(trx);
    if (found.rows.length > 0) return true;
  }
  return false;
}
