// Every change the server makes is one `events` row (SERVER.md section 1, "Events"): the audit log and the SIEM
// stream read the same table. Writers call recordEvent inside the transaction that makes the change, so an event
// exists exactly when its change does, and so do the notifications it triggers (the outbox).
import type { Kysely, Transaction } from 'kysely';
import { encodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { queueGithubSync } from '../github/sync.js';
import { queueNotifications } from '../notify/outbox.js';
import { queueRebuildCheck } from '../watch/rebuild.js';

export interface EventInput {
  readonly at: number;
  readonly type: string;
  readonly actor: { readonly kind: 'user' | 'token' | 'system'; readonly id: number | null };
  readonly repositoryId?: number | null;
  readonly imageId?: number | null;
  readonly vulnerabilityId?: number | null;
  readonly severity?: string | null;
  /** What made the change (an HTTP request id, a job's public id): a re-run can look for it and write nothing. */
  readonly requestId?: string | null;
  readonly data?: Readonly<Record<string, unknown>>;
}

export const SYSTEM_ACTOR = { kind: 'system', id: null } as const;

/** The event actor for an authenticated caller (a user, a token, or the system). */
export function actorOf(caller: {
  readonly kind: 'user' | 'token' | 'system';
  readonly id: number;
}): EventInput['actor'] {
  return caller.kind === 'system' ? SYSTEM_ACTOR : { kind: caller.kind, id: caller.id };
}

/** Writes one event; returns its id (ids only grow: the stream's cursor). */
export async function recordEvent(db: Kysely<Database> | Transaction<Database>, event: EventInput): Promise<number> {
  const row = await db
    .insertInto('events')
    .values({
      at: event.at,
      type: event.type,
      actor_kind: event.actor.kind,
      actor_id: event.actor.id,
      repository_id: event.repositoryId ?? null,
      image_id: event.imageId ?? null,
      vulnerability_id: event.vulnerabilityId ?? null,
      severity: event.severity ?? null,
      request_id: event.requestId ?? null,
      data: encodeJson(event.data ?? {}),
      created_at: event.at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = Number(row.id);
  // the outbox: a matching rule's delivery is queued in this same transaction (SERVER.md section 1)
  await queueNotifications(db, event.at, {
    id,
    at: event.at,
    type: event.type,
    severity: event.severity ?? null,
    repositoryId: event.repositoryId ?? null,
    vulnerabilityId: event.vulnerabilityId ?? null,
    data: event.data ?? {},
  });
  // a change to what a repository's current images carry brings its GitHub issue up to date (one job per repository)
  if (event.repositoryId != null && GITHUB_SYNC_EVENTS.test(event.type)) {
    await queueGithubSync(db, event.at, event.repositoryId);
    // and may give a published image a fixable HIGH/CRITICAL finding to ask a rebuild for
    await queueRebuildCheck(db, event.at, event.repositoryId);
  }
  return id;
}

/** Event types after which a repository's GitHub issues may need an update. */
const GITHUB_SYNC_EVENTS = /^(finding|image|tag|exception)\./;
