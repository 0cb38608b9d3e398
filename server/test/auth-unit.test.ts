// The pure parts of authentication: token format and HMAC, passwords, session times, CSRF, patterns, grants.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  callerCoversPattern,
  callerMayAccess,
  narrowToScope,
  teamOwner,
  tokenCaller,
  userCaller,
} from '../src/auth/caller.js';
import { requireScope } from '../src/auth/index.js';
import { deriveAuthKeys } from '../src/auth/keys.js';
import { hashPassword, passwordProblem, verifyPassword } from '../src/auth/passwords.js';
import { repositoryPatternCovers, repositoryPatternMatches, repositoryPatternProblem } from '../src/auth/patterns.js';
import {
  csrfTokenFor,
  csrfTokenMatches,
  newSessionId,
  originIsSameOrigin,
  readCookie,
  SESSION_IDLE_MS,
  SESSION_MAX_AGE_MS,
  sessionIdHash,
  sessionIsLive,
  sessionTimesAtLogin,
} from '../src/auth/sessions.js';
import {
  generateApiToken,
  MAX_TOKEN_LIFETIME_MS,
  MAX_USER_TOKEN_LIFETIME_MS,
  parseApiToken,
  randomBase62,
  tokenSecretHmac,
  tokenSecretMatches,
  validateTokenRequest,
} from '../src/auth/tokens.js';

const KEYS = deriveAuthKeys(new Uint8Array(32).fill(7));
const NOW = Date.UTC(2026, 11, 6);
const DAY = 86_400_000;

describe('API tokens', () => {
  it('have the documented shape and round-trip through parse', () => {
    const t = generateApiToken();
    assert.match(t.token, /^lading_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/);
    assert.deepEqual(parseApiToken(t.token), { publicId: t.publicId, secret: t.secret });
    assert.notEqual(generateApiToken().token, t.token);
  });
  it('refuse anything not exactly a token', () => {
    const t = generateApiToken().token;
    for (const bad of [
      '',
      'lading_',
      t.slice(0, -1),
      `${t}x`,
      t.replace('lading_', 'ladin_'),
      ` ${t}`,
      t.replace(/_([^_]*)$/, '-$1'),
    ]) {
      assert.equal(parseApiToken(bad), undefined, bad);
    }
  });
  it('use every base62 character about equally (rejection sampling, no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 62);
    for (const n of counts.values()) assert.ok(n > 800 && n < 1200, `count ${n}`);
  });
  it('are checked by HMAC in constant time, and the HMAC depends on the pepper', () => {
    const { secret } = generateApiToken();
    const stored = tokenSecretHmac(KEYS.tokenPepper, secret);
    assert.match(stored, /^[0-9a-f]{64}$/);
    assert.ok(!stored.includes(secret));
    assert.equal(tokenSecretMatches(KEYS.tokenPepper, secret, stored), true);
    assert.equal(tokenSecretMatches(KEYS.tokenPepper, `${secret.slice(0, -1)}x`, stored), false);
    assert.equal(tokenSecretMatches(deriveAuthKeys(new Uint8Array(32).fill(8)).tokenPepper, secret, stored), false);
    assert.equal(tokenSecretMatches(KEYS.tokenPepper, secret, 'abcd'), false);
  });
  it('always expire: at most 365 days, 90 for a user-owned token', () => {
    const base = { name: 'ci', scopes: ['ingest'], repositoryPattern: 'ghcr.io/acme/*' };
    assert.equal(validateTokenRequest({ ...base, expiresAt: undefined }, 'team', NOW).ok, false);
    assert.equal(validateTokenRequest({ ...base, expiresAt: NOW - 1 }, 'team', NOW).ok, false);
    assert.equal(validateTokenRequest({ ...base, expiresAt: NOW + MAX_TOKEN_LIFETIME_MS }, 'team', NOW).ok, true);
    assert.equal(validateTokenRequest({ ...base, expiresAt: NOW + MAX_TOKEN_LIFETIME_MS + 1 }, 'team', NOW).ok, false);
    assert.equal(validateTokenRequest({ ...base, expiresAt: NOW + MAX_USER_TOKEN_LIFETIME_MS }, 'user', NOW).ok, true);
    const r = validateTokenRequest({ ...base, expiresAt: NOW + 91 * DAY }, 'user', NOW);
    assert.deepEqual(r, {
      ok: false,
      field: 'expiresAt',
      reason: 'expiresAt is more than 90 days away (the most for a user-owned token)',
    });
    const ok = validateTokenRequest(
      { ...base, scopes: ['read', 'ingest'], expiresAt: new Date(NOW + DAY).toISOString() },
      'user',
      NOW,
    );
    assert.deepEqual(ok, {
      ok: true,
      value: { name: 'ci', scopes: ['ingest', 'read'], repositoryPattern: 'ghcr.io/acme/*', expiresAt: NOW + DAY },
    });
  });
  it('refuse unknown scopes, empty names and bad patterns with the field named', () => {
    const base = { name: 'ci', scopes: ['read'], repositoryPattern: '*', expiresAt: NOW + DAY };
    assert.equal(
      (validateTokenRequest({ ...base, scopes: ['root'] }, 'team', NOW) as { field: string }).field,
      'scopes',
    );
    assert.equal((validateTokenRequest({ ...base, scopes: [] }, 'team', NOW) as { field: string }).field, 'scopes');
    assert.equal((validateTokenRequest({ ...base, name: ' ' }, 'team', NOW) as { field: string }).field, 'name');
    assert.equal(
      (validateTokenRequest({ ...base, repositoryPattern: 'a b' }, 'team', NOW) as { field: string }).field,
      'repositoryPattern',
    );
    assert.equal(
      (validateTokenRequest({ ...base, repositoryPattern: {} }, 'team', NOW) as { field: string }).field,
      'repositoryPattern',
    );
  });
});

