// Browser sessions (SERVER.md section 7): server-side rows behind the `__Host-lading_session` cookie, at most 12 h
// long and 2 h idle, a fresh id at every login, the id stored only as an HMAC. Cookie-authenticated unsafe requests
// need the per-session `X-CSRF-Token` and a same-origin `Origin`; Bearer requests carry no ambient credential and are
// exempt.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * `__Host-` makes browsers refuse the cookie unless it is Secure, has Path=/ and no Domain, so no sibling subdomain
 * can plant or overwrite it. Browsers treat http://localhost and http://127.0.0.1 as secure contexts and accept the
 * Secure cookie there too; any other plain-http deployment must put TLS in front (the cookie is never sent over plain
 * http to a non-loopback host). Non-browser clients (the tests) just echo the cookie back.
 */
export const SESSION_COOKIE = '__Host-lading_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_MAX_AGE_MS = 12 * 3_600_000;
export const SESSION_IDLE_MS = 2 * 3_600_000;
/** last_seen_at is written at most this often, so that reads do not each cost a write. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

const SESSION_ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A new session id: 256 random bits, base64url. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function isWellFormedSessionId(value: string): boolean {
  return SESSION_ID_SHAPE.test(value);
}

export function sessionIdHash(sessionPepper: Uint8Array, sessionId: string): string {
  return createHmac('sha256', sessionPepper).update(sessionId, 'utf8').digest('hex');
}

/** The session's CSRF token: derived, so it can be handed out again (GET /auth/me) without storing it in clear. */
export function csrfTokenFor(csrfKey: Uint8Array, sessionId: string): string {
  return createHmac('sha256', csrfKey).update(sessionId, 'utf8').digest('base64url');
}

export function csrfTokenMatches(csrfKey: Uint8Array, sessionId: string, presented: string | undefined): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(csrfKey, sessionId), 'utf8');
  const given = Buffer.from(presented, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface SessionTimes {
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export function sessionTimesAtLogin(now: number): SessionTimes {
  return { createdAt: now, lastSeenAt: now, expiresAt: now + SESSION_MAX_AGE_MS };
}

/** Whether a session is still usable at `now`: before its absolute end and within the idle window. */
export function sessionIsLive(times: SessionTimes, now: number): boolean {
  return now < times.expiresAt && now - times.lastSeenAt < SESSION_IDLE_MS;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isUnsafeMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method.toUpperCase());
}

/**
 * Whether the request's `Origin` is the server's own. `expectedOrigins` are the configured public origins; when none
 * is configured the origin is the request's own scheme and Host (what a browser on this server sends).
 */
export function originIsSameOrigin(
  origin: string | undefined,
  requestHost: string | undefined,
  requestProtocol: string,
  expectedOrigins: readonly string[],
): boolean {
  if (!origin || origin === 'null') return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const normalised = parsed.origin;
  if (expectedOrigins.length > 0) return expectedOrigins.some((o) => safeOrigin(o) === normalised);
  if (!requestHost) return false;
  return safeOrigin(`${requestProtocol}://${requestHost}`) === normalised;
}

function safeOrigin(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

/** Parse one cookie out of a Cookie header without a dependency on the cookie plugin's registration order. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value for a session (or, with an empty id and maxAge 0, its removal). */
export function sessionCookie(sessionId: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${sessionId}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`;
}
