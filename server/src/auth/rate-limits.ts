// Request rate limits (SERVER.md section 2, "Limits"): per node, in memory, answered with 429, `Retry-After` and a
// problem document. Ingest 120/min and reads 1,200/min per authenticated caller (per client address without one);
// login 5/min per client address AND per login name, so neither one address trying many names nor many addresses
// trying one name gets more than five guesses a minute. Every number, and per-caller limits, come from the
// configuration (config.ts: `--rate-limits` / LADING_RATE_LIMITS).
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '../http/problem.js';

export interface RateLimits {
  ingestPerMinute: number;
  readsPerMinute: number;
  loginPerMinute: number;
  /** The window, 60 s in production; tests may shorten it. */
  windowMs: number;
  /**
   * Per-caller limits that replace the class's for one caller (a CI token that ingests a whole fleet, a dashboard
   * kiosk user), keyed `token:<public id>` or `user:<login>`; absent classes keep the default.
   */
  callers?: Readonly<Record<string, CallerRateLimits>>;
}

/** One caller's own limits per window (ingest and the rest of the API; logins are per address and name, not caller). */
export interface CallerRateLimits {
  ingestPerMinute?: number;
  readsPerMinute?: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  ingestPerMinute: 120,
  readsPerMinute: 1200,
  loginPerMinute: 5,
  windowMs: 60_000,
};

type LimitClass = 'ingest' | 'login' | 'api';

export const LOGIN_ROUTE = '/api/v1/auth/login';

function limitClass(request: FastifyRequest): LimitClass | undefined {
  const route = request.routeOptions.url ?? '';
  if (!route.startsWith('/api/v1/')) return undefined;
  if (route === LOGIN_ROUTE) return 'login';
  if (route === '/api/v1/ingest' || route.startsWith('/api/v1/ingest/')) return 'ingest';
  return 'api';
}

/**
 * Who a request counts against: the authenticated caller (the limits run after auth resolved it, in preHandler), else
 * the client address. Keying on a token id before it is verified would let a flood of invented ids each get a fresh
 * window; keying on the verified caller cannot be gamed that way.
 */
function principal(request: FastifyRequest): string {
  const caller = request.caller;
  return caller ? `${caller.kind}:${caller.id}` : `ip:${request.ip}`;
}

/** The configured limits of the verified caller, when it has its own (`token:<public id>` / `user:<login>`). */
function callerLimits(request: FastifyRequest, limits: RateLimits): CallerRateLimits | undefined {
  const caller = request.caller;
  if (!caller || !limits.callers) return undefined;
  const key =
    caller.kind === 'token' ? `token:${caller.publicId ?? ''}` : caller.kind === 'user' ? `user:${caller.name}` : '';
  return Object.hasOwn(limits.callers, key) ? limits.callers[key] : undefined;
}

function tooMany(retryAfterSeconds: number, what: string): ProblemError {
  return new ProblemError(
    429,
    'Too Many Requests',
    `rate limit exceeded for ${what}; retry after ${retryAfterSeconds} s`,
    { retryAfter: retryAfterSeconds },
  );
}

export async function registerRateLimits(app: FastifyInstance, limits: RateLimits): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    // After the onRequest auth hook, so that limits count per verified caller (see principal()).
    hook: 'preHandler',
    timeWindow: limits.windowMs,
    // Only /api/v1 is limited: health probes and static files are not.
    allowList: (request) => limitClass(request) === undefined,
    keyGenerator: (request) => {
      const cls = limitClass(request);
      // Login is limited per address here; per login name in the handler (the name is in the body).
      return cls === 'login' ? `login:ip:${request.ip}` : `${cls}:${principal(request)}`;
    },
    max: (request) => {
      const cls = limitClass(request);
      if (cls === 'login') return limits.loginPerMinute;
      const own = callerLimits(request, limits);
      return cls === 'ingest'
        ? (own?.ingestPerMinute ?? limits.ingestPerMinute)
        : (own?.readsPerMinute ?? limits.readsPerMinute);
    },
    errorResponseBuilder: (request, context) => {
      const cls = limitClass(request);
      const what = cls === 'login' ? 'logins from this address' : cls === 'ingest' ? 'ingest' : 'API requests';
      return tooMany(Math.max(1, Math.ceil(context.ttl / 1000)), what);
    },
  });
}

/**
 * The per-login-name window for login attempts: a fixed window per name, pruned as it goes so that a flood of
 * invented names cannot grow it without bound.
 */
export class LoginAttempts {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Counts an attempt for `login` at `now`; the seconds to wait when the name has used up its window. */
  take(login: string, now: number): number | undefined {
    const key = login.toLowerCase();
    if (this.windows.size > 10_000) {
      for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    }
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > this.perWindow ? Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) : undefined;
  }
}

export function loginTooMany(retryAfterSeconds: number): ProblemError {
  return tooMany(retryAfterSeconds, 'this login');
}
