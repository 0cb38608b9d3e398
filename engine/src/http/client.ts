import type { LookupFunction } from 'node:net';
import { abortedError } from '../errors/abort.js';
import { type ErrorCode, LadingError, thrownValueText } from '../errors/lading-error.js';
import { LADING_VERSION } from '../version.js';
import { discardBody, headerValue } from './body.js';
import { exchange, type HttpMethod, type HttpResponse, type MinimumRate, type RequestBody } from './exchange.js';
import { DEFAULT_RETRY, isRetryableError, isRetryableStatus, type RetryPolicy, retryDelayMs, sleep } from './retry.js';

export interface HttpClientOptions {
  /** Sent on every request; default `lading/<version>`. */
  userAgent?: string;
  /** How long a connection may stay silent (connect, headers, between body chunks); default 30 s. */
  idleTimeoutMs?: number;
  /**
   * The slowest transfer tolerated, for a server that is never silent long enough for the idle timeout (one byte
   * every 20 s); default fewer than 1 KiB in 60 s fails. `false`: no minimum.
   */
  minimumRate?: MinimumRate | false;
  retry?: Partial<RetryPolicy>;
  /** Redirects followed per request; default 5. */
  maxRedirects?: number;
  /**
   * Hosts (`host[:port]`) whose TLS certificates are not checked and that a redirect from HTTPS may send to over
   * plain HTTP (the registry's insecure-registries list). Default: none.
   */
  insecureHost?: (host: string) => boolean;
  /** Words added to a TLS failure's message, e.g. the registry's "declare it with the insecureRegistries option". */
  tlsHint?: (url: URL) => string;
  /** The option the hint names (`LadingError.option`), so a CLI can show its own flag for it. */
  tlsHintOption?: string;
  /** Code of the errors about the answer's shape (refused or endless redirects); default NETWORK. */
  protocolErrorCode?: ErrorCode;
  /** Where requests may go (a server pulling from registries its users name): see ConnectGuard. */
  connectGuard?: ConnectGuard;
}

/**
 * A caller's say over where requests go, for servers that fetch URLs their users name (SSRF): `checkUrl` sees the
 * first URL and every redirect's before it is requested and throws to refuse it (an IP literal is only seen here);
 * `lookup` resolves host names for each new connection and fails for addresses it does not allow, so the check
 * holds at connect time (no DNS rebinding between a check and the connection).
 */
export interface ConnectGuard {
  checkUrl(url: URL): void;
  lookup: LookupFunction;
}

