// The outbox (SERVER.md section 1): whoever writes an event calls queueNotifications in the same transaction, so a
// notification exists exactly when its event does. One row per (rule, event) — `dedupe_key` is unique, so a writer
// that runs twice queues nothing the second time — and one `notify.deliver` job per row, in the same transaction.
import type { Kysely, Transaction } from 'kysely';
import { decodeJson, encodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { enqueueMany } from '../jobs/enqueue-many.js';
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

/** Rows per statement: the ids of `in (…)` lists, and the notifications of one insert (10 columns). */
const ROWS_PER_STATEMENT = 1_000;

/** What rules filter on and messages show, for many events: each repository and vulnerability read once. */
async function eventViews(
  db: Db,
  events: readonly QueuedEvent[],
): Promise<Map<QueuedEvent, { view: EventView; team: string | null }>> {
  const repositoryIds = [...new Set(events.flatMap((e) => (e.repositoryId == null ? [] : [e.repositoryId])))];
  const vulnerabilityIds = [...new Set(events.flatMap((e) => (e.vulnerabilityId == null ? [] : [e.vulnerabilityId])))];
  const repositories = new Map<number, { name: string; team: string | null }>();
  for (let i = 0; i < repositoryIds.length; i += ROWS_PER_STATEMENT) {
    const rows = await db
      .selectFrom('repositories')
      .leftJoin('teams', 'teams.id', 'repositories.team_id')
      .select(['repositories.id', 'repositories.name', 'teams.name as team'])
      .where('repositories.id', 'in', repositoryIds.slice(i, i + ROWS_PER_STATEMENT))
      .execute();
    for (const r of rows) repositories.set(Number(r.id), { name: r.name, team: r.team ?? null });
  }
  const vulnerabilities = new Map<number, { vuln_id: string; kev: number | string }>();
  for (let i = 0; i < vulnerabilityIds.length; i += ROWS_PER_STATEMENT) {
    const rows = await db
      .selectFrom('vulnerabilities')
      .select(['id', 'vuln_id', 'kev'])
      .where('id', 'in', vulnerabilityIds.slice(i, i + ROWS_PER_STATEMENT))
      .execute();
    for (const r of rows) vulnerabilities.set(Number(r.id), { vuln_id: r.vuln_id, kev: r.kev });
  }
  const out = new Map<QueuedEvent, { view: EventView; team: string | null }>();
  for (const event of events) {
    const repository = event.repositoryId == null ? undefined : repositories.get(event.repositoryId);
    const vulnerability = event.vulnerabilityId == null ? undefined : vulnerabilities.get(event.vulnerabilityId);
    const data = event.data ?? {};
    out.set(event, {
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
    });
  }
  return out;
}

/**
 * Queues one delivery per enabled rule whose filter matches `event`. Call inside the transaction that wrote the
 * event; returns the notification ids queued now (none for a repeat). The caller signals the runner after commit.
 */
export async function queueNotifications(db: Db, now: number, event: QueuedEvent): Promise<number[]> {
  return queueNotificationsForEvents(db, now, [event]);
}

/**
 * queueNotifications for many events at once (re-analysis writes thousands in one transaction): the rules, the
 * repositories and the vulnerabilities read once, the outbox rows in multi-row inserts, their delivery jobs with
 * enqueueMany. Returns the notification ids queued now.
 */
export async function queueNotificationsForEvents(
  db: Db,
  now: number,
  events: readonly QueuedEvent[],
): Promise<number[]> {
  if (events.length === 0) return [];
  const rules = await db
    .selectFrom('notification_rules')
    .select(['id', 'channel', 'filter'])
    .where('enabled', '=', 1)
    .orderBy('id')
    .execute();
  if (rules.length === 0) return [];
  const filters = rules.map((rule) => ({ rule, filter: decodeJson<RuleFilter>(rule.filter) ?? {} }));
  const views = await eventViews(db, events);
  const rows: {
    rule_id: number;
    event_id: number;
    dedupe_key: string;
    state: 'pending';
    attempts: number;
    next_attempt_at: number;
    last_error: null;
    payload: string;
    sent_at: null;
    created_at: number;
  }[] = [];
  for (const event of events) {
    const { view, team } = views.get(event) as { view: EventView; team: string | null };
    const facts: EventFacts = {
      type: view.type,
      severity: view.severity,
      kev: view.kev,
      repository: view.repository,
      team,
    };
    for (const { rule, filter } of filters) {
      if (!filterMatches(filter, facts)) continue;
      const key = deliveryId(rule.id, event.id);
      rows.push({
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
      });
    }
  }
  const queued: number[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const inserted = await db
      .insertInto('notifications')
      .values(rows.slice(i, i + ROWS_PER_STATEMENT))
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .execute();
    for (const r of inserted) queued.push(Number(r.id));
  }
  await enqueueMany(
    db,
    now,
    queued.map((id) => ({
      kind: NOTIFY_DELIVER,
      payload: { notificationId: id },
      dedupeKey: `notify:${id}`,
      maxAttempts: 8,
      createdBy: 'system',
    })),
  );
  return queued;
}
