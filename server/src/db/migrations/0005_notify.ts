// 0005: notifications (SERVER.md section 1, "audit, notifications, integrations"). `notification_rules` hold what
// to send where (the target URL and any secret encrypted at rest, AES-256-GCM); `notifications` is the outbox: one
// row per (rule, event), written in the transaction that writes the event, delivered by the `notify.deliver` job.
// `dedupe_key` is unique so a re-run of the writer can never queue a second delivery of one event to one rule.
import type { Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';
import { createIndexes, createTables } from './0001_initial.js';

const TABLES = [
  {
    name: 'notification_rules',
    columns: [
      'id id',
      'name text',
      // webhook | slack | teams | email
      'channel text',
      'target_enc text',
      // the webhook's HMAC key (encrypted); null for channels that sign nothing
      'secret_enc text?',
      // {minSeverity?, kevOnly?, repositories?: patterns, teams?: names, eventTypes?}
      'filter json',
      'enabled flag =1',
      'created_by bigint?',
      'updated_at bigint',
    ],
  },
  {
    name: 'notifications',
    columns: [
      'id id',
      'rule_id bigint -> notification_rules.id cascade',
      'event_id bigint?',
      'dedupe_key text',
      // pending | sending | sent | failed | dead | unknown
      "state text ='pending'",
      'attempts int =0',
      'next_attempt_at bigint',
      'last_error text?',
      // the exact message, fixed when queued, so a retry sends the same bytes
      'payload json',
      'sent_at bigint?',
    ],
    unique: [['dedupe_key']],
  },
] as const;

const INDEXES = [
  { name: 'notifications_rule_idx', table: 'notifications', columns: ['rule_id', 'id'] },
  { name: 'notifications_state_idx', table: 'notifications', columns: ['state', 'next_attempt_at'] },
];

export function notifyMigration(dialect: SqlDialect): Migration {
  return {
    async up(db) {
      await createTables(db, dialect, TABLES);
      await createIndexes(db, INDEXES);
    },
  };
}