describe('passwords', () => {
  it('are stored as a self-describing scrypt string and verified', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.match(stored, /^\$scrypt\$ln=16,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.ok(!stored.includes('correct horse'));
    assert.equal(await verifyPassword('correct horse battery', stored), true);
    assert.equal(await verifyPassword('correct horse batterY', stored), false);
    assert.notEqual(await hashPassword('correct horse battery'), stored, 'salted');
  });
  it('never match a malformed stored string or an oversized password', async () => {
    for (const bad of [
      '',
      'plain',
      '$scrypt$ln=30,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==',
      '$scrypt$ln=16,r=8,p=1$AAAA$AA==',
    ]) {
      assert.equal(await verifyPassword('x', bad), false, bad);
    }
    assert.equal(await verifyPassword('x'.repeat(2000), '$scrypt$ln=16,r=8,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA=='), false);
    assert.equal(passwordProblem('short'), 'password must be at least 12 characters');
    assert.equal(passwordProblem(42), 'password must be a string');
    assert.equal(passwordProblem('long enough password'), undefined);
  });
});

describe('sessions and CSRF', () => {
  it('end 12 hours after login and after 2 hours idle', () => {
    const t = sessionTimesAtLogin(NOW);
    assert.equal(sessionIsLive(t, NOW + SESSION_IDLE_MS - 1), true);
    assert.equal(sessionIsLive(t, NOW + SESSION_IDLE_MS), false);
    const active = { ...t, lastSeenAt: NOW + SESSION_MAX_AGE_MS - 1000 };
    assert.equal(sessionIsLive(active, NOW + SESSION_MAX_AGE_MS - 1), true);
    assert.equal(sessionIsLive(active, NOW + SESSION_MAX_AGE_MS), false);
  });
  it('store ids only as a keyed hash, and derive a CSRF token per session', () => {
    const id = newSessionId();
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!sessionIdHash(KEYS.sessionPepper, id).includes(id));
    const csrf = csrfTokenFor(KEYS.csrfKey, id);
    assert.equal(csrfTokenMatches(KEYS.csrfKey, id, csrf), true);
    assert.equal(csrfTokenMatches(KEYS.csrfKey, newSessionId(), csrf), false);
    assert.equal(csrfTokenMatches(KEYS.csrfKey, id, undefined), false);
    assert.equal(csrfTokenMatches(KEYS.csrfKey, id, `${csrf}x`), false);
  });
  it('accept only a same-origin Origin', () => {
    assert.equal(originIsSameOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', 'http', []), true);
    assert.equal(originIsSameOrigin('http://evil.example', '127.0.0.1:8080', 'http', []), false);
    assert.equal(originIsSameOrigin('https://127.0.0.1:8080', '127.0.0.1:8080', 'http', []), false);
    assert.equal(originIsSameOrigin(undefined, '127.0.0.1:8080', 'http', []), false);
    assert.equal(originIsSameOrigin('null', '127.0.0.1:8080', 'http', []), false);
    assert.equal(
      originIsSameOrigin('https://lading.acme.dev', '10.0.0.1:8080', 'http', ['https://lading.acme.dev']),
      true,
    );
    assert.equal(
      originIsSameOrigin('http://10.0.0.1:8080', '10.0.0.1:8080', 'http', ['https://lading.acme.dev']),
      false,
    );
  });
  it('read one cookie from a header', () => {
    assert.equal(readCookie('a=1; __Host-lading_session=abc; b=2', '__Host-lading_session'), 'abc');
    assert.equal(readCookie('x__Host-lading_session=abc', '__Host-lading_session'), undefined);
    assert.equal(readCookie(undefined, 'a'), undefined);
  });
});

