// The admin lists behind the dashboard's "Users and teams" settings: GET /api/v1/users and GET /api/v1/teams (with
// each team's members and granted repository patterns), on both engines, every answer checked against the OpenAPI
// document by the harness's client; anyone but an admin is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiToken } from '../src/auth/index.js';
import { type AuthTestServer, call, startAuthServer, T0 } from './helpers/auth-server.js';
import { forEachDatabase } from './helpers/server.js';

forEachDatabase((kind) => {
  describe('users and teams lists', () => {
    let s: AuthTestServer;
    before(async () => {
      s = await startAuthServer(kind);
      const admin = { token: s.adminToken };
      for (const [path, body] of [
        ['/api/v1/users', { login: 'zoe', displayName: 'Zoe Q', email: 'zoe@example.org' }],
        ['/api/v1/users', { login: 'ana' }],
        ['/api/v1/teams', { name: 'payments' }],
        ['/api/v1/teams', { name: 'edge' }],
        ['/api/v1/teams/payments/grants', { repositoryPattern: 'ghcr.io/acme/payments/*' }],
        ['/api/v1/teams/payments/grants', { repositoryPattern: 'ghcr.io/acme/billing' }],
        ['/api/v1/teams/payments/members', { login: 'zoe', role: 'maintainer' }],
        ['/api/v1/teams/payments/members', { login: 'ana', role: 'viewer' }],
      ] as const) {
        const res = await call(s, 'POST', path, { ...admin, body });
        assert.equal(res.status, 201, `${path}: ${res.text}`);
      }
    });
    after(() => s.close());

    it('lists the users by login', async () => {
      const res = await call(s, 'GET', '/api/v1/users', { token: s.adminToken });
      assert.equal(res.status, 200, res.text);
      const logins = res.body.items.map((u: { login: string }) => u.login);
      assert.deepEqual(logins, [...logins].sort());
      assert.ok(logins.includes('ana') && logins.includes('zoe') && logins.includes('admin'), logins.join());
      const zoe = res.body.items.find((u: { login: string }) => u.login === 'zoe');
      assert.deepEqual(
        { displayName: zoe.displayName, email: zoe.email, isAdmin: zoe.isAdmin, disabled: zoe.disabled },
        { displayName: 'Zoe Q', email: 'zoe@example.org', isAdmin: false, disabled: false },
      );
      assert.deepEqual(res.body.total, { count: res.body.items.length, type: 'EXACT' });
    });

    it('lists the teams by name with members and grants', async () => {
      const res = await call(s, 'GET', '/api/v1/teams', { token: s.adminToken });
      assert.equal(res.status, 200, res.text);
      const byName = Object.fromEntries(res.body.items.map((t: { name: string }) => [t.name, t]));
      assert.deepEqual(
        res.body.items.map((t: { name: string }) => t.name).filter((n: string) => n === 'edge' || n === 'payments'),
        ['edge', 'payments'],
      );
      assert.deepEqual(byName.payments.members, [
        { login: 'ana', role: 'viewer' },
        { login: 'zoe', role: 'maintainer' },
      ]);
      assert.deepEqual(byName.payments.repositoryPatterns, ['ghcr.io/acme/billing', 'ghcr.io/acme/payments/*']);
      assert.deepEqual(byName.edge.members, []);
      assert.deepEqual(byName.edge.repositoryPatterns, []);
    });

    it('refuses a caller without admin (403) and one without credentials (401)', async () => {
      const { token } = await createApiToken(s.ctx, {
        name: 'reader',
        scopes: ['read', 'triage'],
        repositoryPattern: '*',
        expiresAt: T0 + 86_400_000,
        ownerUserId: s.admin.userId,
      });
      for (const path of ['/api/v1/users', '/api/v1/teams']) {
        assert.equal((await call(s, 'GET', path, { token })).status, 403, path);
        assert.equal((await call(s, 'GET', path)).status, 401, path);
      }
    });
  });
});
