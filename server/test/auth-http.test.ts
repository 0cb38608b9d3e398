// Authentication over HTTP on both engines: password login with server-side sessions (rotation, logout, idle and
// absolute expiry by an injected clock), CSRF for cookie-authenticated writes, API tokens minted once and listed by
// prefix, the admin endpoints, and rate limits answering 429 with Retry-After.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiToken } from '../src/auth/index.js';
import { SESSION_IDLE_MS, SESSION_MAX_AGE_MS } from '../src/auth/sessions.js';
import { randomBase62 } from '../src/auth/tokens.js';
import { type AuthTestServer, call, cookieOf, startAuthServer, T0 } from './helpers/auth-server.js';
import { forEachDatabase } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const DAY = 86_400_000;

forEachDatabase((kind) => {
  describe('sessions, CSRF and tokens', () => {
    let s: AuthTestServer;
    before(async () => {
      // Many logins follow each other here: the login limit has its own test below.
      s = await startAuthServer(kind, { rateLimits: { loginPerMinute: 1000 } });
      const admin = { token: s.adminToken };
      assert.equal(
        (await call(s, 'POST', '/api/v1/users', { ...admin, body: { login: 'ana', password: PASSWORD } })).status,
        201,
      );
      assert.equal((await call(s, 'POST', '/api/v1/teams', { ...admin, body: { name: 'payments' } })).status, 201);
      assert.equal(
        (
          await call(s, 'POST', '/api/v1/teams/payments/grants', {
            ...admin,
            body: { repositoryPattern: 'ghcr.io/acme/payments/*' },
          })
        ).status,
        201,
      );
      assert.equal(
        (
          await call(s, 'POST', '/api/v1/teams/payments/members', {
            ...admin,
            body: { login: 'ana', role: 'maintainer' },
          })
        ).status,
        201,
      );
    });
    after(() => s.close());

    async function login(extra: { cookie?: string } = {}) {
      const res = await call(s, 'POST', '/api/v1/auth/login', {
        body: { login: 'ana', password: PASSWORD },
        ...extra,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const set = res.headers.get('set-cookie') ?? '';
      return { res, set, cookie: cookieOf(res.headers)!, csrf: res.body.csrfToken as string };
    }

    it('log in with a password into a __Host- cookie (Secure, HttpOnly, SameSite=Lax) and answer /auth/me', async () => {
      s.clock.ms = T0;
      const wrong = await call(s, 'POST', '/api/v1/auth/login', {
        body: { login: 'ana', password: 'not the password' },
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(wrong.body.detail, 'the login name or password is wrong');
      const nobody = await call(s, 'POST', '/api/v1/auth/login', { body: { login: 'nobody', password: PASSWORD } });
      assert.deepEqual(
        [nobody.status, nobody.body.detail],
        [401, wrong.body.detail],
        'an unknown login reads the same',
      );
      const { set, cookie, csrf, res } = await login();
      assert.match(
        set,
        /^__Host-lading_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Lax$/,
      );
      assert.equal(res.body.user.login, 'ana');
      const me = await call(s, 'GET', '/api/v1/auth/me', { cookie });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.deepEqual(
        { kind: me.body.kind, name: me.body.name, scopes: me.body.scopes, csrf: me.body.csrfToken },
        { kind: 'user', name: 'ana', scopes: ['ingest', 'read', 'triage'], csrf },
      );
      assert.deepEqual(me.body.grants, [
        { repositoryPattern: 'ghcr.io/acme/payments/*', scopes: ['ingest', 'read', 'triage'] },
      ]);
    });

    it('rotate the session id at login and end the old one; logout ends the session', async () => {
      s.clock.ms = T0;
      const first = await login();
      const second = await login({ cookie: first.cookie });
      assert.notEqual(second.cookie, first.cookie);
      assert.equal((await call(s, 'GET', '/api/v1/auth/me', { cookie: first.cookie })).status, 401);
      assert.equal((await call(s, 'GET', '/api/v1/auth/me', { cookie: second.cookie })).status, 200);
      const out = await call(s, 'POST', '/api/v1/auth/logout', {
        cookie: second.cookie,
        csrf: second.csrf,
        origin: s.origin,
      });
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie') ?? '', /^__Host-lading_session=; Path=\/; Max-Age=0;/);
      const after = await call(s, 'GET', '/api/v1/auth/me', { cookie: second.cookie });
      assert.deepEqual([after.status, after.body.detail], [401, 'the session has ended; log in again']);
    });

    it('end a session after 2 hours idle and 12 hours in all', async () => {
      s.clock.ms = T0;
      const idle = await login();
      s.clock.ms = T0 + SESSION_IDLE_MS - 1000;
      assert.equal((await call(s, 'GET', '/api/v1/auth/me', { cookie: idle.cookie })).status, 200);
      s.clock.ms += SESSION_IDLE_MS;
      assert.equal((await call(s, 'GET', '/api/v1/auth/me', { cookie: idle.cookie })).status, 401);

      s.clock.ms = T0;
      const busy = await login();
      for (let h = 1; h < 12; h++) {
        s.clock.ms = T0 + h * 3_600_000;
        assert.equal((await call(s, 'GET', '/api/v1/auth/me', { cookie: busy.cookie })).status, 200, `hour ${h}`);
      }
      s.clock.ms = T0 + SESSION_MAX_AGE_MS;
      assert.equal((await call(s, 'GET', '/api/v1/auth/me', { cookie: busy.cookie })).status, 401);
    });

    it('refuse a cookie-authenticated write without X-CSRF-Token or from a foreign Origin; Bearer needs neither', async () => {
      s.clock.ms = T0;
      const { cookie, csrf } = await login();
      const body = {
        name: 'mine',
        scopes: ['read'],
        repositoryPattern: 'ghcr.io/acme/payments/api',
        expiresAt: new Date(T0 + DAY).toISOString(),
      };
      const noHeader = await call(s, 'POST', '/api/v1/tokens', { cookie, origin: s.origin, body });
      assert.deepEqual(
        [noHeader.status, noHeader.body.detail],
        [403, "a cookie-authenticated request needs the session's X-CSRF-Token header"],
      );
      const wrongHeader = await call(s, 'POST', '/api/v1/tokens', {
        cookie,
        csrf: `${csrf.slice(1)}A`,
        origin: s.origin,
        body,
      });
      assert.equal(wrongHeader.status, 403);
      const foreign = await call(s, 'POST', '/api/v1/tokens', {
        cookie,
        csrf,
        origin: 'https://evil.example',
        body,
      });
      assert.deepEqual(
        [foreign.status, foreign.body.detail],
        [403, "a cookie-authenticated request must come from this server's own origin (Origin header)"],
      );
      const noOrigin = await call(s, 'POST', '/api/v1/tokens', { cookie, csrf, body });
      assert.equal(noOrigin.status, 403);
      const logout = await call(s, 'POST', '/api/v1/auth/logout', { cookie, origin: s.origin });
      assert.equal(logout.status, 403, 'logout is a write too');
      const ok = await call(s, 'POST', '/api/v1/tokens', { cookie, csrf, origin: s.origin, body });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const bearer = await call(s, 'POST', '/api/v1/tokens', {
        token: s.adminToken,
        body: { ...body, user: 'ana' },
      });
      assert.equal(bearer.status, 201, JSON.stringify(bearer.body));
      const loginFromElsewhere = await call(s, 'POST', '/api/v1/auth/login', {
        origin: 'https://evil.example',
        body: { login: 'ana', password: PASSWORD },
      });
      assert.equal(loginFromElsewhere.status, 403, 'login CSRF');
    });

    it('show a token once, list it by prefix only, and stop accepting it once revoked', async () => {
      s.clock.ms = T0;
      const { cookie, csrf } = await login();
      const made = await call(s, 'POST', '/api/v1/tokens', {
        cookie,
        csrf,
        origin: s.origin,
        body: {
          name: 'ci',
          team: 'payments',
          scopes: ['ingest', 'read'],
          repositoryPattern: 'ghcr.io/acme/payments/*',
          expiresAt: T0 + 300 * DAY,
        },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.match(made.body.token, /^lading_[0-9A-Za-z]{10}_[0-9A-Za-z]{32}$/);
      assert.equal(made.body.prefix, made.body.token.slice(0, 18));
      assert.deepEqual(made.body.owner, { team: 'payments' });
      assert.equal(made.headers.get('cache-control'), 'no-store');
      const list = await call(s, 'GET', '/api/v1/tokens', { cookie });
      assert.equal(list.status, 200);
      const listed = list.body.items.find((t: { id: string }) => t.id === made.body.id);
      assert.equal(listed.prefix, made.body.prefix);
      assert.ok(!JSON.stringify(list.body).includes(made.body.token.slice(18)), 'the secret is never listed');
      const me = await call(s, 'GET', '/api/v1/auth/me', { token: made.body.token });
      assert.deepEqual([me.status, me.body.kind, me.body.scopes], [200, 'token', ['ingest', 'read']]);
      const listedAgain = (await call(s, 'GET', '/api/v1/tokens', { cookie })).body.items.find(
        (t: { id: string }) => t.id === made.body.id,
      );
      assert.equal(listedAgain.lastUsedAt, new Date(T0).toISOString());
      assert.equal(listedAgain.state, 'active');

      assert.equal(
        (await call(s, 'DELETE', `/api/v1/tokens/${made.body.id}`, { token: made.body.token })).status,
        404,
        'a token cannot see tokens',
      );
      assert.equal(
        (await call(s, 'DELETE', `/api/v1/tokens/${made.body.id}`, { cookie, csrf, origin: s.origin })).status,
        204,
      );
      const refused = await call(s, 'GET', '/api/v1/auth/me', { token: made.body.token });
      assert.deepEqual([refused.status, refused.body.detail], [401, 'the API token has been revoked']);
      assert.equal(
        (await call(s, 'GET', '/api/v1/tokens', { token: s.adminToken })).body.items.find(
          (t: { id: string }) => t.id === made.body.id,
        ).state,
        'revoked',
      );
    });

    it('refuse tokens that would outlive the limits or exceed their owner', async () => {
      s.clock.ms = T0;
      const { cookie, csrf } = await login();
      const post = (body: Record<string, unknown>) =>
        call(s, 'POST', '/api/v1/tokens', { cookie, csrf, origin: s.origin, body });
      const base = { name: 'x', scopes: ['read'], repositoryPattern: 'ghcr.io/acme/payments/*' };
      const noExpiry = await post(base);
      assert.deepEqual([noExpiry.status, noExpiry.body.field], [422, 'expiresAt']);
      assert.equal((await post({ ...base, expiresAt: T0 + 91 * DAY })).status, 422, 'user tokens live at most 90 days');
      assert.equal(
        (await post({ ...base, team: 'payments', expiresAt: T0 + 366 * DAY })).status,
        422,
        'team tokens at most 365',
      );
      assert.equal(
        (await post({ ...base, repositoryPattern: 'ghcr.io/acme/*', expiresAt: T0 + DAY })).status,
        403,
        'wider than her grants',
      );
      assert.equal((await post({ ...base, scopes: ['admin'], expiresAt: T0 + DAY })).status, 403, 'not an admin');
      assert.equal((await post({ ...base, team: 'nosuch', expiresAt: T0 + DAY })).status, 404);
      const asToken = await call(s, 'POST', '/api/v1/tokens', {
        token: (await post({ ...base, expiresAt: T0 + DAY })).body.token,
        body: { ...base, expiresAt: T0 + DAY },
      });
      assert.deepEqual(
        [asToken.status, asToken.body.detail],
        [403, 'an API token cannot mint tokens; log in, or use an admin token'],
      );
      const expiring = await post({ ...base, expiresAt: T0 + DAY });
      s.clock.ms = T0 + DAY;
      const expired = await call(s, 'GET', '/api/v1/auth/me', { token: expiring.body.token });
      assert.deepEqual([expired.status, expired.body.detail], [401, 'the API token has expired']);
    });

    it('keep the admin endpoints for admins, and answer malformed input with a problem', async () => {
      s.clock.ms = T0;
      const { cookie, csrf } = await login();
      const asAna = await call(s, 'POST', '/api/v1/teams', {
        cookie,
        csrf,
        origin: s.origin,
        body: { name: 'mine' },
      });
      assert.deepEqual([asAna.status, asAna.body.detail], [403, 'this operation needs the admin scope']);
      const admin = { token: s.adminToken };
      assert.equal((await call(s, 'POST', '/api/v1/teams', { ...admin, body: { name: 'payments' } })).status, 409);
      assert.equal((await call(s, 'POST', '/api/v1/users', { ...admin, body: { login: 'ana' } })).status, 409);
      assert.equal(
        (await call(s, 'POST', '/api/v1/users', { ...admin, body: { login: 'bo', password: 'short' } })).status,
        422,
      );
      assert.equal(
        (
          await call(s, 'POST', '/api/v1/teams/payments/members', {
            ...admin,
            body: { login: 'ana', role: 'owner' },
          })
        ).status,
        422,
      );
      assert.equal(
        (await call(s, 'POST', '/api/v1/teams/nosuch/grants', { ...admin, body: { repositoryPattern: 'x/*' } })).status,
        404,
      );
      const notJson = await call(s, 'POST', '/api/v1/teams', {
        ...admin,
        headers: { 'content-type': 'application/json' },
        body: undefined,
      });
      assert.equal(notJson.status, 400);
      const garbage = await s.api.request('POST', '/api/v1/auth/login', {
        token: null,
        headers: { 'content-type': 'application/json' },
        body: '{"login":',
      });
      assert.equal(garbage.status, 400);
      assert.equal(garbage.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const basic = await call(s, 'GET', '/api/v1/auth/me', { headers: { authorization: 'Basic YTpi' } });
      assert.deepEqual(
        [basic.status, basic.body.detail],
        [401, 'the Authorization header must be "Bearer lading_<id>_<secret>"'],
      );
    });
  });

  describe('rate limits', () => {
    let s: AuthTestServer;
    before(async () => {
      s = await startAuthServer(kind, { rateLimits: { loginPerMinute: 3, readsPerMinute: 5 } });
    });
    after(() => s.close());

    it('answer 429 with Retry-After and a problem document once a window is used up', async () => {
      for (let i = 0; i < 5; i++)
        assert.equal((await call(s, 'GET', '/api/v1/auth/me', { token: s.adminToken })).status, 200);
      const limited = await call(s, 'GET', '/api/v1/auth/me', { token: s.adminToken });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      assert.match(limited.body.detail, /^rate limit exceeded for API requests; retry after \d+ s$/);
      assert.equal((await fetch(`${s.url}/healthz`)).status !== 429, true, 'health probes are not limited');
      // Windows are per verified caller: another token still has its own; invented tokens share their address's.
      const other = await createApiToken(s.ctx, {
        name: 'other',
        scopes: ['read'],
        repositoryPattern: '*',
        expiresAt: T0 + DAY,
        ownerUserId: s.admin.userId,
      });
      assert.equal((await call(s, 'GET', '/api/v1/auth/me', { token: other.token })).status, 200);
      const invented = () => `lading_${randomBase62(10)}_${randomBase62(32)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await call(s, 'GET', '/api/v1/auth/me', { token: invented() })).status);
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.deepEqual(statuses.slice(5), [429, 429]);
    });

    it('limit logins per address and per login name', async () => {
      const attempt = (login: string, ip?: string) =>
        call(s, 'POST', '/api/v1/auth/login', {
          body: { login, password: 'wrong password here' },
          ...(ip ? {} : {}),
        });
      for (let i = 0; i < 3; i++) assert.equal((await attempt(`user${i}`)).status, 401);
      const limited = await attempt('user9');
      assert.equal(limited.status, 429);
      assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    });

    it('limit one login name whatever the address (checked in the handler)', async () => {
      const { LoginAttempts } = await import('../src/auth/rate-limits.js');
      const attempts = new LoginAttempts(2, 60_000);
      assert.equal(attempts.take('ana', T0), undefined);
      assert.equal(attempts.take('ANA', T0 + 1), undefined);
      assert.equal(attempts.take('ana', T0 + 30_000), 30);
      assert.equal(attempts.take('bo', T0 + 30_000), undefined);
      assert.equal(attempts.take('ana', T0 + 60_000), undefined, 'a new window');
    });
  });
});
