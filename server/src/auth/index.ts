// Authentication and authorization for the server (SERVER.md sections 2 and 7). `registerAuth` adds one onRequest
// hook that resolves who is calling (a Bearer API token or a browser session) into `request.caller`; handlers then
// call `requireScope`, and repository-scoped reads answer 404 for what `callerMayAccess` refuses.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ProblemError } from '../http/problem.js';
import { type Caller, narrowToScope } from './caller.js';
import { type AuthKeys, deriveAuthKeys } from './keys.js';
import { DEFAULT_RATE_LIMITS, LoginAttempts, type RateLimits, registerRateLimits } from './rate-limits.js';
import type { Scope } from './scopes.js';
import {
  CSRF_HEADER,
  csrfTokenMatches,
  isUnsafeMethod,
  isWellFormedSessionId,
  originIsSameOrigin,
  readCookie,
  SESSION_COOKIE,
} from './sessions.js';
import { type AuthRefusal, authenticateSession, authenticateToken, insertApiToken, type NewApiToken } from './store.js';
import { MAX_TOKEN_LIFETIME_MS, MAX_USER_TOKEN_LIFETIME_MS } from './tokens.js';

export { type Caller, callerCoversPattern, callerMayAccess, type Grant, SYSTEM_CALLER } from './caller.js';
export { type AuthKeys, deriveAuthKeys } from './keys.js';
export { repositoryPatternMatches } from './patterns.js';
export { DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limits.js';
export { SCOPES, type Scope, TEAM_ROLES, type TeamRole } from './scopes.js';
export { SESSION_COOKIE } from './sessions.js';

/** What auth needs from the server context. */
export interface AuthHost {
  db: Kysely<Database>;
  now(): number;
  /** The server's root secret; auth derives its own keys from it by HKDF (keys.ts). */
  secrets: { key: Uint8Array };
  /**
   * The server configuration; auth reads `rateLimits` (Partial<RateLimits>) and `publicOrigins` (string[]) from it
   * when present, so that tests can set small limits through the ordinary config.
   */
  config?: object;
}

export interface AuthOptions {
  rateLimits?: Partial<RateLimits>;
  /** The origins browsers use for this server (`https://lading.acme.dev`); empty: the request's own Host. */
  publicOrigins?: readonly string[];
}

/** Per-app auth state the route modules share (keys, login attempts). */
export interface AuthRuntime {
  keys: AuthKeys;
  limits: RateLimits;
  loginAttempts: LoginAttempts;
  publicOrigins: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, when the request carried valid credentials. */
    caller: Caller | undefined;
    /** Why presented credentials were refused (reported only when a route requires a caller). */
    authRefusal: AuthRefusal | undefined;
    /** The session id from the cookie, when the caller is a session user. */
    sessionId: string | undefined;
  }
  interface FastifyInstance {
    auth: AuthRuntime;
  }
}

const runtimes = new WeakMap<object, AuthKeys>();

/** The auth keys of a host, derived once. */
export function authKeysOf(host: Pick<AuthHost, 'secrets'>): AuthKeys {
  let keys = runtimes.get(host.secrets);
  if (!keys) {
    keys = deriveAuthKeys(host.secrets.key);
    runtimes.set(host.secrets, keys);
  }
  return keys;
}

