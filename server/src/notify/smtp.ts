// A small SMTP client (RFC 5321) over node:net / node:tls: enough to hand one message to a relay. `smtp://` speaks
// plain SMTP and upgrades with STARTTLS (RFC 3207) when the server offers it; `?starttls=required` (and any
// credentials) makes a server that does not offer it a failed delivery, since a plain session would carry the mail,
// or the password, in the clear. `smtps://` is TLS from the first byte. The certificate is always verified (the
// configured CA, else the system's) against the relay's host name or address. AUTH PLAIN only. Every reply is
// awaited with a timeout, so a silent server cannot hang the delivery job; the connection goes through the outbound
// address guard (guard.ts), which refuses private addresses the administrator did not allowlist.
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { targetGuard } from './guard.js';

export interface SmtpTarget {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly user: string | null;
  readonly password: string | null;
  readonly from: string;
  readonly to: readonly string[];
  /** STARTTLS must happen (`?starttls=required`): a relay that does not offer it fails the delivery. */
  readonly requireTls: boolean;
}

export interface MailMessage {
  readonly subject: string;
  readonly text: string;
  /** The Message-ID's left part: the same for every retry of one delivery, so mail systems can drop repeats. */
  readonly messageId: string;
  readonly date: number;
}

export interface SmtpOptions {
  readonly timeoutMs?: number;
  /** CA certificates to trust for TLS (the configured CA file); the system store otherwise. */
  readonly ca?: string;
  /** Private hosts, addresses or CIDR ranges the relay may be at (the server configuration's outbound allowlist). */
  readonly allowPrivate?: readonly string[];
}

const ADDRESS = /^[^\s<>@,;:"]+@[^\s<>@,;:"]+$/;

/** Parses `smtp[s]://[user:password@]host[:port]?from=a@b&to=c@d,e@f`; returns the problem as one line. */
export function parseSmtpUrl(value: string): SmtpTarget | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'the email target must be a URL like smtp://relay.example:587?from=lading@example.com&to=sec@example.com';
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return 'the email target must use smtp:// or smtps://';
  const from = url.searchParams.get('from') ?? '';
  const to = (url.searchParams.get('to') ?? '').split(',').filter((s) => s.length > 0);
  if (!ADDRESS.test(from)) return 'the email target needs ?from=<address>';
  if (to.length === 0 || to.length > 50 || !to.every((a) => ADDRESS.test(a))) {
    return 'the email target needs ?to=<address>[,<address>…] (at most 50)';
  }
  const starttls = url.searchParams.get('starttls');
  if (starttls !== null && starttls !== 'required' && starttls !== 'optional') {
    return "the email target's ?starttls= must be required or optional";
  }
  const secure = url.protocol === 'smtps:';
  return {
    requireTls: starttls === 'required',
    secure,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 25) : Number(url.port),
    user: url.username === '' ? null : decodeURIComponent(url.username),
    password: url.password === '' ? null : decodeURIComponent(url.password),
    from,
    to,
  };
}

