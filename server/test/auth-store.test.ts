// The database side of authentication on both engines: tokens authenticate only while valid, sessions end on time,
// and no table holds a token secret, session id, CSRF token or password in clear (a SQLite read of every row, and
// pg_dump on PostgreSQL).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { callerMayAccess } from '../src/auth/caller.js';
import { createApiToken } from '../src/auth/index.js';
import { deriveAuthKeys } from '../src/auth/keys.js';
import { verifyPassword } from '../src/auth/passwords.js';
import { SESSION_IDLE_MS, SESSION_MAX_AGE_MS } from '../src/auth/sessions.js';
import {
  authenticateSession,
  authenticateToken,
  findUserByLogin,
  insertApiToken,
  insertGrant,
  insertSession,
  insertTeam,
  insertUser,
  listApiTokens,
  revokeApiToken,
  setPassword,
  upsertMember,
} from '../src/auth/store.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';
import { postgresBinDir } from './helpers/postgres.js';

const KEYS = deriveAuthKeys(new Uint8Array(32).fill(42));
const NOW = Date.UTC(2026, 11, 6, 4);
const DAY = 86_400_000;
const PASSWORD = 'a long enough password 1';

forEachDatabase((kind) => {
  let t: TestDatabase;
  before(async () => {
    t = await openTestDatabase(kind);
  });
  after(() => t.close());

  describe('API tokens', () => {
    it('authenticate while valid and narrow to the team grants; expired, revoked and wrong ones are refused', async () => {
      const team = await insertTeam(t.db, 'payments', NOW);
      await insertGrant(t.db, team.id, 'ghcr.io/acme/payments/*', NOW);
      await insertGrant(t.db, team.id, 'ghcr.io/acme/payments/*', NOW);
      const made = await insertApiToken(
        t.db,
        KEYS,
        {
          name: 'ci',
          scopes: ['ingest'],
          repositoryPattern: 'ghcr.io/acme/*',
          expiresAt: NOW + DAY,
          ownerTeamId: team.id,
        },
        NOW,
      );
      const caller = await authenticateToken(t.db, KEYS, made.token, '10.0.0.1', NOW + 1000);
      assert.ok('grants' in caller, JSON.stringify(caller));
      assert.equal(caller.kind, 'token');
      assert.equal(callerMayAccess(caller, 'ghcr.io/acme/payments/api', 'ingest'), true);
      assert.equal(callerMayAccess(caller, 'ghcr.io/acme/payments/api', 'read'), false);
      assert.equal(callerMayAccess(caller, 'ghcr.io/acme/billing/api'), false);
      const [view] = await listApiTokens(t.db, { all: true }, { afterRowId: null, limit: 10 });
      assert.equal(view?.lastUsedAt, NOW + 1000);
      assert.equal(view?.prefix, `lading_${made.publicId}_`);

      assert.deepEqual(
        await authenticateToken(
          t.db,
          KEYS,
          `${made.token.slice(0, -1)}${made.token.endsWith('a') ? 'b' : 'a'}`,
          null,
          NOW,
        ),
        {
          status: 401,
          detail: 'the API token is not valid',
        },
      );
      assert.deepEqual(await authenticateToken(t.db, KEYS, made.token, null, NOW + DAY), {
        status: 401,
        detail: 'the API token has expired',
      });
      await revokeApiToken(t.db, made.id, NOW + 2000);
      assert.deepEqual(await authenticateToken(t.db, KEYS, made.token, null, NOW + 3000), {
        status: 401,
        detail: 'the API token has been revoked',
      });
      assert.equal(((await authenticateToken(t.db, KEYS, 'Basic abc', null, NOW)) as { status: number }).status, 401);
    });

    it("follow their owner: a user's token loses access when the user is disabled", async () => {
      const user = await insertUser(t.db, { login: 'dev', password: PASSWORD }, NOW);
      const team = await insertTeam(t.db, 'web', NOW);
      await insertGrant(t.db, team.id, 'ghcr.io/acme/web/*', NOW);
      await upsertMember(t.db, team.id, user.id, 'viewer', NOW);
      const made = await insertApiToken(
        t.db,
        KEYS,
        {
          name: 'mine',
          scopes: ['read', 'triage'],
          repositoryPattern: '*',
          expiresAt: NOW + DAY,
          ownerUserId: user.id,
        },
        NOW,
      );
      const caller = await authenticateToken(t.db, KEYS, made.token, null, NOW);
      assert.ok('grants' in caller);
      assert.equal(callerMayAccess(caller, 'ghcr.io/acme/web/app', 'read'), true);
      assert.equal(callerMayAccess(caller, 'ghcr.io/acme/web/app', 'triage'), false, 'a viewer cannot lend triage');
      assert.equal(callerMayAccess(caller, 'ghcr.io/acme/payments/api'), false);
      await upsertMember(t.db, team.id, user.id, 'triager', NOW);
      const again = await authenticateToken(t.db, KEYS, made.token, null, NOW);
      assert.ok('grants' in again);
      assert.equal(callerMayAccess(again, 'ghcr.io/acme/web/app', 'triage'), true);
      await t.db.updateTable('users').set({ disabled_at: NOW }).where('id', '=', user.id).execute();
      assert.deepEqual(await authenticateToken(t.db, KEYS, made.token, null, NOW), {
        status: 401,
        detail: "the API token's owner is disabled",
      });
    });
  });

  describe('sessions', () => {
    it('end after 2 hours idle and 12 hours in all; activity keeps them alive', async () => {
      const user = await insertUser(t.db, { login: 'ops', password: PASSWORD }, NOW);
      const s = await insertSession(t.db, KEYS, user, { ip: '127.0.0.1', userAgent: 'test' }, NOW);
      assert.equal((await authenticateSession(t.db, KEYS, s.sessionId, NOW + SESSION_IDLE_MS - 1))?.user.login, 'ops');
      // That touch moved the idle clock: another 2 h from there is still fine, and so on until 12 h.
      let at = NOW + SESSION_IDLE_MS - 1;
      while (at + SESSION_IDLE_MS - 1 < NOW + SESSION_MAX_AGE_MS) {
        at += SESSION_IDLE_MS - 1;
        assert.ok(await authenticateSession(t.db, KEYS, s.sessionId, at), `alive at +${(at - NOW) / 3_600_000} h`);
      }
      assert.equal(await authenticateSession(t.db, KEYS, s.sessionId, NOW + SESSION_MAX_AGE_MS), undefined);

      const idle = await insertSession(t.db, KEYS, user, { ip: null, userAgent: null }, NOW);
      assert.equal(await authenticateSession(t.db, KEYS, idle.sessionId, NOW + SESSION_IDLE_MS), undefined);
      assert.equal(
        await authenticateSession(t.db, KEYS, idle.sessionId, NOW + 1),
        undefined,
        'deleted once seen expired',
      );
    });

    it('all end when the password changes', async () => {
      const user = await insertUser(t.db, { login: 'rotating', password: PASSWORD }, NOW);
      const s = await insertSession(t.db, KEYS, user, { ip: null, userAgent: null }, NOW);
      await setPassword(t.db, user.id, 'another long password 2');
      assert.equal(await authenticateSession(t.db, KEYS, s.sessionId, NOW + 1), undefined);
      const stored = await findUserByLogin(t.db, 'rotating');
      assert.equal(await verifyPassword('another long password 2', stored?.passwordHash ?? ''), true);
    });
  });

  describe('a dump of every table', () => {
    it('holds no token secret, session id, CSRF token or password in clear', async () => {
      const user = await insertUser(t.db, { login: 'dumped', password: 'dump me if you can 123' }, NOW);
      const token = await insertApiToken(
        t.db,
        KEYS,
        { name: 'dump', scopes: ['read'], repositoryPattern: '*', expiresAt: NOW + DAY, ownerUserId: user.id },
        NOW,
      );
      const session = await insertSession(t.db, KEYS, user, { ip: null, userAgent: null }, NOW);
      const secret = token.token.split('_')[2]!;
      const dump = await dumpDatabase(t);
      assert.ok(dump.includes(token.publicId), 'the dump is real: it holds the public id');
      for (const [what, value] of [
        ['token', token.token],
        ['token secret', secret],
        ['session id', session.sessionId],
        ['CSRF token', session.csrfToken],
        ['password', 'dump me if you can 123'],
      ] as const) {
        assert.ok(!dump.includes(value), `${what} found in the ${kind} dump`);
      }
    });
  });
});

