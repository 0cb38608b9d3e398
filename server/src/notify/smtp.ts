// A small SMTP client (RFC 5321) over node:net / node:tls: enough to hand one message to a relay. `smtp://` speaks
// plain SMTP and upgrades with STARTTLS when the server offers it (required when credentials are sent);
// `smtps://` is TLS from the first byte. AUTH PLAIN only. Every reply is awaited with a timeout, so a silent server
// cannot hang the delivery job.
import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';

export interface SmtpTarget {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly user: string | null;
  readonly password: string | null;
  readonly from: string;
  readonly to: readonly string[];
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
  /** CA certificates to trust for TLS (tests); the system store otherwise. */
  readonly ca?: string;
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
  const secure = url.protocol === 'smtps:';
  return {
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

/** Sends one message; resolves when the server accepted it (250 after DATA). */
export async function sendMail(target: SmtpTarget, message: MailMessage, options: SmtpOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let socket: Socket | TLSSocket = target.secure
    ? tlsConnect({ host: target.host, port: target.port, servername: target.host, ca: options.ca })
    : netConnect({ host: target.host, port: target.port });
  let reader = new ReplyReader();
  reader.attach(socket);
  const expect = async (codes: readonly number[], step: string) => {
    const reply = await reader.reply(timeoutMs);
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
      socket = tlsConnect({ socket: plain, servername: target.host, ca: options.ca });
      reader = new ReplyReader();
      reader.attach(socket);
      await new Promise<void>((resolve, reject) => {
        (socket as TLSSocket).once('secureConnect', resolve);
        socket.once('error', reject);
      });
      ehlo = await command('EHLO lading', [250], 'EHLO');
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
    socket.write('QUIT\r\n');
  } finally {
    socket.end();
    socket.destroy();
  }
}
