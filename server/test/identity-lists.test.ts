// The admin lists behind the dashboard's "Users and teams" settings: GET /api/v1/users and GET /api/v1/teams (with
// each team's members and granted repository patterns), on both engines, every answer checked against the OpenAPI
// document by the harness's client; anyone but an admin is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiToken } from '../src/auth/index.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
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

    it('pages users, teams, notification rules and deliveries by keyset (every row once, tokens bound to the list)', async () => {
      const admin = { token: s.adminToken };
      for (let i = 0; i < 5; i++) {
        assert.equal((await call(s, 'POST', '/api/v1/users', { ...admin, body: { login: `pager${i}` } })).status, 201);
        assert.equal(
          (await call(s, 'POST', '/api/v1/teams', { ...admin, body: { name: `pager-team${i}` } })).status,
          201,
        );
        const rule = await call(s, 'POST', '/api/v1/notification-rules', {
          ...admin,
          body: {
            name: `pager rule ${i}`,
            channel: 'webhook',
            target: 'https://hooks.example.org/x',
            secret: 'a-signing-secret-of-16+',
            filter: { eventTypes: ['pager.test'] },
          },
        });
        assert.equal(rule.status, 201, rule.text);
      }
      // five events of the rules' type: each rule gets five deliveries queued
      for (let i = 0; i < 5; i++) {
        await recordEvent(s.ctx.db, { at: s.clock.ms, type: 'pager.test', actor: SYSTEM_ACTOR });
      }
      const walk = async (path: string, key: (item: Record<string, unknown>) => string) => {
        const seen: string[] = [];
        let token: string | null = null;
        let pages = 0;
        do {
          const sep = path.includes('?') ? '&' : '?';
          const url: string = `${path}${sep}limit=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
          const res = await call(s, 'GET', url, admin);
          assert.equal(res.status, 200, res.text);
          assert.ok(res.body.items.length <= 2, url);
          seen.push(...res.body.items.map(key));
          token = res.body.next_page_token;
          pages++;
        } while (token !== null && pages < 50);
        return seen;
      };
      const logins = await walk('/api/v1/users', (u) => String(u.login));
      const all = await call(s, 'GET', '/api/v1/users?limit=200', admin);
      assert.deepEqual(
        logins,
        all.body.items.map((u: { login: string }) => u.login),
      );
      assert.ok(logins.length >= 7 && new Set(logins).size === logins.length, logins.join());
      assert.deepEqual(logins, [...logins].sort());
      const teams = await walk('/api/v1/teams', (t) => String(t.name));
      assert.deepEqual(
        teams.filter((n) => n.startsWith('pager-team')),
        ['pager-team0', 'pager-team1', 'pager-team2', 'pager-team3', 'pager-team4'],
      );
      assert.equal(new Set(teams).size, teams.length);
      const rules = await walk('/api/v1/notification-rules', (r) => `${r.id}:${r.name}`);
      assert.equal(rules.filter((r) => r.includes(':pager rule ')).length, 5);
      const firstRule = rules.find((r) => r.endsWith(':pager rule 0'))!.split(':')[0];
      const deliveries = await walk(`/api/v1/notification-rules/${firstRule}/notifications`, (d) => String(d.id));
      assert.equal(deliveries.length, 5);
      assert.deepEqual(
        deliveries,
        [...deliveries].sort((x, y) => Number(y) - Number(x)),
        'newest first',
      );
      // a users token presented to the teams list is refused, not reinterpreted
      const usersToken = (await call(s, 'GET', '/api/v1/users?limit=1', admin)).body.next_page_token;
      const moved = await call(s, 'GET', `/api/v1/teams?page_token=${encodeURIComponent(usersToken)}`, admin);
      assert.equal(moved.status, 400, moved.text);
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