/** Every row of every table as text: SQLite through the connection, PostgreSQL through pg_dump (the real tool). */
async function dumpDatabase(t: TestDatabase): Promise<string> {
  if (t.target.kind === 'postgres') {
    const out = spawnSync(`${postgresBinDir()}/pg_dump`, ['--data-only', t.target.url], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout;
  }
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(t.db);
  const parts: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(t.db);
    parts.push(`-- ${name}`, ...rows.rows.map((r) => JSON.stringify(r)));
  }
  return parts.join('\n');
}

describe('createApiToken (the programmatic path: harness, bootstrap)', () => {
  it('keeps the lifetime rule of the API', async () => {
    const t = await openTestDatabase('sqlite');
    try {
      const host = { db: t.db, now: () => NOW, secrets: { key: new Uint8Array(32).fill(1) } };
      const owner = await insertUser(t.db, { login: 'owner' }, NOW);
      const base = { name: 'x', scopes: ['read' as const], repositoryPattern: '*', ownerUserId: owner.id };
      await assert.rejects(createApiToken(host, { ...base, expiresAt: NOW }), /within 90 days/);
      await assert.rejects(createApiToken(host, { ...base, expiresAt: NOW + 91 * DAY }), /within 90 days/);
      await assert.rejects(
        createApiToken(host, { ...base, ownerUserId: null, ownerTeamId: 1, expiresAt: NOW + 366 * DAY }),
        /within 365 days/,
      );
      assert.match((await createApiToken(host, { ...base, expiresAt: NOW + 90 * DAY })).token, /^lading_/);
    } finally {
      await t.close();
    }
  });
});