export async function registerAuth(app: FastifyInstance, host: AuthHost, options: AuthOptions = {}): Promise<void> {
  const fromConfig = (host.config ?? {}) as { rateLimits?: Partial<RateLimits>; publicOrigins?: readonly string[] };
  const limits: RateLimits = { ...DEFAULT_RATE_LIMITS, ...fromConfig.rateLimits, ...options.rateLimits };
  const keys = authKeysOf(host);
  const runtime: AuthRuntime = {
    keys,
    limits,
    loginAttempts: new LoginAttempts(limits.loginPerMinute, limits.windowMs),
    publicOrigins: options.publicOrigins ?? fromConfig.publicOrigins ?? [],
  };
  app.decorate('auth', runtime);
  app.decorateRequest('caller', undefined);
  app.decorateRequest('authRefusal', undefined);
  app.decorateRequest('sessionId', undefined);
  await registerRateLimits(app, limits);

  app.addHook('onRequest', async (request) => {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      // Bearer credentials carry no ambient authority, so they need no CSRF check; a cookie beside them is ignored.
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!bearer) {
        request.authRefusal = { status: 401, detail: 'the Authorization header must be "Bearer lading_<id>_<secret>"' };
        return;
      }
      const outcome = await authenticateToken(host.db, keys, bearer[1]!, request.ip ?? null, host.now());
      if ('status' in outcome) request.authRefusal = outcome;
      else request.caller = outcome;
      return;
    }
    const sessionId = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (sessionId === undefined) return;
    if (!isWellFormedSessionId(sessionId)) {
      request.authRefusal = { status: 401, detail: 'the session cookie is not valid; log in again' };
      return;
    }
    const session = await authenticateSession(host.db, keys, sessionId, host.now());
    if (!session) {
      request.authRefusal = { status: 401, detail: 'the session has ended; log in again' };
      return;
    }
    if (isUnsafeMethod(request.method)) {
      const sameOrigin = originIsSameOrigin(
        request.headers.origin,
        request.headers.host,
        request.protocol,
        runtime.publicOrigins,
      );
      if (!sameOrigin) {
        request.authRefusal = {
          status: 403,
          detail: "a cookie-authenticated request must come from this server's own origin (Origin header)",
        };
        return;
      }
      const presented = request.headers[CSRF_HEADER];
      if (!csrfTokenMatches(keys.csrfKey, sessionId, typeof presented === 'string' ? presented : undefined)) {
        request.authRefusal = {
          status: 403,
          detail: "a cookie-authenticated request needs the session's X-CSRF-Token header",
        };
        return;
      }
    }
    request.caller = session.caller;
    request.sessionId = sessionId;
  });
}

function refusalProblem(refusal: AuthRefusal): ProblemError {
  return new ProblemError(refusal.status, refusal.status === 401 ? 'Unauthorized' : 'Forbidden', refusal.detail);
}

/** The authenticated caller, or a 401/403 problem: for routes open to any signed-in caller. */
export function requireCaller(request: FastifyRequest): Caller {
  if (request.authRefusal) throw refusalProblem(request.authRefusal);
  if (!request.caller) {
    throw new ProblemError(
      401,
      'Unauthorized',
      'authentication required: send "Authorization: Bearer lading_<id>_<secret>" or log in',
    );
  }
  return request.caller;
}

/**
 * The caller when it holds `scope` on some repository (admins hold every scope); 401 or 403 otherwise. The caller
 * returned keeps only the grants that hold `scope`, so repository checks made with it apply that scope.
 */
export function requireScope(request: FastifyRequest, scope: Scope): Caller {
  const caller = requireCaller(request);
  if (!caller.isAdmin && !caller.scopes.has(scope)) {
    throw new ProblemError(403, 'Forbidden', `this operation needs the ${scope} scope`);
  }
  return narrowToScope(caller, scope);
}

/** The caller when it is an administrator; 401 or 403 otherwise. */
export function requireAdmin(request: FastifyRequest): Caller {
  const caller = requireCaller(request);
  if (!caller.isAdmin) throw new ProblemError(403, 'Forbidden', 'this operation needs the admin scope');
  return caller;
}

/** Mints an API token (the test harness and `lading-server start` use this for the first admin credentials). */
export async function createApiToken(
  host: Pick<AuthHost, 'db' | 'now' | 'secrets'>,
  input: NewApiToken,
): Promise<{ id: string; token: string }> {
  const now = host.now();
  // The same lifetime rule as the API (tokens.ts): every token expires, a person's within 90 days, a team's within 365.
  const longest = input.ownerTeamId != null ? MAX_TOKEN_LIFETIME_MS : MAX_USER_TOKEN_LIFETIME_MS;
  if (!(input.expiresAt > now && input.expiresAt - now <= longest)) {
    throw new RangeError(`createApiToken: expiresAt must lie within ${longest / 86_400_000} days from now`);
  }
  const made = await insertApiToken(host.db, authKeysOf(host), input, now);
  return { id: made.publicId, token: made.token };
}
