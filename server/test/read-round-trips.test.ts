// How many statements the busiest reads send, on both engines (docs/performance.md "Server: read queries"): an
// image's detail in one, a findings page and an images page in two, list items by id in one, each counted by a
// Kysely plugin that sees every statement executed. And what the folded statements carry: the latest build, the
// placements and tags in scope, a finding's exception, and the capped count of a page that comes back empty.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from 'kysely';
import { userCaller } from '../src/auth/caller.js';
import { imageDetail, listFindings, listImages, listImagesByIds } from '../src/queries/images.js';
import { EVERYTHING, type ReadScope, readScopeOf } from '../src/queries/scope.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';
import { seedImages } from './helpers/seed.js';

const T = Date.UTC(2026, 10, 1);
const digest = (hex: string) => `sha256:${hex.repeat(64 / hex.length)}`;
const SHARED = digest('5a');
const KEY = new Uint8Array(32).fill(9);

/**
 * Counts the statements run through the Kysely instance it is attached to: one result per statement executed
 * (transformQuery would also see the subqueries built into a statement).
 */
class StatementCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs) {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs) {
    this.count += 1;
    return args.result;
  }
}

forEachDatabase((kind) => {
  let t: TestDatabase;
  let team: ReadScope;
  let exceptionId: string;
  before(async () => {
    t = await openTestDatabase(kind);
    // one image in two repositories (the viewer sees one of them), with tags in both, two layers and two builds
    const ids = await seedImages(t.db, [
      {
        digest: SHARED,
        repository: 'ghcr.io/acme/api',
        tags: ['1.0', 'latest'],
        at: T,
        packages: [
          { purl: 'pkg:apk/alpine/zlib@1.2.12-r3', type: 'apk', name: 'zlib', version: '1.2.12-r3' },
          { purl: 'pkg:apk/alpine/musl@1.2.3-r0', type: 'apk', name: 'musl', version: '1.2.3-r0' },
        ],
        findings: [
          { vuln: 'CVE-2099-1001', package: 'zlib', severity: 'CRITICAL' },
          { vuln: 'CVE-2099-1002', package: 'musl', severity: 'HIGH', status: 'suppressed' },
          { vuln: 'CVE-2099-1003', package: 'musl', severity: 'LOW' },
        ],
        layers: [
          { diffId: digest('1f'), size: 100, createdBy: 'ADD rootfs "quoted" \\ back' },
          { diffId: digest('2f'), size: 5_000_000_000 },
        ],
        artifacts: [
          { sha256: 'ab'.repeat(32), kind: 'provenance', role: 'provenance', mediaType: 'application/json', size: 9 },
          { sha256: 'cd'.repeat(32), kind: 'provenance', role: 'provenance', mediaType: 'application/json', size: 9 },
        ],
      },
    ]);
    const imageId = ids.imageIds.get(SHARED) as number;
    // the same image in a second repository (the seed makes one image per entry), with a tag of its own
    const mirror = await t.db
      .insertInto('repositories')
      .values({
        public_id: 'repo_zzmirror',
        name: 'docker.io/zz/mirror',
        name_lc: 'docker.io/zz/mirror',
        team_id: null,
        source_repo: null,
        archived_at: null,
        purge_after: null,
        created_at: T,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('repository_images')
      .values({
        repository_id: mirror.id,
        image_id: imageId,
        track: 'default',
        first_seen_at: T + 1,
        is_current: 1,
        created_at: T + 1,
      })
      .execute();
    await t.db
      .insertInto('tags')
      .values({ repository_id: mirror.id, name: 'mirror', current_image_id: imageId, moved_at: T + 1, created_at: T })
      .execute();
    const artifacts = await t.db.selectFrom('artifacts').select('id').orderBy('sha256').execute();
    for (const [n, commit] of [
      [1, 'old'],
      [2, 'new'],
    ] as const) {
      await t.db
        .insertInto('builds')
        .values({
          image_id: imageId,
          provenance_artifact_id: artifacts[n - 1]!.id,
          builder_id: 'https://github.com/actions/runner',
          build_type: null,
          source_repo: 'https://github.com/acme/api',
          source_commit: commit,
          source_ref: 'refs/heads/main',
          workflow_path: null,
          run_id: `${n}`,
          run_url: null,
          started_at: T + n,
          finished_at: null,
          created_at: T + n,
        })
        .execute();
    }
    const suppressed = await t.db
      .selectFrom('findings as f')
      .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
      .select(['f.id', 'v.id as vid'])
      .where('v.vuln_id', '=', 'CVE-2099-1002')
      .executeTakeFirstOrThrow();
    exceptionId = 'exc_roundtrips1';
    const exception = await t.db
      .insertInto('exceptions')
      .values({
        public_id: exceptionId,
        vulnerability_id: suppressed.vid,
        repository_id: null,
        image_digest: SHARED,
        package_pattern: null,
        status: 'not_affected',
        justification: null,
        reason: 'not reachable',
        owner_user_id: null,
        created_by: null,
        expires_at: T + 86_400_000,
        revoked_at: null,
        source: 'manual',
        created_at: T,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.db.updateTable('findings').set({ exception_id: exception.id }).where('id', '=', suppressed.id).execute();
    team = await readScopeOf(
      t.db,
      userCaller({ id: 1, login: 'viewer', isAdmin: false }, [{ role: 'viewer', patterns: ['ghcr.io/acme/*'] }]),
    );
  });
  after(() => t.close());

  const counted = () => {
    const counter = new StatementCounter();
    return { db: t.db.withPlugin(counter), counter };
  };

  describe('statements per read', () => {
    it("an image's detail is one statement: placements and tags in scope, layers, the latest build", async () => {
      const { db, counter } = counted();
      const detail = await imageDetail(db, team, SHARED);
      assert.equal(counter.count, 1);
      assert.ok(detail);
      assert.equal(detail.repository, 'ghcr.io/acme/api');
      assert.deepEqual(detail.tags, ['1.0', 'latest']);
      assert.deepEqual(
        detail.repositories.map((r) => [r.name, r.current, r.tags]),
        [['ghcr.io/acme/api', true, ['1.0', 'latest']]],
      );
      assert.deepEqual(detail.layers, [
        { position: 0, diffId: digest('1f'), digest: null, size: 100, createdBy: 'ADD rootfs "quoted" \\ back' },
        { position: 1, diffId: digest('2f'), digest: null, size: 5_000_000_000, createdBy: null },
      ]);
      assert.equal(detail.build?.commit, 'new');
      assert.equal(detail.build?.runId, '2');
      assert.equal(detail.build?.startedAt, new Date(T + 2).toISOString());
      assert.equal(detail.build?.finishedAt, null);
      const all = await imageDetail(t.db, EVERYTHING, SHARED);
      assert.equal(all?.repository, 'docker.io/zz/mirror');
      assert.deepEqual(all?.tags, ['1.0', 'latest', 'mirror']);
      assert.deepEqual(
        all?.repositories.map((r) => [r.name, r.tags]),
        [
          ['docker.io/zz/mirror', ['mirror']],
          ['ghcr.io/acme/api', ['1.0', 'latest']],
        ],
      );
      assert.equal(await imageDetail(db, team, digest('00')), undefined);
    });

    it('a findings page is two statements, with the exception and the capped count; an emptied page asks once more', async () => {
      const { db, counter } = counted();
      const page = await listFindings(db, team, SHARED, {}, { tokenKey: KEY, limit: 2 });
      assert.equal(counter.count, 2);
      assert.deepEqual(page?.total, { count: 3, type: 'EXACT' });
      assert.deepEqual(
        page?.items.map((f) => [f.id, f.exception]),
        [
          ['CVE-2099-1001', null],
          [
            'CVE-2099-1002',
            {
              id: exceptionId,
              status: 'not_affected',
              reason: 'not reachable',
              expiresAt: new Date(T + 86_400_000).toISOString(),
            },
          ],
        ],
      );
      counter.count = 0;
      const none = await listFindings(db, team, SHARED, { severity: 'MEDIUM' }, { tokenKey: KEY, limit: 2 });
      assert.equal(counter.count, 2);
      assert.deepEqual(none, { items: [], next_page_token: null, total: { count: 0, type: 'EXACT' } });
      // the page after the last finding, once that finding is gone: no rows, the count from a third statement
      const last = await listFindings(db, team, SHARED, {}, { tokenKey: KEY, limit: 1 });
      const second = await listFindings(
        db,
        team,
        SHARED,
        {},
        { tokenKey: KEY, limit: 1, pageToken: last?.next_page_token as string },
      );
      const third = second?.next_page_token as string;
      await t.db.updateTable('findings').set({ severity: 'CRITICAL' }).where('severity', '=', 'LOW').execute();
      counter.count = 0;
      const emptied = await listFindings(db, team, SHARED, {}, { tokenKey: KEY, limit: 1, pageToken: third });
      assert.equal(counter.count, 3);
      assert.deepEqual(emptied?.items, []);
      assert.deepEqual(emptied?.total, { count: 3, type: 'EXACT' });
      await t.db.updateTable('findings').set({ severity: 'LOW' }).where('severity', '=', 'CRITICAL').execute();
      await t.db
        .updateTable('findings')
        .set({ severity: 'CRITICAL' })
        .where('vulnerability_id', 'in', (eb) =>
          eb.selectFrom('vulnerabilities').select('id').where('vuln_id', '=', 'CVE-2099-1001'),
        )
        .execute();
    });

    it('an images page is two statements with its names; list items by id are one', async () => {
      const { db, counter } = counted();
      const page = await listImages(db, team, {}, { tokenKey: KEY, sort: '-ingestedAt', limit: 10 });
      assert.equal(counter.count, 2);
      assert.deepEqual(
        page.items.map((i) => [i.digest, i.repository, i.tags]),
        [[SHARED, 'ghcr.io/acme/api', ['1.0', 'latest']]],
      );
      counter.count = 0;
      const imageId = (await t.db.selectFrom('images').select('id').executeTakeFirstOrThrow()).id;
      const byId = await listImagesByIds(db, EVERYTHING, [imageId]);
      assert.equal(counter.count, 1);
      assert.deepEqual(byId.get(imageId)?.tags, ['1.0', 'latest', 'mirror']);
    });
  });
});
