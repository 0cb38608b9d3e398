// GET /api/v1/overview's dashboard cards beyond the counters, on both engines, checked against the OpenAPI document:
// evidence coverage (current images verified), stale images (nothing ingested for 30 days) and the vulnerabilities
// newly open on a current image in the last 24 hours (exposure episodes opened then and still open), each within the
// caller's repositories.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createApiToken } from '../src/auth/index.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const digest = (hex: string) => `sha256:${hex.repeat(64 / hex.length)}`;
const DAY = 86_400_000;

interface Overview {
  currentImages: number;
  evidenceVerified: number;
  evidenceFailed: number;
  stale: number;
  staleDays: number;
  newVulnerabilities24h: number;
}

forEachDatabase((kind) => {
  const clock = new TestClock();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ database: kind, clock });
    const now = clock.now();
    const { repositoryIds } = await seedImages(server.ctx.db, [
      // a superseded build: neither current nor counted
      { digest: digest('a0'), repository: 'ghcr.io/acme/api', current: false, at: now - 60 * DAY, evidence: 'failed' },
      { digest: digest('a1'), repository: 'ghcr.io/acme/api', at: now - 2 * DAY, evidence: 'verified' },
      // stale: ingested 31 days ago
      { digest: digest('b1'), repository: 'ghcr.io/acme/web', at: now - 31 * DAY, evidence: 'verified' },
      { digest: digest('c1'), repository: 'ghcr.io/acme/db', at: now - 29 * DAY - DAY / 2, evidence: 'failed' },
      { digest: digest('d1'), repository: 'docker.io/other/thing', at: now - 40 * DAY, evidence: 'partial' },
    ]);
    // exposure episodes: two vulnerabilities opened within the day on acme (one of them on two tracks), one opened
    // within the day but already resolved, one opened two days ago, and one within the day outside acme
    const db = server.ctx.db;
    const vulnerability = async (id: string) =>
      (
        await db
          .insertInto('vulnerabilities')
          .values({ vuln_id: id, severity: 'HIGH', created_at: now })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const [v1, v2, v3, v4, v5] = [
      await vulnerability('CVE-2026-0001'),
      await vulnerability('CVE-2026-0002'),
      await vulnerability('CVE-2026-0003'),
      await vulnerability('CVE-2026-0004'),
      await vulnerability('CVE-2026-0005'),
    ];
    const imageOf = async (d: string) =>
      (await db.selectFrom('images').select('id').where('digest', '=', d).executeTakeFirstOrThrow()).id;
    const episode = async (
      repository: string,
      vulnerabilityId: number,
      openedAt: number,
      resolvedAt: number | null,
    ) => {
      const imageId = await imageOf(repository === 'docker.io/other/thing' ? digest('d1') : digest('a1'));
      const exposure = await db
        .insertInto('exposures')
        .values({
          repository_id: repositoryIds.get(repository) as number,
          track: `${repository}:${vulnerabilityId}`,
          vulnerability_id: vulnerabilityId,
          package_name: 'libssl3',
          severity: 'high',
          state: resolvedAt === null ? 'open' : 'resolved',
          opened_at: openedAt,
          opened_image_id: imageId,
          resolved_at: resolvedAt,
          package_from: '3.0.1-r0',
          created_at: openedAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('exposure_episodes')
        .values({
          exposure_id: exposure.id,
          severity: 'high',
          opened_at: openedAt,
          opened_image_id: imageId,
          resolved_at: resolvedAt,
          package_from: '3.0.1-r0',
          created_at: openedAt,
        })
        .execute();
    };
    await episode('ghcr.io/acme/api', v1, now - 3_600_000, null);
    await episode('ghcr.io/acme/web', v1, now - 7_200_000, null);
    await episode('ghcr.io/acme/api', v2, now - DAY + 60_000, null);
    await episode('ghcr.io/acme/api', v3, now - 3_600_000, now - 60_000);
    await episode('ghcr.io/acme/api', v4, now - 2 * DAY, null);
    await episode('docker.io/other/thing', v5, now - 3_600_000, null);
  });
  after(() => server.close());

  it('counts verified, stale and newly exposed current images across every repository', async () => {
    const overview = await server.api.get<Overview>('/api/v1/overview');
    assert.equal(overview.status, 200, overview.text);
    const { currentImages, evidenceVerified, evidenceFailed, stale, staleDays, newVulnerabilities24h } = overview.body;
    assert.deepEqual(
      { currentImages, evidenceVerified, evidenceFailed, stale, staleDays, newVulnerabilities24h },
      { currentImages: 4, evidenceVerified: 2, evidenceFailed: 1, stale: 2, staleDays: 30, newVulnerabilities24h: 3 },
    );
  });

  it("counts only within a token's repositories; a day later nothing is new", async () => {
    const { token } = await createApiToken(server.ctx, {
      name: 'acme reader',
      scopes: ['read'],
      repositoryPattern: 'ghcr.io/acme/*',
      expiresAt: clock.now() + DAY * 10,
      ownerUserId: server.admin.userId,
    });
    const acme = await server.api.get<Overview>('/api/v1/overview', { token });
    assert.equal(acme.status, 200, acme.text);
    assert.equal(acme.body.currentImages, 3);
    assert.equal(acme.body.stale, 1);
    assert.equal(acme.body.evidenceVerified, 2);
    assert.equal(acme.body.newVulnerabilities24h, 2);
    clock.advance(DAY);
    const later = await server.api.get<Overview>('/api/v1/overview', { token });
    assert.equal(later.body.newVulnerabilities24h, 0);
    assert.equal(later.body.stale, 2);
  });

  it("lists a repository's exposure episodes, open and resolved, within the caller's repositories", async () => {
    const api = encodeURIComponent('ghcr.io/acme/api');
    const all = await server.api.get<{ items: { vulnerability: string; state: string; resolvedAt: string | null }[] }>(
      `/api/v1/repositories/${api}/exposures`,
    );
    assert.equal(all.status, 200, all.text);
    // newest opening first: the resolved CVE-2026-0003 and CVE-2026-0001 opened at the same hour (id breaks the tie)
    assert.deepEqual(
      all.body.items.map((e) => [e.vulnerability, e.state]),
      [
        ['CVE-2026-0003', 'resolved'],
        ['CVE-2026-0001', 'open'],
        ['CVE-2026-0002', 'open'],
        ['CVE-2026-0004', 'open'],
      ],
    );
    const open = await server.api.get<{ items: { vulnerability: string }[] }>(
      `/api/v1/repositories/${api}/exposures?state=open`,
    );
    assert.deepEqual(
      open.body.items.map((e) => e.vulnerability),
      ['CVE-2026-0001', 'CVE-2026-0002', 'CVE-2026-0004'],
    );
    const resolved = await server.api.get<{ items: { resolvedAt: string | null }[] }>(
      `/api/v1/repositories/${api}/exposures?state=resolved&limit=1`,
    );
    assert.equal(resolved.body.items.length, 1);
    assert.ok(resolved.body.items[0]?.resolvedAt);
    assert.equal((await server.api.get(`/api/v1/repositories/${api}/exposures?state=gone`)).status, 400);
    assert.equal((await server.api.get(`/api/v1/repositories/${api}/exposures?limit=0`)).status, 400);
    const { token } = await createApiToken(server.ctx, {
      name: 'other reader',
      scopes: ['read'],
      repositoryPattern: 'docker.io/other/*',
      expiresAt: clock.now() + DAY * 10,
      ownerUserId: server.admin.userId,
    });
    const hidden = await server.api.get(`/api/v1/repositories/${api}/exposures`, { token });
    assert.equal(hidden.status, 404);
  });
});
