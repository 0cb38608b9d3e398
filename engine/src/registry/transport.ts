import { discardBody, headerValue } from '../http/body.js';
import { type ConnectGuard, HttpClient, type HttpRequest } from '../http/client.js';
import type { HttpMethod, HttpResponse } from '../http/exchange.js';
import type { RetryPolicy } from '../http/retry.js';
import type { Authenticator } from './auth.js';
import { parseChallenges } from './challenge.js';
import { apiHost } from './reference.js';

export interface TransportOptions {
  insecureRegistries: string[];
  userAgent: string;
  timeoutMs: number;
  retry: RetryPolicy;
  authenticator: Authenticator;
  /** Where requests may go, redirects and token realms included (HttpClient's ConnectGuard). */
  connectGuard?: ConnectGuard;
  /** Redirects followed per request (default the HTTP client's). */
  maxRedirects?: number;
}

export interface RegistryRequest {
  registry: string;
  method: HttpMethod;
  /** `/v2/...` path with query, or an absolute URL the registry gave us (upload locations). */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Token scope, e.g. `repository:library/alpine:pull`. */
  scope: string;
  /** Names the thing asked for in error messages. */
  what: string;
  signal?: AbortSignal;
}

export interface RegistryResponse extends HttpResponse {
  /** Set on a 401 that answered the user's own credentials (basic auth): they were refused, not missing. */
  credentialsRefused?: boolean;
}

/** What the authenticator sends through (token requests): the transport's client, retried, not redirected. */
export type Send = (req: {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
}) => Promise<HttpResponse>;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Speaks HTTP to registries over the one HTTP stack (http/): picks the scheme, authenticates (answering 401
 * challenges once); the stack retries transient failures and follows redirects without carrying credentials to
 * other hosts.
 */
export class Transport {
  /** Scheme that worked for registries allowed plain HTTP (probed once: HTTPS first, as docker does). */
  private readonly schemes = new Map<string, 'https:' | 'http:'>();
  private readonly http: HttpClient;
  /** For the scheme probe: one attempt, no redirects, any certificate. */
  private readonly probeClient: HttpClient;

  constructor(private readonly options: TransportOptions) {
    const insecureHost = (host: string) => this.isInsecure(host);
    this.http = new HttpClient({
      userAgent: options.userAgent,
      idleTimeoutMs: options.timeoutMs,
      retry: options.retry,
      insecureHost,
      tlsHint: (url) => `; if ${url.host} speaks plain HTTP, declare it with the insecureRegistries option`,
      tlsHintOption: 'insecureRegistries',
      protocolErrorCode: 'REGISTRY',
      ...(options.connectGuard ? { connectGuard: options.connectGuard } : {}),
      ...(options.maxRedirects !== undefined ? { maxRedirects: options.maxRedirects } : {}),
    });
    this.probeClient = new HttpClient({
      userAgent: options.userAgent,
      idleTimeoutMs: options.timeoutMs,
      retry: { retries: 0 },
      insecureHost: () => true,
      ...(options.connectGuard ? { connectGuard: options.connectGuard } : {}),
    });
  }

  isInsecure(registry: string): boolean {
    const host = registry.replace(/:[0-9]+$/, '');
    return (
      LOCAL_HOSTS.has(host) ||
      this.options.insecureRegistries.includes(registry) ||
      this.options.insecureRegistries.includes(host)
    );
  }

  /** Sends a request and returns the final response, whatever its status; the caller judges it. */
  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const url = await this.urlFor(req.registry, req.path, req.signal);
    const signal = req.signal ? { signal: req.signal } : {};
    // Registry POSTs (a token, an upload session) are safe to repeat, so every request is retried.
    const send: Send = (r) => this.http.request({ ...r, ...signal, retry: true, followRedirects: false });
    const auth = this.options.authenticator;
    const headers: Record<string, string> = { ...req.headers };
    const upfront = await auth.headerFor(req.registry, req.scope, send);
    if (upfront) headers['authorization'] = upfront;

    const exchange = (): Promise<RegistryResponse> => {
      const request: HttpRequest = {
        method: req.method,
        url,
        headers: { ...headers },
        what: req.registry,
        retry: true,
        ...signal,
        ...(req.body ? { body: req.body } : {}),
      };
      return this.http.request(request);
    };
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

  private async urlFor(registry: string, path: string, signal: AbortSignal | undefined): Promise<URL> {
    if (/^https?:\/\//i.test(path)) return new URL(path);
    const host = apiHost(registry);
    const scheme =
      this.schemes.get(registry) ?? (this.isInsecure(registry) ? await this.probe(registry, signal) : 'https:');
    return new URL(`${scheme}//${host}${path.startsWith('/') ? '' : '/'}${path}`);
  }

  /** Resolves upload Location headers, which may be relative, against the registry. */
  async resolveLocation(registry: string, location: string): Promise<URL> {
    const base = await this.urlFor(registry, '/v2/', undefined);
    return new URL(location, base);
  }

  private async probe(registry: string, signal: AbortSignal | undefined): Promise<'https:' | 'http:'> {
    const host = apiHost(registry);
    try {
      const res = await this.probeClient.request({
        url: new URL(`https://${host}/v2/`),
        followRedirects: false,
        ...(signal ? { signal } : {}),
      });
      discardBody(res);
      this.schemes.set(registry, 'https:');
    } catch (err) {
      if (signal?.aborted) throw err;
      // Anything that is not an HTTPS answer (TLS failure, reset): this registry speaks plain HTTP.
      this.schemes.set(registry, 'http:');
    }
    return this.schemes.get(registry)!;
  }
}