export interface HttpRequest {
  method?: HttpMethod;
  url: URL | string;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Stops the request, its retries' waits and its body: rejects or fails with LadingError('ABORTED'). */
  signal?: AbortSignal;
  /** Overall time for the answer and its whole body, redirects and retries included; none by default. */
  deadlineMs?: number;
  /**
   * Retry on 408/429/5xx and connection failures? Default: for idempotent methods (GET, HEAD, PUT, DELETE). A
   * caller that knows a POST is safe to repeat (asking for a token, opening an upload) says `true`.
   */
  retry?: boolean;
  /** Follow 3xx answers; default for all but POST and PATCH. */
  followRedirects?: boolean;
  /** Names the request in error messages (default: the URL's host). */
  what?: string;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_REDIRECTS = 5;
export const DEFAULT_MINIMUM_RATE: MinimumRate = { bytes: 1024, windowMs: 60_000 };
/** A server that stayed silent for a whole idle timeout twice will not answer a third time: fail within two. */
const MAX_TIMEOUTS = 2;
const IDEMPOTENT = new Set<HttpMethod>(['GET', 'HEAD', 'PUT', 'DELETE']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Lading's one HTTP stack (registries, vulnerability data): a `User-Agent` on every request, an idle timeout and
 * an optional overall deadline, retries with backoff that honour Retry-After, bounded redirects that never carry
 * credentials to another origin nor downgrade to plain HTTP, and an AbortSignal that stops it all. Responses
 * come back whatever their status, body unread: the caller judges them (readBody caps the size it buffers).
 */
export class HttpClient {
  private readonly userAgent: string;
  private readonly idleTimeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly maxRedirects: number;
  private readonly minimumRate: MinimumRate | undefined;

  constructor(private readonly options: HttpClientOptions = {}) {
    this.userAgent = options.userAgent ?? `lading/${LADING_VERSION}`;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.minimumRate = options.minimumRate === false ? undefined : (options.minimumRate ?? DEFAULT_MINIMUM_RATE);
  }

  /** Sends a request and returns the final answer (after redirects and retries), whatever its status. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const method = req.method ?? 'GET';
    const first = typeof req.url === 'string' ? new URL(req.url) : req.url;
    const what = req.what ?? first.host;
    const deadline = req.deadlineMs === undefined ? undefined : this.deadline(first, req.deadlineMs);
    const follow = req.followRedirects ?? (method !== 'POST' && method !== 'PATCH');
    let current = { method, url: first, headers: { ...req.headers }, ...(req.body ? { body: req.body } : {}) };
    this.options.connectGuard?.checkUrl(first);
    for (let hop = 0; ; hop++) {
      const res = await this.sendWithRetry(current, req, deadline);
      const location = headerValue(res.headers, 'location');
      if (!follow || !REDIRECTS.has(res.status) || !location) return res;
      discardBody(res);
      if (hop >= this.maxRedirects) {
        throw this.protocolError(`${what}: more than ${this.maxRedirects} redirects for ${first.pathname}`);
      }
      const next = new URL(location, current.url);
      const downgrade =
        current.url.protocol === 'https:' && next.protocol === 'http:' && !this.options.insecureHost?.(next.host);
      if ((next.protocol !== 'https:' && next.protocol !== 'http:') || downgrade) {
        throw this.protocolError(`${what}: refusing a redirect to ${next.protocol}//${next.host}`);
      }
      this.options.connectGuard?.checkUrl(next);
      const headers = { ...current.headers };
      // Blob storage (S3, a CDN) must never see the credentials meant for the origin that redirected.
      if (next.origin !== current.url.origin) {
        delete headers['authorization'];
        delete headers['cookie'];
      }
      const nextMethod = res.status === 303 ? 'GET' : current.method;
      current = {
        method: nextMethod,
        url: next,
        headers,
        ...(nextMethod === current.method && current.body ? { body: current.body } : {}),
      };
    }
  }

  private async sendWithRetry(
    current: { method: HttpMethod; url: URL; headers: Record<string, string>; body?: RequestBody },
    req: HttpRequest,
    deadline: { at: number; error: () => LadingError } | undefined,
  ): Promise<HttpResponse> {
    const retries = (req.retry ?? IDEMPOTENT.has(current.method)) ? this.retry.retries : 0;
    const headers = { 'user-agent': this.userAgent, ...current.headers };
    let timeouts = 0;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await exchange({
          ...current,
          headers,
          idleTimeoutMs: this.idleTimeoutMs,
          ...(this.minimumRate ? { minimumRate: this.minimumRate } : {}),
          rejectUnauthorized: !this.options.insecureHost?.(current.url.host),
          ...(req.signal ? { signal: req.signal } : {}),
          ...(deadline ? { deadline } : {}),
          ...(this.options.connectGuard ? { lookup: this.options.connectGuard.lookup } : {}),
        });
      } catch (err) {
        if (err instanceof LadingError) throw err;
        const silent = (err as NodeJS.ErrnoException).code === 'ETIMEDOUT' && ++timeouts >= MAX_TIMEOUTS;
        if (!silent && attempt < retries && isRetryableError(err)) {
          await this.wait(retryDelayMs(this.retry, attempt), req.signal, deadline);
          continue;
        }
        throw this.networkError(err, current.url);
      }
      if (attempt < retries && isRetryableStatus(res.status)) {
        discardBody(res);
        await this.wait(retryDelayMs(this.retry, attempt, res.headers), req.signal, deadline);
        continue;
      }
      return res;
    }
  }

  /** A wait between attempts; one that would end past the deadline fails now, with the deadline's error. */
  private async wait(
    ms: number,
    signal: AbortSignal | undefined,
    deadline: { at: number; error: () => LadingError } | undefined,
  ): Promise<void> {
    if (signal?.aborted) throw abortedError();
    if (deadline && Date.now() + ms >= deadline.at) throw deadline.error();
    await sleep(ms, signal);
  }

  private deadline(url: URL, ms: number): { at: number; error: () => LadingError } {
    return {
      at: Date.now() + ms,
      error: () => new LadingError('NETWORK', `${url.origin}${url.pathname}: no complete answer within ${ms} ms`),
    };
  }

  private protocolError(message: string): LadingError {
    return new LadingError(this.options.protocolErrorCode ?? 'NETWORK', message);
  }

  private networkError(err: unknown, url: URL): LadingError {
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? '';
    // OpenSSL messages span lines; say what the failure means instead.
    if (code.startsWith('ERR_SSL') || code === 'EPROTO' || /SSL routines/.test(e.message ?? '')) {
      const hint = url.protocol === 'https:' ? (this.options.tlsHint?.(url) ?? '') : '';
      return new LadingError(
        'NETWORK',
        `cannot reach ${url.host}: TLS handshake failed (${code || 'TLS error'})${hint}`,
        hint && this.options.tlsHintOption ? { cause: err, option: this.options.tlsHintOption } : { cause: err },
      );
    }
    const message = (e.message ?? thrownValueText(err)).split('\n')[0] ?? '';
    const why = code && !message.includes(code) ? `${message} (${code})` : message;
    return new LadingError('NETWORK', `cannot reach ${url.host}: ${why}`, { cause: err });
  }
}
