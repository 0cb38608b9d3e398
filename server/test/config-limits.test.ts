// Rate limits and the browser's public origins come from the configuration (flags over LADING_RATE_LIMITS and
// LADING_PUBLIC_ORIGINS over defaults), are refused in one line when unusable, and take effect over HTTP on both
// engines: a class limit, a caller's own limit beating it, and the CSRF Origin check accepting the configured
// origin (and no longer the request's own Host) for logins and cookie-authenticated writes.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { DEFAULT_RATE_LIMITS } from '../src/auth/index.js';
import { insertUser } from '../src/auth/store.js';
import { ConfigError, parsePublicOrigins, parseRateLimits, resolveConfig } from '../src/config.js';
import { main } from '../src/main.js';
import { call, cookieOf, T0 } from './helpers/auth-server.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple';

test('rate limits: defaults, LADING_RATE_LIMITS, the flag over it, per-caller limits', () => {
  assert.deepEqual(resolveConfig({}, {}, '/x').rateLimits, DEFAULT_RATE_LIMITS);
  const env = { LADING_RATE_LIMITS: 'ingest=600, read=3000' };
  assert.deepEqual(resolveConfig({}, env, '/x').rateLimits, {
    ...DEFAULT_RATE_LIMITS,
    ingestPerMinute: 600,
    readsPerMinute: 3000,
  });
  const flagged = resolveConfig(
    { rateLimits: 'login=10,token:Ab3dEf9hJk.ingest=5000,user:ci-bot.read=9000' },
    env,
    '/x',
  );
  assert.deepEqual(flagged.rateLimits, {
    ...DEFAULT_RATE_LIMITS,
    loginPerMinute: 10,
    callers: { 'token:Ab3dEf9hJk': { ingestPerMinute: 5000 }, 'user:ci-bot': { readsPerMinute: 9000 } },
  });
});

test('rate limits that cannot be used are refused in one line', () => {
  for (const [text, reason] of [
    ['read=0', /^rate limit read must be a whole number of requests per minute from 1 to 10000000, not "0"$/],
    ['ingest=-5', /not "-5"$/],
    ['read=1.5', /not "1.5"$/],
    ['read', /not ""$/],
    ['read=99999999999', /not "99999999999"$/],
    ['writes=5', /^rate limit "writes" is not ingest, read, login, token:<public id>/],
    ['token:abc.login=5', /^rate limit "token:abc.login" is not/],
    ['team:x.read=5', /^rate limit "team:x.read" is not/],
  ] as const) {
    assert.throws(
      () => parseRateLimits(text),
      (err: unknown) => err instanceof ConfigError && reason.test(err.message) && !err.message.includes('\n'),
      text,
    );
  }
});

test('public origins: normalised, deduplicated, anything but an origin refused', () => {
  assert.deepEqual(resolveConfig({}, {}, '/x').publicOrigins, []);
  assert.deepEqual(
    resolveConfig(
      {},
      { LADING_PUBLIC_ORIGINS: 'https://Lading.ACME.dev, https://lading.acme.dev:443,http://10.0.0.5:8080' },
      '/x',
    ).publicOrigins,
    ['https://lading.acme.dev', 'http://10.0.0.5:8080'],
  );
  assert.deepEqual(
    resolveConfig({ publicOrigins: 'https://a.example' }, { LADING_PUBLIC_ORIGINS: 'https://b.example' }, '/x')
      .publicOrigins,
    ['https://a.example'],
  );
  for (const bad of [
    'lading.acme.dev',
    'ftp://x.example',
    'https://x.example/app',
    'https://x.example/',
    'https://u:p@x.example',
    'https://x.example?a=1',
    'https://',
  ]) {
    assert.throws(
      () => parsePublicOrigins(bad),
      (err: unknown) =>
        err instanceof ConfigError && /^public origin ".*" is not http\(s\):\/\/HOST\[:PORT\]/.test(err.message),
      bad,
    );
  }
});

test('lading-server refuses a bad --rate-limits or --public-origin with exit 2 and one line', async () => {
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    errors.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.equal(await main(['migrate', '--rate-limits', 'read=none']), 2);
    assert.equal(await main(['migrate', '--public-origin', 'https://ok.example', '--public-origin', 'nope']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(errors, [
    'lading-server: rate limit read must be a whole number of requests per minute from 1 to 10000000, not "none"\n',
    'lading-server: public origin "nope" is not http(s)://HOST[:PORT] (no path, query or credentials)\n',
  ]);
});

forEachDatabase((kind) => {
  describe('configured limits and origins over HTTP', () => {
    const PUBLIC = 'https://lading.acme.dev';
    let s: TestServer;
    let origin = '';
    before(async () => {
      const resolved = resolveConfig(
        { rateLimits: 'read=3,login=50,user:ana.read=8', publicOrigins: PUBLIC },
        {},
        '/unused',
      );
      s = await startTestServer({
        database: kind,
        clock: new TestClock(T0),
        config: { rateLimits: resolved.rateLimits, publicOrigins: resolved.publicOrigins },
        runJobs: false,
      });
      origin = new URL(s.url).origin;
    });
    after(() => s.close());

    it('a class limit from the configuration, and a caller whose own limit beats it', async () => {
      const admin = { token: s.admin.token };
      // ana (an administrator, so /auth/me answers her) is written straight in: the admin token has 3 requests
      await insertUser(s.ctx.db, { login: 'ana', password: PASSWORD, isAdmin: true }, T0);
      for (let i = 0; i < 3; i++) assert.equal((await call(s, 'GET', '/api/v1/auth/me', admin)).status, 200);
      const limited = await call(s, 'GET', '/api/v1/auth/me', admin);
      assert.equal(limited.status, 429, 'the admin token has used its 3 reads');
      assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/);

      // the login's Origin must be the configured public origin, no longer the request's own host
      const body = { login: 'ana', password: PASSWORD };
      const ownHost = await call(s, 'POST', '/api/v1/auth/login', { body, origin });
      assert.deepEqual(
        [ownHost.status, ownHost.body.detail],
        [403, "a login must come from this server's own origin (Origin header)"],
      );
      const session = async () => {
        const res = await call(s, 'POST', '/api/v1/auth/login', { body, origin: PUBLIC });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return { cookie: cookieOf(res.headers) ?? '', csrf: res.body.csrfToken as string };
      };
      // a cookie-authenticated write: the request's own host is now foreign, the public origin is not
      const first = await session();
      const foreign = await call(s, 'POST', '/api/v1/auth/logout', { ...first, origin });
      assert.deepEqual(
        [foreign.status, foreign.body.detail],
        [403, "a cookie-authenticated request must come from this server's own origin (Origin header)"],
      );
      assert.equal((await call(s, 'POST', '/api/v1/auth/logout', { ...first, origin: PUBLIC })).status, 204);
      // ana has 8 requests a window of her own (the class allows 3): the logout was one of them, the refused write
      // was not (the Origin check answers before the limits count)
      const { cookie } = await session();
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) statuses.push((await call(s, 'GET', '/api/v1/auth/me', { cookie })).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 429, 429]);
    });
  });
});
