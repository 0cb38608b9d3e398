import { LadingError } from '../errors/lading-error.js';
import { readBody } from '../http/body.js';
import type { HttpResponse } from '../http/exchange.js';
import type { Challenge } from './challenge.js';
import { type Credentials, isIdentityToken } from './credentials.js';
import type { Send } from './transport.js';

/** How a registry asked us to authenticate, learnt from its first 401. */
export type AuthScheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

interface CachedToken {
  token: string;
  expiresAt: number;
}

const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 10_000;
const MAX_TOKEN_RESPONSE = 1024 * 1024;

/**
 * Keeps, per registry, the scheme it challenged with, its credentials, and bearer tokens per scope, so
 * only the first request of each scope pays the token round trip.
 */
export class Authenticator {
  private readonly schemes = new Map<string, AuthScheme>();
  private readonly tokens = new Map<string, CachedToken>();
  /** Token requests under way, so parallel layer pulls of one scope share a single round trip. */
  private readonly pending = new Map<string, Promise<string>>();
  private readonly credentials = new Map<string, Promise<Credentials | undefined>>();

  constructor(private readonly lookupCredentials: (registry: string) => Promise<Credentials | undefined>) {}

  /** The Authorization header to send up front, if we already know what the registry wants. */
  async headerFor(registry: string, scope: string, send: Send): Promise<string | undefined> {
    const scheme = this.schemes.get(registry);
    if (!scheme) return undefined;
    if (scheme.kind === 'basic') return this.basicHeader(registry);
    const cached = this.tokens.get(tokenKey(registry, scope));
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    return `Bearer ${await this.freshToken(registry, scheme, [scope], send)}`;
  }

  /**
   * Learns from a 401's challenge and returns the header to retry with, or undefined if retrying cannot help
   * (no usable challenge, or basic auth without credentials).
   */
  async answerChallenge(
    registry: string,
    scope: string,
    challenges: Challenge[],
    send: Send,
  ): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
    if (bearer) {
      const scheme: AuthScheme = { kind: 'bearer', realm: bearer.params['realm']! };
      if (bearer.params['service'] !== undefined) scheme.service = bearer.params['service'];
      this.schemes.set(registry, scheme);
      const scopes = [scope];
      const asked = bearer.params['scope'];
      if (asked && asked !== scope) for (const more of asked.split(' ')) scopes.push(more);
      return `Bearer ${await this.freshToken(registry, scheme, scopes, send)}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.schemes.set(registry, { kind: 'basic' });
      return this.basicHeader(registry);
    }
    return undefined;
  }

  /** A new token for the scopes; requests already under way for the same scope are shared, not repeated. */
  private freshToken(
    registry: string,
    scheme: Extract<AuthScheme, { kind: 'bearer' }>,
    scopes: string[],
    send: Send,
  ): Promise<string> {
    const key = tokenKey(registry, scopes.join(' '));
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(registry, scheme, scopes, send).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  private credentialsOf(registry: string): Promise<Credentials | undefined> {
    let c = this.credentials.get(registry);
    if (!c) {
      c = this.lookupCredentials(registry);
      this.credentials.set(registry, c);
    }
    return c;
  }

  private async basicHeader(registry: string): Promise<string | undefined> {
    const creds = await this.credentialsOf(registry);
    if (!creds || isIdentityToken(creds)) return undefined;
    return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  }

  private async fetchToken(
    registry: string,
    scheme: Extract<AuthScheme, { kind: 'bearer' }>,
    scopes: string[],
    send: Send,
  ): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(scheme.realm);
    } catch {
      throw new LadingError('AUTH', `${registry}: token realm "${scheme.realm}" is not a URL`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new LadingError('AUTH', `${registry}: token realm "${scheme.realm}" is not http(s)`);
    }
    const creds = await this.credentialsOf(registry);
    let res: HttpResponse;
    if (creds && isIdentityToken(creds)) {
      // OAuth2 refresh-token grant, as docker does with an identity token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken });
      form.set('client_id', 'lading');
      if (scheme.service) form.set('service', scheme.service);
      form.set('scope', scopes.join(' '));
      res = await send({
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
    } else {
      const url = new URL(realm);
      if (scheme.service) url.searchParams.set('service', scheme.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds)
        headers['authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      res = await send({ method: 'GET', url, headers });
    }
    const body = await readBody(res, MAX_TOKEN_RESPONSE, `token response from ${realm.host}`);
    if (res.status === 401 || res.status === 403) {
      throw new LadingError(
        'AUTH',
        `${registry}: the token server ${realm.host} refused the credentials (${res.status})`,
      );
    }
    if (res.status !== 200) {
      throw new LadingError('AUTH', `${registry}: the token server ${realm.host} answered ${res.status}`);
    }
    const token = parseTokenResponse(body, realm.host);
    const first = scopes[0]!;
    this.tokens.set(tokenKey(registry, first), token);
    return token.token;
  }
}

function tokenKey(registry: string, scope: string): string {
  return `${registry} ${scope}`;
}

function parseTokenResponse(body: Buffer, host: string): CachedToken {
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new LadingError('AUTH', `the token server ${host} sent something other than JSON`);
  }
  const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new LadingError('AUTH', `the token server ${host} sent no token`);
  }
  const seconds =
    typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : DEFAULT_TOKEN_SECONDS;
  return { token, expiresAt: Date.now() + Math.max(seconds * 1000 - EXPIRY_MARGIN_MS, 1000) };
}