describe('repository patterns and grants', () => {
  it('match globs where * crosses slashes, case-insensitively', () => {
    assert.equal(repositoryPatternMatches('ghcr.io/acme/*', 'ghcr.io/acme/payments/api'), true);
    assert.equal(repositoryPatternMatches('ghcr.io/acme/*', 'ghcr.io/acmeco/api'), false);
    assert.equal(repositoryPatternMatches('*', 'docker.io/library/nginx'), true);
    assert.equal(repositoryPatternMatches('docker.io/library/nginx', 'docker.io/library/nginx2'), false);
    assert.equal(repositoryPatternMatches('GHCR.io/*/api', 'ghcr.io/acme/api'), true);
    assert.equal(
      repositoryPatternMatches(`${'*a'.repeat(40)}b`, 'a'.repeat(200)),
      false,
      'no exponential backtracking',
    );
    assert.equal(repositoryPatternProblem(''), 'the repository pattern is empty');
    assert.equal(repositoryPatternProblem('ghcr.io/acme/*'), undefined);
  });
  it('tell whether one pattern lies inside another', () => {
    assert.equal(repositoryPatternCovers('ghcr.io/acme/*', 'ghcr.io/acme/payments/*'), true);
    assert.equal(repositoryPatternCovers('ghcr.io/acme/payments/*', 'ghcr.io/acme/*'), false);
    assert.equal(repositoryPatternCovers('*', '*'), true);
    assert.equal(repositoryPatternCovers('ghcr.io/acme/api', '*'), false);
  });
  it('give session users the scopes of their role per team only', () => {
    const u = userCaller({ id: 1, login: 'ana', isAdmin: false }, [
      { role: 'viewer', patterns: ['ghcr.io/a/*'] },
      { role: 'triager', patterns: ['ghcr.io/b/*'] },
    ]);
    assert.equal(callerMayAccess(u, 'ghcr.io/a/x'), true);
    assert.equal(callerMayAccess(u, 'ghcr.io/a/x', 'triage'), false);
    assert.equal(callerMayAccess(u, 'ghcr.io/b/x', 'triage'), true);
    assert.equal(callerMayAccess(u, 'ghcr.io/c/x'), false);
    assert.equal(u.isAdmin, false);
    assert.deepEqual([...u.scopes].sort(), ['read', 'triage']);
  });
  it('narrow a token to its pattern, its scopes and its owner grants', () => {
    const team = teamOwner({ id: 3, name: 'payments' }, ['ghcr.io/acme/payments/*']);
    const t = tokenCaller(
      { id: 9, publicId: 'abcdefghij', name: 'ci', scopes: ['ingest'], repositoryPattern: 'ghcr.io/acme/*' },
      team,
    );
    assert.equal(callerMayAccess(t, 'ghcr.io/acme/payments/api', 'ingest'), true);
    assert.equal(callerMayAccess(t, 'ghcr.io/acme/payments/api', 'read'), false);
    assert.equal(callerMayAccess(t, 'ghcr.io/acme/payments/api'), true, 'without a scope: any scope held there');
    assert.equal(callerMayAccess(t, 'ghcr.io/acme/billing/api', 'ingest'), false);
    const narrow = tokenCaller(
      {
        id: 9,
        publicId: 'abcdefghij',
        name: 'ci',
        scopes: ['read', 'admin'],
        repositoryPattern: 'ghcr.io/acme/payments/api',
      },
      team,
    );
    assert.equal(callerMayAccess(narrow, 'ghcr.io/acme/payments/api'), true);
    assert.equal(callerMayAccess(narrow, 'ghcr.io/acme/payments/web'), false);
    assert.equal(narrow.isAdmin, false, 'a team cannot lend admin');
    const admin = userCaller({ id: 1, login: 'root', isAdmin: true }, []);
    const at = tokenCaller(
      { id: 10, publicId: 'bcdefghijk', name: 'ops', scopes: ['admin', 'read'], repositoryPattern: 'docker.io/*' },
      admin,
    );
    assert.equal(at.isAdmin, true);
    assert.equal(callerMayAccess(at, 'ghcr.io/x/y'), false);
    assert.equal(callerCoversPattern(admin, 'ghcr.io/*', ['admin']), true);
    assert.equal(callerCoversPattern(team, 'ghcr.io/*', ['read']), false);
    assert.equal(callerCoversPattern(team, 'ghcr.io/acme/payments/api', ['ingest', 'read']), true);
  });
  it('narrow a caller to the grants of the scope an operation required', () => {
    const u = userCaller({ id: 1, login: 'ana', isAdmin: false }, [
      { role: 'viewer', patterns: ['ghcr.io/a/*'] },
      { role: 'maintainer', patterns: ['ghcr.io/b/*'] },
    ]);
    assert.equal(callerMayAccess(u, 'ghcr.io/a/x'), true);
    const request = { caller: u, authRefusal: undefined } as unknown as Parameters<typeof requireScope>[0];
    const ingesting = requireScope(request, 'ingest');
    assert.equal(callerMayAccess(ingesting, 'ghcr.io/a/x'), false, 'a viewer of a/ cannot ingest there');
    assert.equal(callerMayAccess(ingesting, 'ghcr.io/b/x'), true);
    assert.deepEqual(ingesting.repositoryPatterns, ['ghcr.io/b/*']);
    assert.deepEqual(requireScope(request, 'read').repositoryPatterns, ['ghcr.io/a/*', 'ghcr.io/b/*']);
    const admin = userCaller({ id: 2, login: 'root', isAdmin: true }, []);
    assert.equal(narrowToScope(admin, 'ingest'), admin);
  });
});
