// "Every change is an event" (SERVER.md section 1) for identity and settings changes, on both engines: login and
// logout, users, teams, grants and members, token mint and revoke, notification rules, the GitHub integration, rebuild targets, and the jobs an administrator asks for. Each
// change writes one event in its own transaction with the actor who made it, and no event carries a secret (the
// password, the token, the session id, a rule's target path or signing secret, the GitHub token). Every answer goes
// through the harness's validating client; the events are read back through the SIEM stream as an administrator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SETTLE_MS } from '../src/events/index.js';
import { type AuthTestServer, call, cookieOf, startAuthServer } from './helpers/auth-server.js';
import { forEachDatabase } from './helpers/server.js';

const PASSWORD = 'correct horse battery staple 42';
const RULE_SECRET = 'rule-signing-secret-0123456789';
const RULE_TARGET = 'https://hooks.example.org/services/T000/B000/hook-path-secret';
const GITHUB_TOKEN = 'ghp_audit_test_token_0123456789';
const REBUILD_SECRET = 'rebuild-signing-secret-0123456789';
const REBUILD_URL = 'https://ci.example.org/hooks/rebuild-path-secret';

interface StreamedEvent {
  id: number;
  type: string;
  actor: { kind: string; id: number | null };
  requestId: string | null;
  data: Record<string, unknown>;
}