/** Header values must not break the header block (no CR/LF); non-ASCII subjects use RFC 2047 base64 words. */
function headerText(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

/** The DATA payload: headers, a blank line, the body with CRLF lines and leading dots doubled (RFC 5321 4.5.2). */
export function formatMail(target: SmtpTarget, message: MailMessage): string {
  const domain = target.from.split('@')[1] ?? 'localhost';
  const body = message.text
    .replace(/\r?\n/g, '\r\n')
    .split('\r\n')
    .map((line) => (line.startsWith('.') ? `.${line}` : line))
    .join('\r\n');
  return [
    `From: ${target.from}`,
    `To: ${target.to.join(', ')}`,
    `Subject: ${headerText(message.subject)}`,
    `Date: ${new Date(message.date).toUTCString()}`,
    `Message-ID: <${message.messageId}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    body,
  ].join('\r\n');
}

export class SmtpError extends Error {
  override readonly name = 'SmtpError';
  constructor(
    message: string,
    /** 5xx replies are permanent: retrying sends the same refused message. */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Reads SMTP replies (possibly multi-line, `250-…` then `250 …`) from a socket. */
class ReplyReader {
  #buffer = '';
  #lines: string[] = [];
  #waiter: (() => void) | undefined;
  #error: Error | undefined;

  attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      if (this.#buffer.length > 65_536) this.#fail(new SmtpError('the SMTP server sent an overlong reply', false));
      let index = this.#buffer.indexOf('\n');
      while (index >= 0) {
        this.#lines.push(this.#buffer.slice(0, index).replace(/\r$/, ''));
        this.#buffer = this.#buffer.slice(index + 1);
        index = this.#buffer.indexOf('\n');
      }
      this.#wake();
    });
    socket.on('error', (error) => this.#fail(new SmtpError(`SMTP connection failed: ${error.message}`, false)));
    socket.on('close', () => this.#fail(new SmtpError('the SMTP server closed the connection', false)));
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  async reply(timeoutMs: number): Promise<{ code: number; lines: string[] }> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        const m = /^(\d{3})([ -])(.*)$/.exec(line);
        if (!m) throw new SmtpError(`the SMTP server sent an unreadable reply "${line.slice(0, 80)}"`, false);
        lines.push(m[3]!);
        if (m[2] === ' ') return { code: Number(m[1]), lines };
        continue;
      }
      if (this.#error) throw this.#error;
      const left = deadline - Date.now();
      if (left <= 0) throw new SmtpError(`the SMTP server did not answer within ${timeoutMs} ms`, false);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Node's TLS options for the relay: SNI only for names (RFC 6066), the identity checked against `host` either way. */
function tlsOptions(target: SmtpTarget, options: SmtpOptions): { host: string; servername?: string; ca?: string } {
  return {
    host: target.host,
    ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
  };
}

/** Sends one message; resolves when the server accepted it (250 after DATA). */
export async function sendMail(target: SmtpTarget, message: MailMessage, options: SmtpOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const guard = targetGuard(options.allowPrivate ?? []);
  // an address literal is judged here (Node looks up only names, through the guard's lookup)
  guard.checkHost(target.host);
  let socket: Socket | TLSSocket = target.secure
    ? tlsConnect({ ...tlsOptions(target, options), port: target.port, lookup: guard.lookup })
    : netConnect({ host: target.host, port: target.port, lookup: guard.lookup });
  let reader = new ReplyReader();
  reader.attach(socket);
  const expect = async (codes: readonly number[], step: string) => {
    let reply: { code: number; lines: string[] };
    try {
      reply = await reader.reply(timeoutMs);
    } catch (error) {
      // the connection failed because the guard refused its address: say that, permanently
      if (guard.refusal) throw new SmtpError(guard.refusal.message, true);
      throw error;
    }
    if (!codes.includes(reply.code)) {
      const text = reply.lines.join(' ').slice(0, 200);
      throw new SmtpError(`SMTP ${step} refused: ${reply.code} ${text}`, reply.code >= 500);
    }
    return reply;
  };
  const command = async (line: string, codes: readonly number[], step: string) => {
    socket.write(`${line}\r\n`);
    return expect(codes, step);
  };
  try {
    await expect([220], 'greeting');
    let ehlo = await command('EHLO lading', [250], 'EHLO');
    const offers = (name: string) => ehlo.lines.some((l) => l.toUpperCase().startsWith(name));
    if (!target.secure && offers('STARTTLS')) {
      await command('STARTTLS', [220], 'STARTTLS');
      socket.removeAllListeners('data').removeAllListeners('close').removeAllListeners('error');
      const plain = socket;
      socket = tlsConnect({ ...tlsOptions(target, options), socket: plain });
      reader = new ReplyReader();
      reader.attach(socket);
      await new Promise<void>((resolve, reject) => {
        const upgraded = socket as TLSSocket;
        upgraded.once('secureConnect', resolve);
        // a certificate that does not verify (unknown CA, another host's name) ends the handshake here
        upgraded.once('error', (error) => reject(new SmtpError(`SMTP STARTTLS failed: ${error.message}`, false)));
      });
      ehlo = await command('EHLO lading', [250], 'EHLO');
    } else if (!target.secure && target.requireTls) {
      throw new SmtpError(
        'the SMTP server does not offer STARTTLS and the target requires it (starttls=required): nothing was sent',
        true,
      );
    }
    if (target.user !== null) {
      if (!(socket as TLSSocket).encrypted) {
        throw new SmtpError('the SMTP server offers no TLS: credentials are not sent in the clear', true);
      }
      const token = Buffer.from(`\0${target.user}\0${target.password ?? ''}`, 'utf8').toString('base64');
      await command(`AUTH PLAIN ${token}`, [235], 'AUTH');
    }
    await command(`MAIL FROM:<${target.from}>`, [250], 'MAIL FROM');
    for (const to of target.to) await command(`RCPT TO:<${to}>`, [250, 251], 'RCPT TO');
    await command('DATA', [354], 'DATA');
    socket.write(`${formatMail(target, message)}\r\n.\r\n`);
    await expect([250], 'message');
    // the message is accepted: QUIT politely (its 221 lets the relay close cleanly), but never fail over it
    socket.write('QUIT\r\n');
    await reader.reply(Math.min(timeoutMs, 2_000)).catch(() => undefined);
  } finally {
    socket.end();
    socket.destroy();
  }
}
