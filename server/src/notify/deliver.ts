// The `notify.deliver` job: sends one outbox row and records the outcome. Delivery is never repeated for one
// (rule, event), even when the process dies mid-send: the row is marked `sending` (committed) before the first
// byte goes out, and a later run that finds it still `sending` cannot know whether the receiver got it, so it
// records `unknown` instead of sending again. A failure the sender saw (refused connection, 5xx, timeout) is
// recorded as `failed` and retried with the runner's backoff; a permanent one (4xx, SMTP 5xx, a target whose
// address the guard refuses: guard.ts) ends as `dead`.
// Every webhook request carries the same `Idempotency-Key` / `X-Lading-Delivery` on each attempt and a signed body.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerContext } from '../context.js';
import { decodeJsonRequired } from '../db/dialect.js';
import { oneLine } from '../http/problem.js';
import { JobFailure, type JobRunner, registerJobHandler } from '../jobs/runner.js';
import { postGuarded, TargetRefused } from './guard.js';
import type { RenderedMessage } from './messages.js';
import { NOTIFY_DELIVER } from './outbox.js';
import { integrationKey, open } from './secret-box.js';
import { parseSmtpUrl, SmtpError, sendMail } from './smtp.js';

/** After this many failed attempts a row is `dead` (the job's own attempt limit matches). */
export const MAX_DELIVERY_ATTEMPTS = 8;

export const TARGET_PURPOSE = 'notification_rules.target';
export const SECRET_PURPOSE = 'notification_rules.secret';

export interface DeliveryOptions {
  readonly timeoutMs?: number;
  /** CA certificates for SMTP over TLS; default: the file in the server configuration, else the system's. */
  readonly smtpCa?: string;
}

const caFiles = new Map<string, string>();

/** The configured SMTP CA bundle, read once per process (a missing file fails the delivery with its path). */
function configuredSmtpCa(ctx: ServerContext): string | undefined {
  const file = ctx.config.outbound.smtpCaFile;
  if (file === undefined) return undefined;
  let pem = caFiles.get(file);
  if (pem === undefined) {
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new DeliveryError(
        `the SMTP CA file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        false,
      );
    }
    caFiles.set(file, pem);
  }
  return pem;
}

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes under the rule's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

async function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { allowPrivate: readonly string[]; timeoutMs: number },
): Promise<void> {
  let status: number;
  try {
    status = await postGuarded(url, headers, body, options);
  } catch (error) {
    // a refused address stays refused: the delivery ends now instead of retrying into the same wall
    if (error instanceof TargetRefused) throw new DeliveryError(error.message, true);
    throw new DeliveryError(error instanceof Error ? error.message : String(error), false);
  }
  if (status >= 200 && status < 300) return;
  const retryable = status >= 500 || status === 408 || status === 429;
  throw new DeliveryError(`POST to ${new URL(url).host} answered ${status}`, !retryable);
}

export interface NotificationOutcome {
  readonly notificationId: number;
  readonly state: string;
}

export async function deliverNotification(
  ctx: ServerContext,
  notificationId: number,
  options: DeliveryOptions = {},
): Promise<NotificationOutcome> {
  const row = await ctx.db
    .selectFrom('notifications')
    .innerJoin('notification_rules', 'notification_rules.id', 'notifications.rule_id')
    .select([
      'notifications.state',
      'notifications.attempts',
      'notifications.dedupe_key',
      'notifications.payload',
      'notifications.event_id',
      'notification_rules.channel',
      'notification_rules.target_enc',
      'notification_rules.secret_enc',
    ])
    .where('notifications.id', '=', notificationId)
    .executeTakeFirst();
  if (row === undefined) return { notificationId, state: 'gone' };
  if (row.state === 'sending') {
    // a previous run died between starting the send and recording its outcome: sending again could duplicate it
    await ctx.db
      .updateTable('notifications')
      .set({ state: 'unknown', last_error: 'interrupted while sending; not sent again to avoid a duplicate' })
      .where('id', '=', notificationId)
      .where('state', '=', 'sending')
      .execute();
    return { notificationId, state: 'unknown' };
  }
  if (row.state !== 'pending' && row.state !== 'failed') return { notificationId, state: row.state };

  const attempt = Number(row.attempts) + 1;
  const claimed = await ctx.db
    .updateTable('notifications')
    .set({ state: 'sending', attempts: attempt })
    .where('id', '=', notificationId)
    .where('state', 'in', ['pending', 'failed'])
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return { notificationId, state: 'claimed-elsewhere' };

  const key = integrationKey(ctx.secrets.key);
  const message = decodeJsonRequired<RenderedMessage>(row.payload);
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    const target = open(key, TARGET_PURPOSE, row.target_enc);
    if (row.channel === 'email') {
      const smtp = parseSmtpUrl(target);
      if (typeof smtp === 'string') throw new DeliveryError(smtp, true);
      const ca = options.smtpCa ?? configuredSmtpCa(ctx);
      await sendMail(
        smtp,
        { subject: message.subject, text: message.body, messageId: row.dedupe_key, date: ctx.now() },
        { timeoutMs, ...(ca !== undefined ? { ca } : {}), allowPrivate: ctx.config.outbound.allowPrivate },
      );
    } else {
      const headers: Record<string, string> = {
        'content-type': message.contentType,
        'user-agent': 'lading-server',
        'idempotency-key': row.dedupe_key,
        'x-lading-delivery': row.dedupe_key,
      };
      if (row.secret_enc !== null) {
        headers['x-lading-signature'] = signBody(open(key, SECRET_PURPOSE, row.secret_enc), message.body);
      }
      await postJson(target, headers, message.body, { allowPrivate: ctx.config.outbound.allowPrivate, timeoutMs });
    }
  } catch (error) {
    const permanent =
      error instanceof DeliveryError || error instanceof SmtpError ? error.permanent : error instanceof TargetRefused;
    const text = oneLine(error instanceof Error ? error.message : String(error), 300);
    const dead = permanent || attempt >= MAX_DELIVERY_ATTEMPTS;
    await ctx.db
      .updateTable('notifications')
      .set({ state: dead ? 'dead' : 'failed', last_error: text, next_attempt_at: ctx.now() })
      .where('id', '=', notificationId)
      .execute();
    throw new JobFailure(dead ? 'delivery_dead' : 'delivery_failed', text, !dead);
  }
  await ctx.db
    .updateTable('notifications')
    .set({ state: 'sent', sent_at: ctx.now(), last_error: null })
    .where('id', '=', notificationId)
    .execute();
  return { notificationId, state: 'sent' };
}

export function registerNotifyJobs(runner: JobRunner, ctx: ServerContext, options: DeliveryOptions = {}): void {
  registerJobHandler(runner, NOTIFY_DELIVER, async ({ payload }) => {
    const id = (payload as { notificationId?: unknown } | null)?.notificationId;
    if (typeof id !== 'number') throw new JobFailure('bad_payload', 'notify.deliver needs a notificationId', false);
    return deliverNotification(ctx, id, options);
  });
}
