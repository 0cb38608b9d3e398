import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Migration, Migrator } from 'kysely';
import { migrateToLatest, migrations } from '../src/db/migrate.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';
import { seedImages } from './helpers/seed.js';

// Migration 0003 on a database that already has exposures: each becomes one episode (its last known run), a
// reopened one flagged as a regression, so metrics over older data do not start empty.

const T0 = Date.UTC(2026, 10, 2);
const DIGEST = `sha256:${'e'.repeat(64)}`;

forEachDatabase((kind) => {
  describe('migration 0003 over existing exposures', () => {
    let db: TestDatabase;
    before(async () => {
      db = await openTestDatabase(kind, { migrate: false });
      const list = migrations(db.dialect);
      const migrator = new Migrator({
        db: db.db,
        provider: { getMigrations: async (): Promise<Record<string, Migration>> => list },
      });
      const { error } = await migrator.migrateTo('0002_read_indexes');
      assert.equal(error, undefined);
    });
    after(() => db.close());

    it('turns each exposure into one episode', async () => {
      const { repositoryIds, imageIds } = await seedImages(db.db, [
        {
          digest: DIGEST,
          repository: 'ghcr.io/acme/api',
          tags: ['1.0'],
          at: T0,
          packages: [{ purl: 'pkg:apk/alpine/zlib@1.2.12-r0', type: 'apk', name: 'zlib', version: '1.2.12-r0' }],
          findings: [
            { vuln: 'CVE-2022-37434', package: 'zlib', severity: 'CRITICAL' },
            { vuln: 'CVE-2018-25032', package: 'zlib', severity: 'HIGH' },
          ],
        },
      ]);
      const repositoryId = repositoryIds.get('ghcr.io/acme/api') ?? 0;
      const imageId = imageIds.get(DIGEST) ?? 0;
      const vulns = await db.db.selectFrom('vulnerabilities').select(['id', 'vuln_id']).orderBy('vuln_id').execute();
      const row = (vulnId: number, resolved: boolean, reopened: number) => ({
        repository_id: repositoryId,
        track: 'default',
        vulnerability_id: vulnId,
        package_name: 'zlib',
        severity: 'HIGH',
        state: resolved ? ('resolved' as const) : ('open' as const),
        opened_at: T0,
        opened_image_id: imageId,
        resolved_at: resolved ? T0 + 86_400_000 : null,
        resolved_image_id: resolved ? imageId : null,
        resolved_build_id: null,
        package_from: '1.2.12-r0',
        package_to: resolved ? '1.2.13-r0' : null,
        reopened_count: reopened,
        cve_published_at: null,
        fix_first_seen_at: null,
        created_at: T0,
      });
      await db.db
        .insertInto('exposures')
        .values([row(vulns[0]?.id ?? 0, true, 0), row(vulns[1]?.id ?? 0, false, 1)])
        .execute();

      assert.ok((await migrateToLatest(db.db, db.dialect)).applied.includes('0003_metrics'));
      const episodes = await db.db
        .selectFrom('exposure_episodes')
        .select(['opened_at', 'resolved_at', 'package_to', 'regression'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        episodes.map((e) => ({
          ...e,
          opened_at: Number(e.opened_at),
          resolved_at: e.resolved_at === null ? null : Number(e.resolved_at),
        })),
        [
          { opened_at: T0, resolved_at: T0 + 86_400_000, package_to: '1.2.13-r0', regression: 0 },
          { opened_at: T0, resolved_at: null, package_to: null, regression: 1 },
        ],
      );
    });
  });
});
