// Outbound delivery's transport security, with real sockets on 127.0.0.1:
// - SMTP STARTTLS against a local SMTP server (node:net, upgraded with node:tls) holding a certificate for 127.0.0.1
//   made by openssl under a test CA: the client upgrades, verifies the certificate against the configured CA file
//   (LADING_SMTP_CA_FILE) and delivers; a server that does not offer STARTTLS fails a `starttls=required` target
//   before any mail goes out; a certificate from another CA fails the handshake.
// - The outbound address guard: webhook, Slack/Teams, email and rebuild-webhook targets at loopback, private or
//   link-local addresses are refused at connect time unless allowlisted (an IP literal, a name that resolves to
//   one), and the delivery ends at once as failed with the reason (one attempt: no retry storm).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { ConfigError, resolveConfig } from '../src/config.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { JobFailure } from '../src/jobs/runner.js';
import { targetGuard } from '../src/notify/guard.js';
import { registerNotifyJobs, SmtpError, sendMail } from '../src/notify/index.js';
import { parseSmtpUrl, type SmtpTarget } from '../src/notify/smtp.js';
import { checkRebuilds, setRebuildTarget } from '../src/watch/index.js';
import { type HttpReceiver, startHttpReceiver } from './helpers/receivers.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const run = promisify(execFile);

interface Pki {
  dir: string;
  caFile: string;
  ca: string;
  key: string;
  cert: string;
  /** A certificate for 127.0.0.1 from another CA (self-signed): what an impostor relay would present. */
  otherKey: string;
  otherCert: string;
}

