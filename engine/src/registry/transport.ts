import { LadingError } from '../errors/lading-error.js';
import type { Authenticator } from './auth.js';
import { parseChallenges } from './challenge.js';
import { discardBody, type HttpRequest, type HttpResponse, headerValue, sendRequest } from './http.js';
import { apiHost } from './reference.js';
import { isRetryableError, isRetryableStatus, type RetryPolicy, retryDelayMs, sleep } from './retry.js';

export interface TransportOptions {
  insecureRegistries: string[];
  userAgent: string;
  timeoutMs: number;
  retry: RetryPolicy;
  authenticator: Authenticator;
}

export interface RegistryRequest {
  registry: string;
  method: HttpRequest['method'];
  /** `/v2/...` path with query, or an absolute URL the registry gave us (upload locations). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Token scope, e.g. `repository:library/alpine:pull`. */
  scope: string;
  /** Names the thing asked for in error messages. */
  what: string;
}

const MAX_REDIRECTS = 5;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Speaks HTTP to registries: picks the scheme, authenticates (answering 401 challenges once), retries
 * transient failures and follows redirects without carrying credentials to other hosts.
 */
export class Transport {
  /** Scheme that worked for registries allowed plain HTTP (probed once: HTTPS first, as docker does). */
  private readonly schemes = new Map<string, 'https:' | 'http:'>();

  constructor(private readonly options: TransportOptions) {}

  isInsecure(registry: string): boolean {
    const host = registry.replace(/:[0-9]+$/, '');
    return (
      LOCAL_HOSTS.has(host) ||
      this.options.insecureRegistries.includes(registry) ||
      this.options.insecureRegistries.includes(host)
    );
  }

  /** Sends a request and returns the final response, whatever its status; the caller judges it. */
  async request(req: RegistryRequest): Promise<HttpResponse> {
    const url = await this.urlFor(req.registry, req.path);
    const send = (r: Omit<HttpRequest, 'timeoutMs' | 'rejectUnauthorized'>) => this.sendWithRetry(r);
    const auth = this.options.authenticator;
    const headers: Record<string, string> = { ...req.headers };
    const upfront = await auth.headerFor(req.registry, req.scope, send);
    if (upfront) headers['authorization'] = upfront;

    const exchange = () => this.followRedirects({ method: req.method, url, headers, ...bodyOf(req) }, req.registry);
    let res = await exchange();
    if (res.status === 401) {
      const challenge = headerValue(res.headers, 'www-authenticate');
      const answer = challenge
        ? await auth.answerChallenge(req.registry, req.scope, parseChallenges(challenge), send)
        : undefined;
      if (answer && answer !== upfront) {
        discardBody(res);
        headers['authorization'] = answer;
        res = await exchange();
      }
    }
    if (res.status === 401 && headers['authorization']?.startsWith('Basic ')) res.credentialsRefused = true;
    return res;
  }

