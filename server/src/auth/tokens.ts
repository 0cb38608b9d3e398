// API tokens: `lading_<10-char public id>_<32-char base62 secret>` (SERVER.md section 2). The public id finds the row;
// the secret is stored only as HMAC-SHA256(pepper, secret) and compared in constant time. A slow KDF adds nothing
// for 190 random bits, and the `lading_` prefix lets secret scanners recognise a leaked token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { repositoryPatternProblem } from './patterns.js';
import { isScope, type Scope, sortedScopes } from './scopes.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const PUBLIC_ID_LENGTH = 10;
export const SECRET_LENGTH = 32;
const TOKEN_SHAPE = /^lading_([0-9A-Za-z]{10})_([0-9A-Za-z]{32})$/;

const DAY_MS = 86_400_000;
/** Every token expires within a year (DT #6077); tokens owned by one person within 90 days. */
export const MAX_TOKEN_LIFETIME_MS = 365 * DAY_MS;
export const MAX_USER_TOKEN_LIFETIME_MS = 90 * DAY_MS;
export const MAX_TOKEN_NAME_LENGTH = 100;

/** `length` base62 characters from the CSPRNG, by rejection sampling so that every character is equally likely. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes at or above it would favour the first characters.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export interface GeneratedToken {
  publicId: string;
  secret: string;
  /** The whole credential, shown once. */
  token: string;
}

export function generateApiToken(): GeneratedToken {
  const publicId = randomBase62(PUBLIC_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  return { publicId, secret, token: `lading_${publicId}_${secret}` };
}

/** The parts of a well-formed token, or undefined (anything else is not a Lading token). */
export function parseApiToken(text: string): { publicId: string; secret: string } | undefined {
  const m = TOKEN_SHAPE.exec(text);
  return m ? { publicId: m[1]!, secret: m[2]! } : undefined;
}

/** The display prefix of a token once its secret is gone: enough to recognise it in a list. */
export function tokenPrefix(publicId: string): string {
  return `lading_${publicId}_`;
}

/** HMAC-SHA256(pepper, secret), hex: the only form in which a token secret is stored. */
export function tokenSecretHmac(pepper: Uint8Array, secret: string): string {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest('hex');
}

/** Constant-time check of a presented secret against the stored HMAC. */
export function tokenSecretMatches(pepper: Uint8Array, secret: string, storedHmacHex: string): boolean {
  const presented = Buffer.from(tokenSecretHmac(pepper, secret), 'hex');
  const stored = Buffer.from(storedHmacHex, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

export interface TokenRequest {
  name: unknown;
  scopes: unknown;
  repositoryPattern: unknown;
  /** RFC 3339 time or epoch ms. */
  expiresAt: unknown;
}

export interface ValidTokenRequest {
  name: string;
  scopes: Scope[];
  repositoryPattern: string;
  expiresAt: number;
}

/**
 * A token request checked and normalised, or the one-line reason it is refused. `owner` decides the longest
 * lifetime: a user's own token lives at most 90 days, a team's at most 365.
 */
export function validateTokenRequest(
  request: TokenRequest,
  owner: 'user' | 'team',
  now: number,
): { ok: true; value: ValidTokenRequest } | { ok: false; field: string; reason: string } {
  const { name, scopes, repositoryPattern, expiresAt } = request;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > MAX_TOKEN_NAME_LENGTH) {
    return {
      ok: false,
      field: 'name',
      reason: `name must be a non-empty string of at most ${MAX_TOKEN_NAME_LENGTH} characters`,
    };
  }
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length > 4 || !scopes.every(isScope)) {
    return { ok: false, field: 'scopes', reason: 'scopes must be a non-empty list of ingest, read, triage, admin' };
  }
  if (typeof repositoryPattern !== 'string') {
    return {
      ok: false,
      field: 'repositoryPattern',
      reason: 'repositoryPattern must be a string such as ghcr.io/acme/*',
    };
  }
  const patternProblem = repositoryPatternProblem(repositoryPattern);
  if (patternProblem) return { ok: false, field: 'repositoryPattern', reason: patternProblem };
  const expires =
    typeof expiresAt === 'number' ? expiresAt : typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (!Number.isFinite(expires)) {
    return { ok: false, field: 'expiresAt', reason: 'expiresAt is required: every token expires (an RFC 3339 time)' };
  }
  if (expires <= now) return { ok: false, field: 'expiresAt', reason: 'expiresAt is in the past' };
  const longest = owner === 'user' ? MAX_USER_TOKEN_LIFETIME_MS : MAX_TOKEN_LIFETIME_MS;
  if (expires - now > longest) {
    return {
      ok: false,
      field: 'expiresAt',
      reason: `expiresAt is more than ${longest / DAY_MS} days away (the most for a ${owner}-owned token)`,
    };
  }
  return {
    ok: true,
    value: {
      name: name.trim(),
      scopes: sortedScopes(scopes),
      repositoryPattern: repositoryPattern.toLowerCase(),
      expiresAt: expires,
    },
  };
}