/** A test CA and a leaf certificate for IP 127.0.0.1 signed by it, and an unrelated self-signed one, by openssl. */
async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-smtp-pki-'));
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=Lading test CA',
  ]);
  await run('openssl', ['req', ...ec, '-keyout', p('leaf.key'), '-out', p('leaf.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('leaf.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('leaf.pem'),
    '-days',
    '2',
    '-extfile',
    p('ext.cnf'),
  ]);
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('other.key'),
    '-out',
    p('other.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  const read = (name: string) => readFile(p(name), 'utf8');
  return {
    dir,
    caFile: p('ca.pem'),
    ca: await read('ca.pem'),
    key: await read('leaf.key'),
    cert: await read('leaf.pem'),
    otherKey: await read('other.key'),
    otherCert: await read('other.pem'),
  };
}

interface TlsSmtpServer {
  readonly port: number;
  /** Each accepted message, and whether the session was encrypted when it was sent. */
  readonly messages: { from: string; to: string[]; data: string; encrypted: boolean }[];
  readonly commands: string[];
  close(): Promise<void>;
}

/** An SMTP server that offers STARTTLS (when `tls` is given) and upgrades the connection with node:tls. */
async function startTlsSmtpServer(tls: { key: string; cert: string } | undefined): Promise<TlsSmtpServer> {
  const messages: TlsSmtpServer['messages'] = [];
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    let socket: Socket | TLSSocket = raw;
    let encrypted = false;
    let buffer = '';
    let inData = false;
    let dataLines: string[] = [];
    let from = '';
    let to: string[] = [];
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let index = buffer.indexOf('\r\n');
      while (index >= 0) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        index = buffer.indexOf('\r\n');
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push({ from, to, data: dataLines.join('\r\n'), encrypted });
            dataLines = [];
            socket.write('250 2.0.0 queued\r\n');
          } else dataLines.push(line.startsWith('..') ? line.slice(1) : line);
          continue;
        }
        commands.push(line);
        const verb = line.split(' ')[0]?.toUpperCase();
        if (verb === 'EHLO') {
          socket.write(
            tls && !encrypted
              ? '250-smtp.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n'
              : '250-smtp.test\r\n250 8BITMIME\r\n',
          );
        } else if (verb === 'STARTTLS' && tls && !encrypted) {
          socket.write('220 2.0.0 ready to start TLS\r\n');
          raw.removeListener('data', onData);
          const secure = new TLSSocket(raw, { isServer: true, key: tls.key, cert: tls.cert });
          // a client that refuses the certificate ends the handshake: nothing more to do here
          secure.on('error', () => raw.destroy());
          secure.on('secure', () => {
            encrypted = true;
          });
          secure.on('data', onData);
          socket = secure;
        } else if (verb === 'MAIL') {
          from = /<([^>]*)>/.exec(line)?.[1] ?? '';
          to = [];
          socket.write('250 ok\r\n');
        } else if (verb === 'RCPT') {
          to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          socket.write('250 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('502 not implemented\r\n');
      }
    };
    raw.on('data', onData);
    raw.on('error', () => {});
    raw.write('220 smtp.test ESMTP\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('SMTP server has no port');
  return {
    port: address.port,
    messages,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const MESSAGE = {
  subject: 'a test',
  text: 'body line\n.leading dot',
  messageId: 'msg-1',
  date: Date.UTC(2026, 10, 23),
};

function target(port: number, query = ''): SmtpTarget {
  const parsed = parseSmtpUrl(`smtp://127.0.0.1:${port}?from=lading@acme.example&to=sec@acme.example${query}`);
  assert.notEqual(typeof parsed, 'string', String(parsed));
  return parsed as SmtpTarget;
}

let pki: Pki;
before(async () => {
  pki = await makePki();
});
after(() => rm(pki.dir, { recursive: true, force: true }));

describe('SMTP STARTTLS', () => {
  const ALLOW = ['127.0.0.1'];

  it('upgrades, verifies the certificate against the configured CA and delivers over TLS', async () => {
    const smtp = await startTlsSmtpServer({ key: pki.key, cert: pki.cert });
    try {
      await sendMail(target(smtp.port, '&starttls=required'), MESSAGE, {
        ca: pki.ca,
        allowPrivate: ALLOW,
        timeoutMs: 5_000,
      });
      assert.equal(smtp.messages.length, 1);
      assert.equal(smtp.messages[0]?.encrypted, true);
      assert.deepEqual(smtp.messages[0]?.to, ['sec@acme.example']);
      // dot-stuffed on the wire, undone by the server
      assert.match(smtp.messages[0]?.data ?? '', /^\.leading dot$/m);
      assert.deepEqual(
        smtp.commands.map((c) => c.split(' ')[0]),
        ['EHLO', 'STARTTLS', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'QUIT'],
      );
    } finally {
      await smtp.close();
    }
  });

  it('fails a starttls=required target when the server does not offer STARTTLS, before any mail goes out', async () => {
    const smtp = await startTlsSmtpServer(undefined);
    try {
      await assert.rejects(
        sendMail(target(smtp.port, '&starttls=required'), MESSAGE, {
          ca: pki.ca,
          allowPrivate: ALLOW,
          timeoutMs: 5_000,
        }),
        (error: unknown) =>
          error instanceof SmtpError &&
          error.permanent &&
          /does not offer STARTTLS and the target requires it/.test(error.message),
      );
      assert.equal(smtp.messages.length, 0);
      assert.ok(!smtp.commands.some((c) => c.startsWith('MAIL')), 'no envelope in the clear');
      // without the requirement, a plain relay still gets the mail (opportunistic TLS)
      await sendMail(target(smtp.port), MESSAGE, { allowPrivate: ALLOW, timeoutMs: 5_000 });
      assert.equal(smtp.messages[0]?.encrypted, false);
    } finally {
      await smtp.close();
    }
  });

  it('fails on a certificate the configured CA did not sign, and on an untrusted one without a CA', async () => {
    const impostor = await startTlsSmtpServer({ key: pki.otherKey, cert: pki.otherCert });
    try {
      await assert.rejects(
        sendMail(target(impostor.port, '&starttls=required'), MESSAGE, {
          ca: pki.ca,
          allowPrivate: ALLOW,
          timeoutMs: 5_000,
        }),
        (error: unknown) => error instanceof SmtpError && /SMTP STARTTLS failed: .*certificate/i.test(error.message),
      );
      assert.equal(impostor.messages.length, 0);
    } finally {
      await impostor.close();
    }
    const genuine = await startTlsSmtpServer({ key: pki.key, cert: pki.cert });
    try {
      // the system store does not know the test CA either
      await assert.rejects(
        sendMail(target(genuine.port), MESSAGE, { allowPrivate: ALLOW, timeoutMs: 5_000 }),
        (error: unknown) => error instanceof SmtpError && /SMTP STARTTLS failed/.test(error.message),
      );
      assert.equal(genuine.messages.length, 0);
    } finally {
      await genuine.close();
    }
  });

  it('reads ?starttls= strictly', () => {
    assert.equal(target(25, '&starttls=required').requireTls, true);
    assert.equal(target(25, '&starttls=optional').requireTls, false);
    assert.equal(target(25).requireTls, false);
    assert.match(
      String(parseSmtpUrl('smtp://h:25?from=a@b&to=c@d&starttls=yes')),
      /starttls= must be required or optional/,
    );
  });
});

describe('the outbound address guard', () => {
  it('refuses loopback, private and link-local literals unless an address, name or CIDR range allows them', () => {
    const none = targetGuard([]);
    for (const host of ['127.0.0.1', '10.0.0.8', '169.254.169.254', '[::1]', '192.168.1.1']) {
      assert.throws(() => none.checkHost(host), /is a private, loopback or link-local address; allowlist it/, host);
    }
    none.checkHost('8.8.8.8');
    const some = targetGuard(['127.0.0.1', '10.0.0.0/8', 'relay.internal']);
    some.checkHost('127.0.0.1');
    some.checkHost('10.200.0.1');
    assert.throws(() => some.checkHost('127.0.0.2'));
    assert.throws(() => some.checkHost('192.168.0.1'));
  });

  it('judges names at connect time, by the addresses they resolve to', async () => {
    const lookup = (guard: ReturnType<typeof targetGuard>, name: string) =>
      new Promise<string>((resolve, reject) =>
        (guard.lookup as unknown as (h: string, o: object, cb: (e: Error | null, a?: unknown) => void) => void)(
          name,
          { all: true },
          (error, addresses) => (error ? reject(error) : resolve(JSON.stringify(addresses))),
        ),
      );
    const none = targetGuard([]);
    await assert.rejects(lookup(none, 'localhost'), /the target localhost resolves to .*, a private, loopback/);
    assert.match(none.refusal?.message ?? '', /LADING_OUTBOUND_ALLOW_PRIVATE/);
    // allowlisted by name: whatever it resolves to
    assert.match(await lookup(targetGuard(['localhost']), 'localhost'), /127\.0\.0\.1|::1/);
  });

  it('is configured by LADING_OUTBOUND_ALLOW_PRIVATE (names, addresses, CIDR ranges), checked at start-up', () => {
    const config = resolveConfig(
      {},
      { LADING_OUTBOUND_ALLOW_PRIVATE: '127.0.0.1, 10.0.0.0/8,relay.internal,[fd00::1]' },
      '/srv',
    );
    assert.deepEqual(config.outbound.allowPrivate, ['127.0.0.1', '10.0.0.0/8', 'relay.internal', '[fd00::1]']);
    assert.deepEqual(resolveConfig({}, {}, '/srv').outbound, { allowPrivate: [], smtpCaFile: undefined });
    assert.throws(
      () => resolveConfig({}, { LADING_OUTBOUND_ALLOW_PRIVATE: '10.0.0.0/33' }, '/srv'),
      (e: unknown) =>
        e instanceof ConfigError && /"10\.0\.0\.0\/33" is not a host name, address or CIDR range/.test(e.message),
    );
    assert.equal(resolveConfig({}, { LADING_SMTP_CA_FILE: 'ca.pem' }, '/srv').outbound.smtpCaFile, '/srv/ca.pem');
  });
});

forEachDatabase((database) => {
  describe('deliveries through the guard and the configured SMTP CA', () => {
    let open: TestServer;
    let guarded: TestServer;
    let receiver: HttpReceiver;
    let smtp: TlsSmtpServer;
    const clock = new TestClock();

    async function deliveriesOf(server: TestServer, ruleId: string, states: readonly string[]) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const res = await server.api.get<{ items: { state: string; attempts: number; lastError: string | null }[] }>(
          `/api/v1/notification-rules/${ruleId}/notifications`,
        );
        if (res.body.items.length > 0 && res.body.items.every((d) => states.includes(d.state))) return res.body.items;
        if (Date.now() > deadline) throw new Error(`deliveries stayed ${JSON.stringify(res.body.items)}`);
        clock.advance(1_000);
        await new Promise((r) => setTimeout(r, 30));
      }
    }

    async function event(server: TestServer, repositoryId: number): Promise<void> {
      await server.ctx.db.transaction().execute((trx) =>
        recordEvent(trx, {
          at: clock.now(),
          type: 'finding.new',
          actor: SYSTEM_ACTOR,
          repositoryId,
          severity: 'high',
          data: { digest: `sha256:${'ab'.repeat(32)}`, package: 'openssl' },
        }),
      );
      server.ctx.jobSignals.enqueued();
    }

    async function repository(server: TestServer): Promise<number> {
      const seeded = await seedImages(server.ctx.db, [
        {
          digest: `sha256:${'e5'.repeat(32)}`,
          repository: 'ghcr.io/acme/api',
          at: clock.now(),
          tags: ['latest'],
          packages: [{ purl: 'pkg:deb/debian/openssl@3.0.1', type: 'deb', name: 'openssl', version: '3.0.1' }],
          findings: [{ vuln: 'CVE-2026-2000', package: 'openssl', severity: 'HIGH', fixed: '3.0.2' }],
        },
      ]);
      return seeded.repositoryIds.get('ghcr.io/acme/api') as number;
    }

    before(async () => {
      receiver = await startHttpReceiver();
      smtp = await startTlsSmtpServer({ key: pki.key, cert: pki.cert });
      const handlers = { runner: { backoffMs: () => 20, pollMs: 20 } };
      // the administrator allowlisted 127.0.0.1 and configured the relay's CA
      open = await startTestServer({
        database,
        clock,
        config: { outbound: { allowPrivate: ['127.0.0.1'], smtpCaFile: pki.caFile } },
        ...handlers,
        jobHandlers: (runner, ctx) => registerNotifyJobs(runner, ctx, { timeoutMs: 5_000 }),
      });
      // the default: no private target allowed
      guarded = await startTestServer({
        database,
        clock,
        ...handlers,
        jobHandlers: (runner, ctx) => registerNotifyJobs(runner, ctx, { timeoutMs: 5_000 }),
      });
    });
    after(async () => {
      await open?.close();
      await guarded?.close();
      await receiver?.close();
      await smtp?.close();
    });

    it('delivers email over STARTTLS verified with LADING_SMTP_CA_FILE', async () => {
      const repositoryId = await repository(open);
      const rule = await open.api.post<{ id: string }>('/api/v1/notification-rules', {
        name: 'mail',
        channel: 'email',
        filter: { eventTypes: ['finding.new'] },
        target: `smtp://127.0.0.1:${smtp.port}?from=lading@acme.example&to=sec@acme.example&starttls=required`,
      });
      assert.equal(rule.status, 201, rule.text);
      await event(open, repositoryId);
      const [sent] = await deliveriesOf(open, rule.body.id, ['sent']);
      assert.equal(sent?.attempts, 1);
      assert.equal(smtp.messages.at(-1)?.encrypted, true);
      assert.match(smtp.messages.at(-1)?.data ?? '', /^Subject: \[HIGH\] finding\.new in ghcr\.io\/acme\/api$/m);
    });

    it('ends a delivery to a refused address as failed at once, with the reason, and never reaches it', async () => {
      const repositoryId = await repository(guarded);
      const before = receiver.requests.length;
      const mails = smtp.messages.length;
      const port = new URL(receiver.url).port;
      const rules: { id: string }[] = [];
      for (const [channel, url] of [
        ['webhook', `http://127.0.0.1:${port}/w`],
        ['slack', `http://localhost:${port}/s`],
        ['teams', 'https://169.254.169.254/latest/meta-data/'],
        ['email', `smtp://127.0.0.1:${smtp.port}?from=lading@acme.example&to=sec@acme.example`],
      ] as const) {
        const res = await guarded.api.post<{ id: string }>('/api/v1/notification-rules', {
          name: channel,
          channel,
          target: url,
          // only the event below (not the audit events other writes make)
          filter: { eventTypes: ['finding.new'] },
          ...(channel === 'webhook' ? { secret: 'a-webhook-signing-secret-0123456789' } : {}),
        });
        assert.equal(res.status, 201, res.text);
        rules.push(res.body);
      }
      await event(guarded, repositoryId);
      const reasons: string[] = [];
      for (const rule of rules) {
        const [dead] = await deliveriesOf(guarded, rule.id, ['dead']);
        assert.equal(dead?.attempts, 1, 'one attempt: a refused address is not retried');
        reasons.push(dead?.lastError ?? '');
      }
      assert.match(
        reasons[0] ?? '',
        /^the target 127\.0\.0\.1 is a private, loopback or link-local address; allowlist it in LADING_OUTBOUND_ALLOW_PRIVATE/,
      );
      assert.match(
        reasons[1] ?? '',
        /^the target localhost resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address/,
      );
      assert.match(reasons[2] ?? '', /^the target 169\.254\.169\.254 is a private, loopback or link-local address/);
      assert.match(reasons[3] ?? '', /^the target 127\.0\.0\.1 is a private, loopback or link-local address/);
      assert.equal(receiver.requests.length, before, 'nothing reached the receiver');
      assert.equal(smtp.messages.length, mails, 'nothing reached the relay');
      const jobs = await guarded.ctx.db
        .selectFrom('jobs')
        .select(['state', 'attempts'])
        .where('kind', '=', 'notify.deliver')
        .execute();
      assert.equal(jobs.length, rules.length);
      assert.ok(
        jobs.every((j) => j.state === 'failed' && Number(j.attempts) === 1),
        JSON.stringify(jobs),
      );
    });

    it('refuses a rebuild webhook at a private address: the trigger fails with the reason, not retried', async () => {
      const repositoryId = (
        await guarded.ctx.db
          .selectFrom('repositories')
          .select('id')
          .where('name', '=', 'ghcr.io/acme/api')
          .executeTakeFirstOrThrow()
      ).id;
      await setRebuildTarget(
        guarded.ctx.db,
        guarded.ctx.secrets.key,
        repositoryId,
        { kind: 'webhook', url: `${receiver.url}/rebuild`, secret: 'rebuild-webhook-secret-0123456789' },
        clock.now(),
      );
      const before = receiver.requests.length;
      await assert.rejects(
        checkRebuilds(guarded.ctx, repositoryId),
        (error: unknown) =>
          error instanceof JobFailure &&
          error.retryable === false &&
          /^the target 127\.0\.0\.1 is a private, loopback or link-local address/.test(error.message),
      );
      const trigger = await guarded.ctx.db
        .selectFrom('rebuild_triggers')
        .select(['state', 'last_error'])
        .where('repository_id', '=', repositoryId)
        .executeTakeFirstOrThrow();
      assert.equal(trigger.state, 'failed');
      assert.match(trigger.last_error ?? '', /allowlist it in LADING_OUTBOUND_ALLOW_PRIVATE/);
      assert.equal(receiver.requests.length, before);
    });
  });
});
