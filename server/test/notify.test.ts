// Notification rules and the outbox on both engines: the admin API (targets and secrets write-only, sealed at rest),
// rules' filters deciding which events queue a delivery (in the event's transaction, once per rule and event),
// delivery to a local webhook receiver (HMAC signature, idempotency key, retry with backoff, a permanent refusal),
// Slack and Teams bodies, email over SMTP to a local listener, and a send interrupted mid-way never repeated.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createApiToken } from '../src/auth/index.js';
import { insertTeam, insertUser } from '../src/auth/store.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { deliverNotification, queueNotifications, registerNotifyJobs } from '../src/notify/index.js';
import { type HttpReceiver, type SmtpListener, startHttpReceiver, startSmtpListener } from './helpers/receivers.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const SECRET = 'a-webhook-signing-secret-0123456789';

interface Rule {
  id: string;
  name: string;
  channel: string;
  target: string;
  hasSecret: boolean;
  filter: Record<string, unknown>;
  enabled: boolean;
}
interface Delivery {
  id: string;
  eventId: string | null;
  deliveryId: string;
  state: string;
  attempts: number;
  lastError: string | null;
}

/** Polls a rule's deliveries until all are in `states`, moving the test clock so retries come due. */
async function waitForState(
  server: TestServer,
  clock: TestClock,
  ruleId: string,
  states: readonly string[],
): Promise<Delivery[]> {
  // PostgreSQL's jobs retry on graphile-worker's own backoff (2.7 s, then 7.4 s), which the test cannot shorten
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await server.api.get<{ items: Delivery[] }>(`/api/v1/notification-rules/${ruleId}/notifications`);
    assert.equal(res.status, 200);
    if (res.body.items.length > 0 && res.body.items.every((d) => states.includes(d.state))) return res.body.items;
    if (Date.now() > deadline) throw new Error(`deliveries stayed ${JSON.stringify(res.body.items)}`);
    clock.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

forEachDatabase((database) => {
  let server: TestServer;
  let receiver: HttpReceiver;
  let smtp: SmtpListener;
  let repositoryId: number;
  let otherRepositoryId: number;
  const clock = new TestClock();

  /** Writes one event the way every writer does: recordEvent inside a transaction. */
  async function event(input: { type?: string; severity?: string; repositoryId?: number; kev?: boolean }) {
    const id = await server.ctx.db.transaction().execute((trx) =>
      recordEvent(trx, {
        at: clock.now(),
        type: input.type ?? 'finding.new',
        actor: SYSTEM_ACTOR,
        repositoryId: input.repositoryId ?? repositoryId,
        severity: input.severity ?? 'high',
        data: { digest: `sha256:${'ab'.repeat(32)}`, package: 'openssl', kev: input.kev ?? false },
      }),
    );
    server.ctx.jobSignals.enqueued();
    return id;
  }

  async function createRule(body: Record<string, unknown>): Promise<Rule> {
    const res = await server.api.post<Rule>('/api/v1/notification-rules', body);
    assert.equal(res.status, 201, res.text);
    return res.body;
  }

  async function disableAll(): Promise<void> {
    await server.ctx.db.updateTable('notification_rules').set({ enabled: 0 }).execute();
  }

  before(async () => {
    server = await startTestServer({
      database,
      clock,
      // the receivers listen on 127.0.0.1, which the outbound guard refuses unless allowlisted
      config: { outbound: { allowPrivate: ['127.0.0.1'], smtpCaFile: undefined } },
      runner: { backoffMs: () => 20, pollMs: 20 },
      jobHandlers: (runner, ctx) => registerNotifyJobs(runner, ctx, { timeoutMs: 2_000 }),
    });
    receiver = await startHttpReceiver();
    smtp = await startSmtpListener();
    const team = await insertTeam(server.ctx.db, 'payments', clock.now());
    const insertRepository = async (name: string, teamId: number | null) =>
      (
        await server.ctx.db
          .insertInto('repositories')
          .values({
            public_id: `repo_${name.replace(/\W/g, '')}`,
            name,
            name_lc: name.toLowerCase(),
            team_id: teamId,
            source_repo: null,
            archived_at: null,
            purge_after: null,
            created_at: clock.now(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    repositoryId = await insertRepository('ghcr.io/acme/api', team.id);
    otherRepositoryId = await insertRepository('docker.io/other/tool', null);
  });
  after(async () => {
    await server?.close();
    await receiver?.close();
    await smtp?.close();
  });

  describe('the rules API', () => {
    it('keeps targets and secrets write-only and sealed at rest', async () => {
      const target = `${receiver.url}/hooks/secret-path-token`;
      const rule = await createRule({ name: 'sec', channel: 'webhook', target, secret: SECRET, enabled: false });
      assert.equal(rule.target, receiver.url, 'only scheme://host is shown');
      assert.equal(rule.hasSecret, true);
      assert.doesNotMatch(JSON.stringify(rule), /secret-path-token|a-webhook-signing/);
      const stored = await server.ctx.db.selectFrom('notification_rules').selectAll().executeTakeFirstOrThrow();
      assert.doesNotMatch(`${stored.target_enc} ${stored.secret_enc}`, /secret-path-token|a-webhook-signing|127\.0/);
      const listed = await server.api.get<{ items: Rule[] }>('/api/v1/notification-rules');
      assert.deepEqual(
        listed.body.items.map((r) => r.name),
        ['sec'],
      );
      const patched = await server.api.request<Rule>('PATCH', `/api/v1/notification-rules/${rule.id}`, {
        json: { filter: { minSeverity: 'critical', kevOnly: true }, name: 'sec2' },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(patched.body.filter, { minSeverity: 'critical', kevOnly: true });
      assert.equal(patched.body.name, 'sec2');
      const removed = await server.api.request('DELETE', `/api/v1/notification-rules/${rule.id}`);
      assert.equal(removed.status, 204);
      assert.equal((await server.api.get(`/api/v1/notification-rules/${rule.id}`)).status, 404);
    });

    it('refuses bad rules with one-line problems', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ name: 'x', channel: 'webhook', target: receiver.url }, /signing secret/],
        [{ name: 'x', channel: 'pager', target: receiver.url }, /channel must be one of/],
        [{ name: 'x', channel: 'slack', target: 'ftp://example.com/' }, /http\(s\) URL/],
        [{ name: 'x', channel: 'slack', target: 'https://u:p@example.com/' }, /credentials/],
        [{ name: 'x', channel: 'email', target: 'smtp://relay.example:25?from=a@b.example' }, /to=/],
        [{ name: 'x', channel: 'slack', target: receiver.url, filter: { minSeverity: 'severe' } }, /minSeverity/],
        [{ name: 'x', channel: 'slack', target: receiver.url, filter: { colour: 'red' } }, /unknown field/],
      ];
      for (const [body, pattern] of cases) {
        const res = await server.api.request<{ detail: string }>('POST', '/api/v1/notification-rules', {
          json: body,
        });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.body.detail, pattern);
        assert.doesNotMatch(res.body.detail, /\n/);
      }
    });

    it('is for administrators only', async () => {
      const user = await insertUser(server.ctx.db, { login: 'reader' }, clock.now());
      const { token } = await createApiToken(server.ctx, {
        name: 'reader',
        scopes: ['read', 'triage'],
        repositoryPattern: '*',
        expiresAt: clock.now() + 86_400_000,
        ownerUserId: user.id,
      });
      assert.equal((await server.api.get('/api/v1/notification-rules', { token })).status, 403);
      assert.equal((await server.api.get('/api/v1/notification-rules', { token: null })).status, 401);
    });
  });

  describe('delivery', () => {
    it('queues one signed webhook delivery per matching event, in the event transaction, once', async () => {
      await disableAll();
      const rule = await createRule({
        name: 'high in acme',
        channel: 'webhook',
        target: `${receiver.url}/hook`,
        secret: SECRET,
        filter: { minSeverity: 'high', repositories: ['ghcr.io/acme/*'], eventTypes: ['finding.new'] },
      });
      const before = receiver.requests.length;
      const id = await event({ severity: 'critical' });
      await event({ severity: 'medium' }); // below the rule's severity
      await event({ severity: 'critical', repositoryId: otherRepositoryId }); // another repository
      await event({ severity: 'critical', type: 'tag.moved' }); // another type
      // an event whose transaction rolls back queues nothing
      await assert.rejects(
        server.ctx.db.transaction().execute(async (trx) => {
          await recordEvent(trx, {
            at: clock.now(),
            type: 'finding.new',
            actor: SYSTEM_ACTOR,
            repositoryId,
            severity: 'critical',
          });
          throw new Error('rolled back');
        }),
      );
      const [delivery] = await waitForState(server, clock, rule.id, ['sent']);
      assert.equal(receiver.requests.length - before, 1);
      const request = receiver.requests.at(-1)!;
      assert.equal(request.path, '/hook');
      const expected = `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`;
      assert.equal(request.headers['x-lading-signature'], expected);
      assert.equal(request.headers['idempotency-key'], delivery!.deliveryId);
      const body = JSON.parse(request.body) as { deliveryId: string; event: Record<string, unknown> };
      assert.equal(body.deliveryId, delivery!.deliveryId);
      assert.equal(body.event.id, id);
      assert.equal(body.event.repository, 'ghcr.io/acme/api');
      assert.equal(body.event.severity, 'critical');
      // a writer that runs again for the same event queues nothing new
      const again = await queueNotifications(server.ctx.db, clock.now(), { id, at: clock.now(), type: 'finding.new' });
      assert.deepEqual(again, []);
    });

    it('filters on KEV and team', async () => {
      await disableAll();
      const rule = await createRule({
        name: 'kev payments',
        channel: 'webhook',
        target: `${receiver.url}/kev`,
        secret: SECRET,
        filter: { kevOnly: true, teams: ['payments'] },
      });
      await event({ kev: false });
      await event({ kev: true, repositoryId: otherRepositoryId }); // no team
      await event({ kev: true, severity: 'low' });
      const deliveries = await waitForState(server, clock, rule.id, ['sent']);
      assert.equal(deliveries.length, 1);
      assert.match(receiver.requests.at(-1)!.body, /"kev":true/);
    });

    it('retries a failed delivery with backoff and stops at a permanent refusal', async () => {
      await disableAll();
      const flaky = await createRule({
        name: 'flaky',
        channel: 'webhook',
        target: `${receiver.url}/f`,
        secret: SECRET,
        // only the test's event: creating a rule is itself an audited event
        filter: { eventTypes: ['finding.new'] },
      });
      const before = receiver.requests.length;
      receiver.script([503, 503]);
      await event({});
      const [sent] = await waitForState(server, clock, flaky.id, ['sent']);
      assert.equal(sent!.attempts, 3);
      const attempts = receiver.requests.slice(before);
      assert.equal(attempts.length, 3);
      assert.equal(new Set(attempts.map((r) => r.headers['idempotency-key'])).size, 1, 'one key for all attempts');
      assert.equal(new Set(attempts.map((r) => r.body)).size, 1, 'the same bytes every time');

      await disableAll();
      const gone = await createRule({
        name: 'gone',
        channel: 'webhook',
        target: `${receiver.url}/g`,
        secret: SECRET,
        filter: { eventTypes: ['finding.new'] },
      });
      receiver.script([404]);
      const count = receiver.requests.length;
      await event({});
      const [dead] = await waitForState(server, clock, gone.id, ['dead']);
      assert.match(dead!.lastError ?? '', /answered 404/);
      assert.equal(receiver.requests.length - count, 1);
    });

    it('formats Slack and Microsoft Teams messages', async () => {
      await disableAll();
      // only the test's event: creating a rule is itself an audited event
      const filter = { eventTypes: ['finding.new'] };
      const slack = await createRule({ name: 'slack', channel: 'slack', target: `${receiver.url}/slack`, filter });
      const teams = await createRule({ name: 'teams', channel: 'teams', target: `${receiver.url}/teams`, filter });
      await event({ severity: 'critical' });
      await waitForState(server, clock, slack.id, ['sent']);
      await waitForState(server, clock, teams.id, ['sent']);
      const slackBody = JSON.parse(receiver.requests.find((r) => r.path === '/slack')!.body);
      assert.match(slackBody.text, /^\[CRITICAL\] finding\.new in ghcr\.io\/acme\/api$/);
      assert.equal(slackBody.blocks[0].type, 'section');
      assert.equal(receiver.requests.find((r) => r.path === '/slack')!.headers['x-lading-signature'], undefined);
      const card = JSON.parse(receiver.requests.find((r) => r.path === '/teams')!.body);
      assert.equal(card.type, 'message');
      assert.equal(card.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
      assert.equal(card.attachments[0].content.type, 'AdaptiveCard');
      assert.match(card.attachments[0].content.body[0].text, /CRITICAL/);
    });

    it('sends email over SMTP, and refuses credentials without TLS', async () => {
      await disableAll();
      const mail = await createRule({
        name: 'mail',
        channel: 'email',
        target: `smtp://127.0.0.1:${smtp.port}?from=lading@acme.example&to=sec@acme.example,oncall@acme.example`,
      });
      assert.equal(mail.target, `smtp://127.0.0.1:${smtp.port}`);
      await event({ severity: 'high' });
      const [sent] = await waitForState(server, clock, mail.id, ['sent']);
      await smtp.waitFor(1);
      const message = smtp.messages.at(-1)!;
      assert.equal(message.from, 'lading@acme.example');
      assert.deepEqual(message.to, ['sec@acme.example', 'oncall@acme.example']);
      assert.match(message.data, /^Subject: \[HIGH\] finding\.new in ghcr\.io\/acme\/api$/m);
      assert.match(message.data, new RegExp(`^Message-ID: <${sent!.deliveryId}@acme\\.example>$`, 'm'));
      assert.match(message.data, /^package: openssl$/m);

      await disableAll();
      const plain = await createRule({
        name: 'plain auth',
        channel: 'email',
        target: `smtp://user:pw@127.0.0.1:${smtp.port}?from=lading@acme.example&to=sec@acme.example`,
      });
      await event({});
      const [dead] = await waitForState(server, clock, plain.id, ['dead']);
      assert.match(dead!.lastError ?? '', /no TLS/);
      assert.ok(!smtp.commands.some((c) => c.startsWith('AUTH')), 'no credentials went out in the clear');
    });

    it('never sends again a delivery interrupted between sending and recording', async () => {
      await disableAll();
      // no runner for this rule's deliveries: the state a crash leaves behind is set by hand, then the job re-runs
      const rule = await createRule({ name: 'crash', channel: 'webhook', target: `${receiver.url}/c`, secret: SECRET });
      await server.stopJobs();
      try {
        await event({});
        const row = await server.ctx.db
          .selectFrom('notifications')
          .select('id')
          .where('rule_id', '=', Number(rule.id))
          .executeTakeFirstOrThrow();
        await server.ctx.db
          .updateTable('notifications')
          .set({ state: 'sending', attempts: 1 })
          .where('id', '=', row.id)
          .execute();
        const count = receiver.requests.length;
        const outcome = await deliverNotification(server.ctx, row.id);
        assert.equal(outcome.state, 'unknown');
        assert.equal(receiver.requests.length, count);
        assert.equal((await deliverNotification(server.ctx, row.id)).state, 'unknown');
        assert.equal(receiver.requests.length, count);
      } finally {
        await server.startJobs();
      }
    });
  });
});