  private async urlFor(registry: string, path: string): Promise<URL> {
    if (/^https?:\/\//i.test(path)) return new URL(path);
    const host = apiHost(registry);
    const scheme =
      this.insecureSchemeKnown(registry) ?? (this.isInsecure(registry) ? await this.probe(registry) : 'https:');
    return new URL(`${scheme}//${host}${path.startsWith('/') ? '' : '/'}${path}`);
  }

  /** Resolves upload Location headers, which may be relative, against the registry. */
  async resolveLocation(registry: string, location: string): Promise<URL> {
    const base = await this.urlFor(registry, '/v2/');
    return new URL(location, base);
  }

  private insecureSchemeKnown(registry: string): 'https:' | 'http:' | undefined {
    return this.schemes.get(registry);
  }

  private async probe(registry: string): Promise<'https:' | 'http:'> {
    const host = apiHost(registry);
    try {
      const res = await sendRequest({
        method: 'GET',
        url: new URL(`https://${host}/v2/`),
        headers: { 'user-agent': this.options.userAgent },
        timeoutMs: this.options.timeoutMs,
        rejectUnauthorized: false,
      });
      discardBody(res);
      this.schemes.set(registry, 'https:');
    } catch {
      // Anything that is not an HTTPS answer (TLS failure, reset): this registry speaks plain HTTP.
      this.schemes.set(registry, 'http:');
    }
    return this.schemes.get(registry)!;
  }

  private async followRedirects(
    req: Omit<HttpRequest, 'timeoutMs' | 'rejectUnauthorized'>,
    registry: string,
  ): Promise<HttpResponse> {
    const origin = req.url.origin;
    let current = req;
    for (let hop = 0; ; hop++) {
      const res = await this.sendWithRetry(current);
      const location = headerValue(res.headers, 'location');
      if (![301, 302, 303, 307, 308].includes(res.status) || !location || req.method === 'POST') return res;
      discardBody(res);
      if (hop >= MAX_REDIRECTS) {
        throw new LadingError('REGISTRY', `${registry}: more than ${MAX_REDIRECTS} redirects for ${req.url.pathname}`);
      }
      const next = new URL(location, current.url);
      const downgrade = current.url.protocol === 'https:' && next.protocol === 'http:' && !this.isInsecure(next.host);
      if ((next.protocol !== 'https:' && next.protocol !== 'http:') || downgrade) {
        throw new LadingError('REGISTRY', `${registry}: refusing a redirect to ${next.protocol}//${next.host}`);
      }
      const headers = { ...current.headers };
      // Blob storage (S3, a CDN) must never see the registry's credentials.
      if (next.origin !== origin) delete headers['authorization'];
      const method = res.status === 303 ? 'GET' : current.method;
      current = {
        method,
        url: next,
        headers,
        ...(method === current.method && current.body ? { body: current.body } : {}),
      };
    }
  }

  private async sendWithRetry(req: Omit<HttpRequest, 'timeoutMs' | 'rejectUnauthorized'>): Promise<HttpResponse> {
    const policy = this.options.retry;
    const full: HttpRequest = {
      ...req,
      headers: { 'user-agent': this.options.userAgent, ...req.headers },
      timeoutMs: this.options.timeoutMs,
      rejectUnauthorized: !this.isInsecure(req.url.host),
    };
    let timeouts = 0;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await sendRequest(full);
      } catch (err) {
        // A server that stayed silent for a whole timeout twice will not answer a third time: fail within two.
        if ((err as NodeJS.ErrnoException).code === 'ETIMEDOUT' && ++timeouts >= MAX_TIMEOUTS) {
          throw networkError(err, req.url);
        }
        if (attempt < policy.retries && isRetryableError(err)) {
          await sleep(retryDelayMs(policy, attempt));
          continue;
        }
        throw networkError(err, req.url);
      }
      if (attempt < policy.retries && isRetryableStatus(res.status)) {
        discardBody(res);
        await sleep(retryDelayMs(policy, attempt, res.headers));
        continue;
      }
      return res;
    }
  }
}

const MAX_TIMEOUTS = 2;

function bodyOf(req: RegistryRequest): { body?: Buffer } {
  return req.body ? { body: req.body } : {};
}

function networkError(err: unknown, url: URL): LadingError {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? '';
  // OpenSSL messages span lines; say what the failure means instead.
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || /SSL routines/.test(e.message)) {
    const hint =
      url.protocol === 'https:' ? `; if ${url.host} speaks plain HTTP, declare it with --insecure-registry` : '';
    return new LadingError(
      'NETWORK',
      `cannot reach ${url.host}: TLS handshake failed (${code || 'TLS error'})${hint}`,
      {
        cause: err,
      },
    );
  }
  const message = (e.message ?? String(err)).split('\n')[0] ?? '';
  const why = code && !message.includes(code) ? `${message} (${code})` : message;
  return new LadingError('NETWORK', `cannot reach ${url.host}: ${why}`, { cause: err });
}