forEachDatabase((kind) => {
  describe('identity and settings changes are events', () => {
    let s: AuthTestServer;
    let adminTokenRowId = 0;
    let anaId = 0;
    let mintedSecret = '';
    let mintedId = '';
    let sessionCookie = '';
    let csrf = '';

    before(async () => {
      s = await startAuthServer(kind, { rateLimits: { loginPerMinute: 1000 } });
      const row = await s.ctx.db.selectFrom('api_tokens').select('id').executeTakeFirstOrThrow();
      adminTokenRowId = Number(row.id);
    });
    after(() => s.close());

    async function events(): Promise<StreamedEvent[]> {
      // on PostgreSQL the stream leaves the newest two seconds for the next read (a commit may still land below them)
      s.clock.advance(SETTLE_MS + 1);
      const res = await call(s, 'GET', '/api/v1/events?limit=1000', { token: s.adminToken });
      assert.equal(res.status, 200, res.text);
      return res.text === ''
        ? []
        : res.text
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as StreamedEvent);
    }

    async function only(type: string): Promise<StreamedEvent> {
      const found = (await events()).filter((e) => e.type === type);
      assert.equal(found.length, 1, `${type}: ${JSON.stringify(found)}`);
      return found[0]!;
    }

    const admin = () => ({ token: s.adminToken });
    const byAdminToken = () => ({ kind: 'token', id: adminTokenRowId });

    it('users, teams, grants and members: one event each, by the admin, none for a repeated grant', async () => {
      const made = await call(s, 'POST', '/api/v1/users', { ...admin(), body: { login: 'ana', password: PASSWORD } });
      assert.equal(made.status, 201, made.text);
      const user = await only('user.created');
      assert.deepEqual(user.actor, byAdminToken());
      assert.deepEqual(user.data, { login: 'ana', isAdmin: false, hasPassword: true });
      anaId = Number(
        (await s.ctx.db.selectFrom('users').select('id').where('login', '=', 'ana').executeTakeFirstOrThrow()).id,
      );

      assert.equal((await call(s, 'POST', '/api/v1/teams', { ...admin(), body: { name: 'payments' } })).status, 201);
      assert.deepEqual((await only('team.created')).data, { team: 'payments' });

      for (let i = 0; i < 2; i++) {
        const grant = await call(s, 'POST', '/api/v1/teams/payments/grants', {
          ...admin(),
          body: { repositoryPattern: 'ghcr.io/acme/payments/*' },
        });
        assert.equal(grant.status, 201, grant.text);
      }
      const grant = await only('team.grant_added');
      assert.deepEqual(grant.data, { team: 'payments', repositoryPattern: 'ghcr.io/acme/payments/*' });
      assert.deepEqual(grant.actor, byAdminToken());

      for (const role of ['viewer', 'maintainer', 'maintainer']) {
        const res = await call(s, 'POST', '/api/v1/teams/payments/members', {
          ...admin(),
          body: { login: 'ana', role },
        });
        assert.equal(res.status, 201, res.text);
      }
      const members = (await events()).filter((e) => e.type === 'team.member_set').map((e) => e.data);
      assert.deepEqual(members, [
        { team: 'payments', login: 'ana', role: 'viewer', previousRole: null },
        { team: 'payments', login: 'ana', role: 'maintainer', previousRole: 'viewer' },
      ]);
    });

    it('a login is an event of the user; a failed login changes nothing', async () => {
      const wrong = await call(s, 'POST', '/api/v1/auth/login', { body: { login: 'ana', password: 'wrong one!' } });
      assert.equal(wrong.status, 401);
      assert.equal((await events()).filter((e) => e.type === 'auth.login').length, 0);
      const res = await call(s, 'POST', '/api/v1/auth/login', { body: { login: 'ana', password: PASSWORD } });
      assert.equal(res.status, 200, res.text);
      sessionCookie = cookieOf(res.headers)!;
      csrf = res.body.csrfToken;
      const login = await only('auth.login');
      assert.deepEqual(login.actor, { kind: 'user', id: anaId });
      assert.equal(login.data.login, 'ana');
      assert.ok(login.requestId, 'the request id is recorded');
    });

    it('minting and revoking a token are events of the user; revoking twice writes one', async () => {
      const minted = await call(s, 'POST', '/api/v1/tokens', {
        cookie: sessionCookie,
        csrf,
        origin: s.origin,
        body: {
          name: 'ci',
          scopes: ['ingest'],
          repositoryPattern: 'ghcr.io/acme/payments/*',
          expiresAt: new Date(s.clock.ms + 30 * 86_400_000).toISOString(),
        },
      });
      assert.equal(minted.status, 201, minted.text);
      mintedSecret = minted.body.token;
      mintedId = minted.body.id;
      const created = await only('token.created');
      assert.deepEqual(created.actor, { kind: 'user', id: anaId });
      assert.equal(created.data.token, mintedId);
      assert.deepEqual(created.data.owner, { user: 'ana' });
      assert.deepEqual(created.data.scopes, ['ingest']);
      for (let i = 0; i < 2; i++) {
        const gone = await call(s, 'DELETE', `/api/v1/tokens/${mintedId}`, {
          cookie: sessionCookie,
          csrf,
          origin: s.origin,
        });
        assert.equal(gone.status, 204, gone.text);
      }
      const revoked = await only('token.revoked');
      assert.deepEqual(revoked.actor, { kind: 'user', id: anaId });
      assert.deepEqual(revoked.data, { token: mintedId, name: 'ci' });
    });

    it('a logout is an event of the user', async () => {
      const res = await call(s, 'POST', '/api/v1/auth/logout', { cookie: sessionCookie, csrf, origin: s.origin });
      assert.equal(res.status, 204, res.text);
      const logout = await only('auth.logout');
      assert.deepEqual(logout.actor, { kind: 'user', id: anaId });
      // a logout without a session ends nothing and records nothing
      assert.equal((await call(s, 'POST', '/api/v1/auth/logout', {})).status, 204);
      assert.equal((await events()).filter((e) => e.type === 'auth.logout').length, 1);
    });

    it('notification rules: create, change and delete are events without the target path or the secret', async () => {
      const made = await call(s, 'POST', '/api/v1/notification-rules', {
        ...admin(),
        body: { name: 'hook', channel: 'webhook', target: RULE_TARGET, secret: RULE_SECRET },
      });
      assert.equal(made.status, 201, made.text);
      const created = await only('notification_rule.created');
      assert.deepEqual(created.actor, byAdminToken());
      assert.deepEqual(created.data, {
        rule: made.body.id,
        name: 'hook',
        channel: 'webhook',
        target: 'https://hooks.example.org',
        filter: {},
      });
      const changed = await call(s, 'PATCH', `/api/v1/notification-rules/${made.body.id}`, {
        ...admin(),
        body: { secret: `${RULE_SECRET}-2`, enabled: false },
      });
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual((await only('notification_rule.changed')).data, {
        rule: made.body.id,
        name: 'hook',
        changed: ['enabled', 'secret'],
      });
      const deleted = await call(s, 'DELETE', `/api/v1/notification-rules/${made.body.id}`, admin());
      assert.equal(deleted.status, 204);
      assert.deepEqual((await only('notification_rule.deleted')).data, {
        rule: made.body.id,
        name: 'hook',
        channel: 'webhook',
      });
      assert.equal((await call(s, 'DELETE', `/api/v1/notification-rules/${made.body.id}`, admin())).status, 404);
      assert.equal((await events()).filter((e) => e.type === 'notification_rule.deleted').length, 1);
    });

    it('a GitHub integration change is an event without the token', async () => {
      const res = await call(s, 'PUT', '/api/v1/integrations/github', {
        ...admin(),
        body: { apiUrl: 'https://ghe.example.org/api/v3/', token: GITHUB_TOKEN },
      });
      assert.equal(res.status, 200, res.text);
      const changed = await only('integration.github_changed');
      assert.deepEqual(changed.actor, byAdminToken());
      assert.deepEqual(changed.data, {
        apiUrl: 'https://ghe.example.org/api/v3',
        previousApiUrl: null,
        tokenChanged: true,
      });
    });

    it('a rebuild target set and deleted are events without the webhook path or secret; deleting nothing writes none', async () => {
      const repo = 'registry.example:5000/acme/rebuilt';
      await s.ctx.db
        .insertInto('repositories')
        .values({
          public_id: 'repo_audit_rebuild',
          name: repo,
          name_lc: repo,
          team_id: null,
          source_repo: null,
          archived_at: null,
          purge_after: null,
          created_at: s.clock.now(),
        })
        .execute();
      const path = `/api/v1/repositories/${encodeURIComponent(repo)}/rebuild-target`;
      const set = await call(s, 'PUT', path, {
        ...admin(),
        body: { kind: 'webhook', url: REBUILD_URL, secret: REBUILD_SECRET },
      });
      assert.equal(set.status, 200, set.text);
      const made = await only('rebuild_target.set');
      assert.deepEqual(made.actor, byAdminToken());
      assert.ok(made.requestId, 'the request id is recorded');
      assert.deepEqual(made.data, { repository: repo, kind: 'webhook', target: 'https://ci.example.org' });
      for (let i = 0; i < 2; i++) assert.equal((await call(s, 'DELETE', path, admin())).status, 204);
      const gone = await only('rebuild_target.deleted');
      assert.deepEqual(gone.actor, byAdminToken());
      assert.deepEqual(gone.data, { repository: repo });
    });

    it('a job an administrator asks for is a job.requested event naming its kind and id', async () => {
      const gc = await call(s, 'POST', '/api/v1/system/blobs/gc', admin());
      assert.equal(gc.status, 202, gc.text);
      const update = await call(s, 'POST', '/api/v1/system/vulndb/update', {
        ...admin(),
        body: { ecosystems: ['npm'] },
      });
      assert.equal(update.status, 202, update.text);
      const sync = await call(s, 'POST', '/api/v1/integrations/github/sync/repo_audit_rebuild', admin());
      assert.equal(sync.status, 202, sync.text);
      const requested = (await events()).filter((e) => e.type === 'job.requested');
      const jobs = await s.ctx.db.selectFrom('jobs').select(['public_id', 'kind']).execute();
      const jobOf = (kind: string) => jobs.find((j) => j.kind === kind)?.public_id;
      assert.deepEqual(
        requested.map((e) => e.data),
        [
          { kind: 'blobs.gc', job: (gc.body as { job: string }).job, created: true },
          { kind: 'vulndb.update', job: (update.body as { job: string }).job, created: true },
          { kind: 'github.sync', job: jobOf('github.sync'), created: true },
        ],
      );
      for (const e of requested) {
        assert.deepEqual(e.actor, byAdminToken());
        assert.ok(e.requestId, `${String(e.data.kind)}: the request id is recorded`);
      }
    });

    it('no event row carries a secret', async () => {
      const rows = await s.ctx.db.selectFrom('events').selectAll().execute();
      const dump = JSON.stringify(rows);
      const secretPart = mintedSecret.split('_').pop()!;
      assert.ok(secretPart.length >= 16, 'the minted token has a secret part');
      for (const secret of [
        PASSWORD,
        mintedSecret,
        secretPart,
        RULE_SECRET,
        'hook-path-secret',
        GITHUB_TOKEN,
        REBUILD_SECRET,
        'rebuild-path-secret',
        csrf,
      ]) {
        assert.ok(!dump.includes(secret), `an event carries a secret (${secret.slice(0, 6)}…)`);
      }
      const session = sessionCookie.split('=')[1]!;
      assert.ok(!dump.includes(session), 'an event carries the session id');
      // and every one of them names who made it
      for (const e of await events()) assert.notEqual(e.actor.kind, 'system', `${e.type} has no actor`);
    });
  });
});
