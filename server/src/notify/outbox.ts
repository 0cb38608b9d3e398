// The outbox (SERVER.md section 1): whoever writes an event calls queueNotifications in the same transaction, so a
// notification exists exactly when its event does. One row per (rule, event) — `dedupe_key` is unique, so a writer
// that runs twice queues nothing the second time — and one `notify.deliver` job per row, in the same transaction.
import type { Kysely, Transaction } from 'kysely';
import { decodeJson, encodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { enqueue } from '../jobs/queue.js';
import { type EventFacts, filterMatches, type RuleFilter } from './filter.js';
import { type EventView, renderMessage } from './messages.js';

export const NOTIFY_DELIVER = 'notify.deliver';

type Db = Kysely<Database> | Transaction<Database>;

export interface QueuedEvent {
  readonly id: number;
  readonly at: number;
  readonly type: string;
  readonly severity?: string | null;
  readonly repositoryId?: number | null;
  readonly vulnerabilityId?: number | null;
  readonly data?: Readonly<Record<string, unknown>>;
}

export function deliveryId(ruleId: number, eventId: number): string {
  return `lading-event-${eventId}-rule-${ruleId}`;
}

async function eventView(db: Db, event: QueuedEvent): Promise<{ view: EventView; team: string | null }> {
  const repository =
    event.repositoryId == null
      ? undefined
      : await db
          .selectFrom('repositories')
          .leftJoin('teams', 'teams.id', 'repositories.team_id')
          .select(['repositories.name', 'teams.name as team'])
          .where('repositories.id', '=', event.repositoryId)
          .executeTakeFirst();
  const vulnerability =
    event.vulnerabilityId == null
      ? undefined
      : await db
          .selectFrom('vulnerabilities')
          .select(['vuln_id', 'kev'])
          .where('id', '=', event.vulnerabilityId)
          .executeTakeFirst();
  const data = event.data ?? {};
  return {
    team: repository?.team ?? null,
    view: {
      id: event.id,
      type: event.type,
      at: event.at,
      severity: event.severity ?? null,
      repository: repository?.name ?? null,
      vulnerability: vulnerability?.vuln_id ?? null,
      // a KEV event may say so itself (a CVE newly added to KEV) before the vulnerability row is refreshed
      kev: Number(vulnerability?.kev ?? 0) === 1 || data.kev === true,
      data,
    },
  };
}

/**
 * Queues one delivery per enabled rule whose filter matches `event`. Call inside the transaction that wrote the
 * event; returns the notification ids queued now (none for a repeat). The caller signals the runner after commit.
 */
export async function queueNotifications(db: Db, now: number, event: QueuedEvent): Promise<number[]> {
  const rules = await db
    .selectFrom('notification_rules')
    .select(['id', 'channel', 'filter'])
    .where('enabled', '=', 1)
    .orderBy('id')
    .execute();
  if (rules.length === 0) return [];
  const { view, team } = await eventView(db, event);
  const facts: EventFacts = {
    type: view.type,
    severity: view.severity,
    kev: view.kev,
    repository: view.repository,
    team,
  };
  const queued: number[] = [];
  for (const rule of rules) {
    if (!filterMatches(decodeJson<RuleFilter>(rule.filter) ?? {}, facts)) continue;
    const key = deliveryId(rule.id, event.id);
    const row = await db
      .insertInto('notifications')
      .values({
        rule_id: rule.id,
        event_id: event.id,
        dedupe_key: key,
        state: 'pending',
        attempts: 0,
        next_attempt_at: now,
        last_error: null,
        payload: encodeJson(renderMessage(rule.channel, key, view)),
        sent_at: null,
        created_at: now,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row === undefined) continue;
    await enqueue(db, now, {
      kind: NOTIFY_DELIVER,
      payload: { notificationId: row.id },
      dedupeKey: `notify:${row.id}`,
      maxAttempts: 8,
      createdBy: 'system',
    });
    queued.push(row.id);
  }
  return queued;
}
