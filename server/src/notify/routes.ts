// /api/v1/notification-rules (admin): create, list, read, change and delete rules, and list a rule's deliveries.
// Targets and signing secrets are write-only: they are sealed before they are stored and never returned (the
// answer shows the target's scheme and host only, so an operator can tell rules apart).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Updateable } from 'kysely';
import { pageRequest, queryOf } from '../api/read-common.js';
import { requireAdmin } from '../auth/index.js';
import type { ServerContext } from '../context.js';
import { decodeJson, encodeJson } from '../db/dialect.js';
import type { NotificationChannel, NotificationRulesTable } from '../db/schema.js';
import { actorOf, recordEvent } from '../events/record.js';
import { ProblemError } from '../http/problem.js';
import { cappedCount, cappedTotal, decodeCursor, listHash, pageOf } from '../queries/keyset.js';
import { SECRET_PURPOSE, TARGET_PURPOSE } from './deliver.js';
import { parseFilter, type RuleFilter } from './filter.js';
import { integrationKey, open, seal } from './secret-box.js';
import { parseSmtpUrl } from './smtp.js';

const CHANNELS: readonly NotificationChannel[] = ['webhook', 'slack', 'teams', 'email'];

function badRequest(detail: string): ProblemError {
  return new ProblemError(400, 'Bad Request', detail, { code: 'invalid_rule' });
}

