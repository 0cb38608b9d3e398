// GET /api/v1/repositories/{id}/settings (read) and PATCH /api/v1/repositories/{id} (admin) on both engines through
// the validating client: defaults are shown filled in; a PATCH changes only the fields given, keeps the rest of the
// stored settings, writes one `repository.settings_changed` event naming each change (none when nothing changed),
// and refuses bad fields with a problem naming them. The policy is the one the ingest job applies: `enforce`
// quarantines the next image whose evidence is not verified, `off` skips every check.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { applySettingsPatch, settingsView } from '../src/api/repositories.js';
import { ROUTE_MODULES } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const DAY = 86_400_000;

interface Settings {
  repository: string;
  verification: { mode: string; keys: string[]; allowedBuilders: string[]; sourceRepos: string[]; refs: string[] };
  thresholds: { failOn: string; warnOn: string };
}

describe('applySettingsPatch', () => {
  const base = settingsView('r', '{}');
  it('changes only what is given and checks each field', () => {
    assert.deepEqual(base.thresholds, { failOn: 'high', warnOn: 'medium' });
    assert.equal(base.verification.mode, 'warn');
    const next = applySettingsPatch(base, { verification: { refs: ['refs/tags/*', 'refs/tags/*'] } });
    assert.deepEqual(next.verification.refs, ['refs/tags/*'], 'duplicates collapse');
    assert.equal(next.verification.mode, 'warn');
    for (const [body, field] of [
      [{ verification: { mode: 'strict' } }, 'verification.mode'],
      [{ verification: { allowedBuilders: 'x' } }, 'verification.allowedBuilders'],
      [{ verification: { allowedBuilders: [''] } }, 'verification.allowedBuilders'],
      [{ verification: { refs: Array.from({ length: 51 }, (_, i) => `r${i}`) } }, 'verification.refs'],
      [{ verification: { other: 1 } }, 'verification.other'],
      [{ thresholds: { failOn: 'severe' } }, 'thresholds.failOn'],
      [{ thresholds: { failOn: 'medium', warnOn: 'high' } }, 'thresholds.warnOn'],
      [{ name: 'x' }, 'name'],
      [[], 'body'],
    ] as const) {
      assert.throws(
        () => applySettingsPatch(base, body),
        (err: { extra?: { field?: string } }) => err.extra?.field === field,
        JSON.stringify(body),
      );
    }
  });
});

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('repository settings', () => {
    let server: TestServer;
    const path = `/api/v1/repositories/${encodeURIComponent(REPOSITORY)}`;

    async function ingest(which: 'a' | 'b', tag: string) {
      const bundle = bundles[which];
      const { body, headers } = await bundleBody({ repository: REPOSITORY, digest: bundle.digest, tags: [tag] }, [
        ['sbom', bundle.sbomFile],
        ['report', bundle.reportFile],
      ]);
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.ok([200, 202].includes(accepted.status), accepted.text);
      return (await server.api.get<{ state: string; error?: { code: string } }>(`${accepted.body.job.url}?wait=60`))
        .body;
    }

    before(async () => {
      server = await startTestServer({
        database,
        routes: ROUTE_MODULES.map((m) => (m === registerIngestRoutes ? ingestRoutes() : m)),
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
      assert.equal((await ingest('a', '1.0')).state, 'succeeded');
    });
    after(() => server.close());

    it('shows the defaults, changes only what is given, keeps other settings and writes one event per change', async () => {
      const shown = await server.api.get<Settings>(`${path}/settings`);
      assert.equal(shown.status, 200, shown.text);
      assert.deepEqual(shown.body, {
        repository: REPOSITORY,
        verification: { mode: 'warn', keys: [], allowedBuilders: [], sourceRepos: [], refs: [] },
        thresholds: { failOn: 'high', warnOn: 'medium' },
      });
      // a setting of another feature in the same JSON survives the PATCH
      await server.ctx.db
        .updateTable('repositories')
        .set({ settings: JSON.stringify({ tracks: ['default'] }) })
        .where('name', '=', REPOSITORY)
        .execute();
      const patched = await server.api.request<Settings>('PATCH', path, {
        json: {
          verification: { allowedBuilders: ['https://github.com/actions/runner/*'] },
          thresholds: { failOn: 'critical', warnOn: 'high' },
        },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.deepEqual(patched.body.verification.allowedBuilders, ['https://github.com/actions/runner/*']);
      assert.deepEqual(patched.body.thresholds, { failOn: 'critical', warnOn: 'high' });
      assert.equal(patched.body.verification.mode, 'warn');
      assert.deepEqual((await server.api.get<Settings>(`${path}/settings`)).body, patched.body);
      const stored = await server.ctx.db
        .selectFrom('repositories')
        .select('settings')
        .where('name', '=', REPOSITORY)
        .executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(String(stored.settings)).tracks, ['default']);
      // the same again changes nothing: no event
      assert.equal(
        (await server.api.request('PATCH', path, { json: { thresholds: { failOn: 'critical' } } })).status,
        200,
      );
      const events = await server.api.get<{ items: { type: string; data: { changes: Record<string, unknown> } }[] }>(
        `${path}/events?limit=200`,
      );
      const changes = events.body.items.filter((e) => e.type === 'repository.settings_changed');
      assert.equal(changes.length, 1);
      assert.deepEqual(changes[0]?.data.changes, {
        'verification.allowedBuilders': { from: [], to: ['https://github.com/actions/runner/*'] },
        'thresholds.failOn': { from: 'high', to: 'critical' },
        'thresholds.warnOn': { from: 'medium', to: 'high' },
      });
    });

    it('refuses bad fields, unknown keys and unknown repositories with problems', async () => {
      const bad = await server.api.request<{ field: string }>('PATCH', path, {
        json: { verification: { mode: 'sometimes' } },
      });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.body.field, 'verification.mode');
      const key = await server.api.request<{ field: string }>('PATCH', path, {
        json: { verification: { keys: ['key_0000000000000000'] } },
      });
      assert.equal(key.status, 422, key.text);
      assert.equal(key.body.field, 'verification.keys');
      const notJson = await server.api.request('PATCH', path, {
        body: '{"verification":',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(notJson.status, 400, notJson.text);
      assert.equal((await server.api.request('PATCH', '/api/v1/repositories/nowhere', { json: {} })).status, 404);
      assert.equal((await server.api.get('/api/v1/repositories/nowhere/settings')).status, 404);
    });

    it('lets readers of the repository read the settings, only admins change them', async () => {
      const mint = (scopes: ('read' | 'triage' | 'ingest')[], repositoryPattern: string) =>
        createApiToken(server.ctx, {
          name: `${scopes.join('+')} ${repositoryPattern}`,
          scopes,
          repositoryPattern,
          expiresAt: server.ctx.now() + DAY,
          ownerUserId: server.admin.userId,
        });
      const reader = await mint(['read', 'triage', 'ingest'], 'registry.example:5000/acme/*');
      assert.equal((await server.api.get(`${path}/settings`, { token: reader.token })).status, 200);
      const patch = await server.api.request('PATCH', path, {
        token: reader.token,
        json: { verification: { mode: 'off' } },
      });
      assert.equal(patch.status, 403, patch.text);
      const other = await mint(['read'], 'registry.example:5000/other/*');
      assert.equal((await server.api.get(`${path}/settings`, { token: other.token })).status, 404);
    });

    it('is the policy the ingest job applies: enforce quarantines unverified evidence, off skips the checks', async () => {
      const enforce = await server.api.request<Settings>('PATCH', path, {
        json: { verification: { mode: 'enforce' } },
      });
      assert.equal(enforce.status, 200, enforce.text);
      const job = await ingest('b', '2.0');
      assert.equal(job.state, 'failed');
      assert.equal(job.error?.code, 'verification_failed');
      const image = await server.api.get<{ state?: string }>(`/api/v1/images/${bundles.b.digest}`);
      assert.equal(image.status, 200, image.text);
      const current = await server.api.get<{ items: { digest: string }[] }>(
        `/api/v1/images?current=true&repository=${encodeURIComponent(REPOSITORY)}`,
      );
      assert.ok(!current.body.items.some((i) => i.digest === bundles.b.digest), 'a quarantined image is never current');

      assert.equal((await server.api.request('PATCH', path, { json: { verification: { mode: 'off' } } })).status, 200);
      assert.equal((await ingest('a', '3.0')).state, 'succeeded');
      const evidence = await server.api.get<{ checks: { result: string }[] }>(
        `/api/v1/images/${bundles.a.digest}/evidence`,
      );
      assert.ok(evidence.body.checks.length > 0);
      assert.ok(
        evidence.body.checks.every((c) => c.result === 'skipped'),
        evidence.text,
      );
    });
  });
});