/** Checks a target for its channel; returns the scheme://host shown back (the rest is secret). */
function checkTarget(channel: NotificationChannel, target: string): string {
  if (target.length > 2048) throw badRequest('target is longer than 2048 characters');
  if (channel === 'email') {
    const smtp = parseSmtpUrl(target);
    if (typeof smtp === 'string') throw badRequest(smtp);
    return `${smtp.secure ? 'smtps' : 'smtp'}://${smtp.host}:${smtp.port}`;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw badRequest(`target must be an http(s) URL for a ${channel} rule`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw badRequest(`target must be an http(s) URL for a ${channel} rule`);
  }
  if (url.username !== '' || url.password !== '') throw badRequest('target must not carry credentials in the URL');
  return `${url.protocol}//${url.host}`;
}

function ruleId(request: FastifyRequest): number {
  const raw = (request.params as { id?: string }).id ?? '';
  const id = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new ProblemError(404, 'Not Found', `no notification rule ${raw.slice(0, 40)}`);
  return id;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

type RuleRow = Pick<
  NotificationRulesTable,
  'name' | 'channel' | 'target_enc' | 'secret_enc' | 'filter' | 'updated_at' | 'created_at'
> & { id: number; enabled: number };

function ruleView(key: Uint8Array, row: RuleRow) {
  return {
    id: String(row.id),
    name: row.name,
    channel: row.channel,
    target: checkTarget(row.channel, open(key, TARGET_PURPOSE, row.target_enc)),
    hasSecret: row.secret_enc !== null,
    filter: decodeJson<RuleFilter>(row.filter) ?? {},
    enabled: Number(row.enabled) === 1,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

interface RuleBody {
  name?: unknown;
  channel?: unknown;
  target?: unknown;
  secret?: unknown;
  filter?: unknown;
  enabled?: unknown;
}

function body(request: FastifyRequest): RuleBody {
  const b = request.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badRequest('the body must be a JSON object');
  const known = new Set(['name', 'channel', 'target', 'secret', 'filter', 'enabled']);
  for (const k of Object.keys(b)) if (!known.has(k)) throw badRequest(`unknown field "${k.slice(0, 40)}"`);
  return b as RuleBody;
}

function checkName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 100) {
    throw badRequest('name must be a non-empty string of at most 100 characters');
  }
  return value;
}

function checkSecret(value: unknown): string {
  if (typeof value !== 'string' || value.length < 16 || value.length > 256) {
    throw badRequest('secret must be a string of 16 to 256 characters');
  }
  return value;
}

async function loadRule(ctx: ServerContext, id: number): Promise<RuleRow> {
  const row = await ctx.db.selectFrom('notification_rules').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new ProblemError(404, 'Not Found', `no notification rule ${id}`);
  return row;
}

export function registerNotificationRuleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const key = integrationKey(ctx.secrets.key);

  app.post('/api/v1/notification-rules', async (request, reply) => {
    const caller = requireAdmin(request);
    const b = body(request);
    const name = checkName(b.name);
    if (typeof b.channel !== 'string' || !CHANNELS.includes(b.channel as NotificationChannel)) {
      throw badRequest(`channel must be one of ${CHANNELS.join(', ')}`);
    }
    const channel = b.channel as NotificationChannel;
    const target = b.target;
    if (typeof target !== 'string') throw badRequest('target is required');
    const targetShown = checkTarget(channel, target);
    // A webhook's receiver must be able to tell our requests from forgeries, so its rule needs a signing secret.
    if (channel === 'webhook' && b.secret === undefined) throw badRequest('a webhook rule needs a signing secret');
    const secret = b.secret === undefined ? null : checkSecret(b.secret);
    const filter = parseFilter(b.filter);
    if (typeof filter === 'string') throw badRequest(filter);
    if (b.enabled !== undefined && typeof b.enabled !== 'boolean') throw badRequest('enabled must be true or false');
    const now = ctx.now();
    const row = await ctx.db.transaction().execute(async (trx) => {
      const made = await trx
        .insertInto('notification_rules')
        .values({
          name,
          channel,
          target_enc: seal(key, TARGET_PURPOSE, target),
          secret_enc: secret === null ? null : seal(key, SECRET_PURPOSE, secret),
          filter: encodeJson(filter),
          enabled: b.enabled === false ? 0 : 1,
          created_by: caller.kind === 'system' ? null : caller.id,
          updated_at: now,
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      // the rule as the API shows it: the target's scheme and host only, never its path, token or signing secret
      await recordEvent(trx, {
        at: now,
        type: 'notification_rule.created',
        actor: actorOf(caller),
        requestId: request.id,
        data: { rule: String(made.id), name, channel, target: targetShown, filter },
      });
      return made;
    });
    return reply.code(201).header('location', `/api/v1/notification-rules/${row.id}`).send(ruleView(key, row));
  });

  // Keyset pages by id, like every other list.
  app.get('/api/v1/notification-rules', async (request) => {
    requireAdmin(request);
    const page = pageRequest(queryOf(request), ctx);
    const hash = listHash('id', {});
    const cursor = decodeCursor(page, hash);
    let q = ctx.db.selectFrom('notification_rules').selectAll();
    if (cursor) q = q.where('id', '>', cursor.id);
    const rows = await q
      .orderBy('id')
      .limit(page.limit + 1)
      .execute();
    const total = cappedTotal(await cappedCount(ctx.db, ctx.db.selectFrom('notification_rules').select('id')));
    return pageOf(
      rows,
      page,
      hash,
      (r) => ({ value: null, id: Number(r.id) }),
      (r) => ruleView(key, r),
      total,
    );
  });

  app.get('/api/v1/notification-rules/:id', async (request) => {
    requireAdmin(request);
    return ruleView(key, await loadRule(ctx, ruleId(request)));
  });

  app.patch('/api/v1/notification-rules/:id', async (request) => {
    const caller = requireAdmin(request);
    const id = ruleId(request);
    const current = await loadRule(ctx, id);
    const b = body(request);
    if (b.channel !== undefined && b.channel !== current.channel) {
      throw badRequest('a rule keeps its channel: create a new rule for another one');
    }
    const changes: Updateable<NotificationRulesTable> = { updated_at: ctx.now() };
    if (b.name !== undefined) changes.name = checkName(b.name);
    if (b.target !== undefined) {
      if (typeof b.target !== 'string') throw badRequest('target must be a string');
      checkTarget(current.channel, b.target);
      changes.target_enc = seal(key, TARGET_PURPOSE, b.target);
    }
    if (b.secret !== undefined) {
      if (b.secret === null && current.channel === 'webhook') throw badRequest('a webhook rule needs a signing secret');
      changes.secret_enc = b.secret === null ? null : seal(key, SECRET_PURPOSE, checkSecret(b.secret));
    }
    if (b.filter !== undefined) {
      const filter = parseFilter(b.filter);
      if (typeof filter === 'string') throw badRequest(filter);
      changes.filter = encodeJson(filter);
    }
    if (b.enabled !== undefined) {
      if (typeof b.enabled !== 'boolean') throw badRequest('enabled must be true or false');
      changes.enabled = b.enabled ? 1 : 0;
    }
    await ctx.db.transaction().execute(async (trx) => {
      await trx.updateTable('notification_rules').set(changes).where('id', '=', id).execute();
      await recordEvent(trx, {
        at: changes.updated_at as number,
        type: 'notification_rule.changed',
        actor: actorOf(caller),
        requestId: request.id,
        // which fields changed; a new target or secret is named, never shown
        data: { rule: String(id), name: changes.name ?? current.name, changed: Object.keys(b).sort() },
      });
    });
    return ruleView(key, await loadRule(ctx, id));
  });

  app.delete('/api/v1/notification-rules/:id', async (request, reply) => {
    const caller = requireAdmin(request);
    const id = ruleId(request);
    const now = ctx.now();
    const deleted = await ctx.db.transaction().execute(async (trx) => {
      const gone = await trx
        .deleteFrom('notification_rules')
        .where('id', '=', id)
        .returning(['name', 'channel'])
        .executeTakeFirst();
      if (gone)
        await recordEvent(trx, {
          at: now,
          type: 'notification_rule.deleted',
          actor: actorOf(caller),
          requestId: request.id,
          data: { rule: String(id), name: gone.name, channel: gone.channel },
        });
      return gone;
    });
    if (deleted === undefined) throw new ProblemError(404, 'Not Found', `no notification rule ${id}`);
    return reply.code(204).send();
  });

  app.get('/api/v1/notification-rules/:id/notifications', async (request) => {
    requireAdmin(request);
    const id = ruleId(request);
    await loadRule(ctx, id);
    // newest first, keyset on the id; a token is bound to its rule
    const page = pageRequest(queryOf(request), ctx);
    const hash = listHash('id_desc', { rule: id });
    const cursor = decodeCursor(page, hash);
    let q = ctx.db
      .selectFrom('notifications')
      .select(['id', 'event_id', 'dedupe_key', 'state', 'attempts', 'last_error', 'sent_at', 'created_at'])
      .where('rule_id', '=', id);
    if (cursor) q = q.where('id', '<', cursor.id);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(page.limit + 1)
      .execute();
    const total = cappedTotal(
      await cappedCount(ctx.db, ctx.db.selectFrom('notifications').select('id').where('rule_id', '=', id)),
    );
    return pageOf(
      rows,
      page,
      hash,
      (r) => ({ value: null, id: Number(r.id) }),
      (r) => ({
        id: String(r.id),
        eventId: r.event_id === null ? null : String(r.event_id),
        deliveryId: r.dedupe_key,
        state: r.state,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        sentAt: iso(r.sent_at),
        createdAt: iso(r.created_at),
      }),
      total,
    );
  });
}
