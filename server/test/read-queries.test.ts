// The read API's queries on both engines, over a small seeded fleet: filters, sorts, keyset pages, "which images
// have CVE-X" by any alias, package and text search, repository tag history, and the caller's scope (an image or
// repository outside it is not found).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { readTimed } from '../src/api/read-common.js';
import { userCaller } from '../src/auth/caller.js';
import { PATTERN_INDEXES } from '../src/db/migrations/0002_read_indexes.js';
import { ProblemError } from '../src/http/problem.js';
import {
  findImage,
  fleetOverview,
  imageDetail,
  imageEvidence,
  listFindings,
  listImageArtifacts,
  listImageEvents,
  listImages,
  listLayers,
  listPackages,
} from '../src/queries/images.js';
import { COUNT_CAP, cappedTotal } from '../src/queries/keyset.js';
import { search, searchPackages } from '../src/queries/packages.js';
import { downloadableArtifact, previousImageOf, reportOf } from '../src/queries/reports.js';
import { listRepositories, repositoryDetail } from '../src/queries/repositories.js';
import { EVERYTHING, type ReadScope, readScopeOf } from '../src/queries/scope.js';
import { vulnerabilityDetail, vulnerabilityImages } from '../src/queries/vulnerabilities.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';
import { type SeedImage, seedImages } from './helpers/seed.js';

const T = Date.UTC(2026, 10, 1);
const DAY = 86_400_000;
const HOUR = 3_600_000;
const digest = (hex: string) => `sha256:${hex.repeat(64 / hex.length)}`;
const A1 = digest('a1');
const A2 = digest('a2');
const B1 = digest('b1');
const C1 = digest('c1');

const libssl = (version: string) => ({
  purl: `pkg:apk/alpine/libssl1.1@${version}?arch=x86_64`,
  type: 'apk',
  name: 'libssl1.1',
  version,
  ecosystem: 'Alpine:v3.16',
});
const zlib = { purl: 'pkg:apk/alpine/zlib@1.2.12-r3?arch=x86_64', type: 'apk', name: 'zlib', version: '1.2.12-r3' };
const CVE_0286 = {
  vuln: 'CVE-2023-0286',
  aliases: ['GHSA-x4qr-2fvf-3mr5'],
  package: 'libssl1.1',
  severity: 'HIGH',
} as const;

const FLEET: SeedImage[] = [
  {
    digest: A1,
    repository: 'ghcr.io/acme/payments/api',
    tags: ['1.0', 'latest'],
    at: T,
    evidence: 'verified',
    packages: [libssl('1.1.1q-r0'), zlib],
    findings: [CVE_0286, { vuln: 'CVE-2022-4304', package: 'libssl1.1', severity: 'MEDIUM', fixed: '1.1.1t-r0' }],
    layers: [{ diffId: digest('1f'), size: 100, createdBy: 'ADD rootfs' }],
    artifacts: [
      {
        sha256: 'a1'.repeat(32).replace(/^a1/, 'ee'),
        kind: 'report-lading',
        role: 'report',
        mediaType: 'application/json',
        size: 10,
      },
    ],
    events: [
      { type: 'image.ingested', at: T },
      { type: 'finding.opened', at: T + 1 },
    ],
  },
  {
    digest: A2,
    repository: 'ghcr.io/acme/payments/api',
    tags: ['1.1', 'latest'],
    at: T + HOUR,
    evidence: 'partial',
    packages: [libssl('1.1.1t-r0'), zlib],
    findings: [
      { vuln: 'CVE-2023-0464', package: 'libssl1.1', severity: 'HIGH', fixed: '1.1.1t-r1' },
      { vuln: 'CVE-2099-0001', package: 'zlib', severity: 'CRITICAL', kev: true },
      { vuln: 'CVE-2099-0002', package: 'zlib', severity: 'LOW', status: 'suppressed' },
    ],
    layers: [
      { diffId: digest('1f'), size: 100, createdBy: 'ADD rootfs' },
      { diffId: digest('2f'), size: 50, createdBy: 'RUN apk upgrade' },
    ],
  },
  {
    digest: B1,
    repository: 'ghcr.io/acme/web',
    tags: ['v3'],
    at: T + 2 * HOUR,
    evidence: 'failed',
    packages: [libssl('1.1.1q-r0')],
    findings: [CVE_0286],
  },
  {
    digest: C1,
    repository: 'docker.io/other/thing',
    tags: ['latest'],
    at: T + 3 * HOUR,
    packages: [libssl('1.1.1q-r0')],
    findings: [CVE_0286],
    artifacts: [
      {
        sha256: 'c1'.repeat(32),
        kind: 'sbom-cyclonedx',
        role: 'inventory',
        mediaType: 'application/vnd.cyclonedx+json',
        size: 20,
      },
    ],
  },
];

const digests = (page: { readonly items: readonly { digest: string }[] }) => page.items.map((i) => i.digest);
const KEY = new Uint8Array(32).fill(7);
const ALL_SORTED = { tokenKey: KEY, sort: '-ingestedAt' as const, limit: 50 };

forEachDatabase((kind) => {
  let t: TestDatabase;
  let team: ReadScope;
  before(async () => {
    t = await openTestDatabase(kind);
    await seedImages(t.db, FLEET);
    team = await readScopeOf(
      t.db,
      userCaller({ id: 1, login: 'viewer', isAdmin: false }, [{ role: 'viewer', patterns: ['ghcr.io/acme/*'] }]),
    );
  });
  after(() => t.close());

  describe('GET /images', () => {
    it('lists every image newest first, and filters by current, repository glob, severity, KEV and evidence', async () => {
      const q = (filters: Parameters<typeof listImages>[2]) => listImages(t.db, EVERYTHING, filters, ALL_SORTED);
      assert.deepEqual(digests(await q({})), [C1, B1, A2, A1]);
      assert.deepEqual(digests(await q({ current: true })), [C1, B1, A2]);
      assert.deepEqual(digests(await q({ repository: 'ghcr.io/acme/*' })), [B1, A2, A1]);
      assert.deepEqual(digests(await q({ repository: 'GHCR.io/acme/payments/api' })), [A2, A1]);
      assert.deepEqual(digests(await q({ minSeverity: 'CRITICAL' })), [A2]);
      assert.deepEqual(digests(await q({ minSeverity: 'MEDIUM' })), [C1, B1, A2, A1]);
      assert.deepEqual(digests(await q({ kev: true })), [A2]);
      assert.deepEqual(digests(await q({ evidence: 'failed' })), [B1]);
    });

    it('finds images by tag, part of a repository name, or the start of a digest', async () => {
      const q = (text: string) => listImages(t.db, EVERYTHING, { q: text }, ALL_SORTED).then(digests);
      assert.deepEqual(await q('1.1'), [A2]);
      assert.deepEqual(await q('WEB'), [B1]);
      assert.deepEqual(await q('b1b1b1'), [B1]);
      assert.deepEqual(await q('sha256:a2a2'), [A2]);
      // A LIKE wildcard typed by the user is a literal character.
      assert.deepEqual(await q('%'), []);
    });

    it('sorts by risk and walks keyset pages that neither skip nor repeat, bound to their filters', async () => {
      const full = await listImages(t.db, EVERYTHING, {}, { tokenKey: KEY, sort: '-riskIndex', limit: 50 });
      // risk 15, 7, then two at 5: the later-ingested (higher id) first.
      assert.deepEqual(digests(full), [A2, A1, C1, B1]);
      assert.deepEqual(
        full.items.map((i) => i.riskIndex),
        [15, 7, 5, 5],
      );
      const walked: string[] = [];
      let token: string | undefined;
      do {
        const page = await listImages(
          t.db,
          EVERYTHING,
          {},
          { tokenKey: KEY, sort: '-riskIndex', limit: 1, ...(token ? { pageToken: token } : {}) },
        );
        assert.deepEqual(page.total, { count: 4, type: 'EXACT' });
        walked.push(...digests(page));
        token = page.next_page_token ?? undefined;
      } while (token);
      assert.deepEqual(walked, digests(full));
      const first = await listImages(t.db, EVERYTHING, {}, { tokenKey: KEY, sort: '-riskIndex', limit: 1 });
      await assert.rejects(
        listImages(
          t.db,
          EVERYTHING,
          { kev: true },
          { tokenKey: KEY, sort: '-riskIndex', limit: 1, pageToken: first.next_page_token as string },
        ),
        (err: unknown) => err instanceof ProblemError && err.status === 400,
      );
      await assert.rejects(
        listImages(t.db, EVERYTHING, {}, { tokenKey: KEY, sort: '-riskIndex', limit: 1, pageToken: 'not-a-token' }),
        (err: unknown) => err instanceof ProblemError && err.status === 400,
      );
    });

    it('gives list items with repository, current tags, counts and evidence', async () => {
      const page = await listImages(t.db, EVERYTHING, { q: '1.1' }, ALL_SORTED);
      const item = page.items[0];
      assert.ok(item);
      assert.equal(item.repository, 'ghcr.io/acme/payments/api');
      assert.deepEqual(item.tags, ['1.1', 'latest']);
      assert.deepEqual(item.counts, { critical: 1, high: 1, medium: 0, low: 0, unknown: 0 });
      assert.equal(item.suppressed, 1);
      assert.equal(item.kev, true);
      assert.deepEqual(item.evidence, { state: 'partial', score: 0, max: 9 });
      assert.equal(item.ingestedAt, new Date(T + HOUR).toISOString());
    });
  });

  describe('indexes', () => {
    it('serves prefix searches from an index on PostgreSQL (text_pattern_ops, whatever the collation)', async () => {
      if (kind !== 'postgres') {
        // SQLite's LIKE folds case and uses no btree for it: the migration adds nothing there
        const sqlite = await sql<{
          name: string;
        }>`select name from sqlite_master where name like '%pattern_idx'`.execute(t.db);
        assert.deepEqual(sqlite.rows, []);
        return;
      }
      const names = await sql<{
        indexname: string;
      }>`select indexname from pg_indexes where indexname like '%pattern_idx' order by 1`.execute(t.db);
      assert.deepEqual(
        names.rows.map((r) => r.indexname),
        PATTERN_INDEXES.map(([name]) => name).sort(),
      );
      await t.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const plan = await sql<{
          'QUERY PLAN': string;
        }>`explain select id from packages where name_lc like 'libss%'`.execute(trx);
        assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /packages_name_lc_pattern_idx/);
      });
    });
  });

  describe('statement timeout', () => {
    it('answers 503 when a read runs past its statement timeout on PostgreSQL, and runs reads as they are', async () => {
      const fast = await readTimed(t, (db) => fleetOverview(db, EVERYTHING, T + DAY), 2_000);
      assert.equal(fast.currentImages, 3);
      if (kind === 'postgres') {
        await assert.rejects(
          readTimed(t, (db) => sql`select pg_sleep(2)`.execute(db), 100),
          (err: unknown) => err instanceof ProblemError && err.status === 503 && /longer than 100 ms/.test(err.message),
        );
        // the timeout was local to that transaction: the next read on the pool is not limited by it
        const after = await sql<{ t: string }>`select current_setting('statement_timeout') as t`.execute(t.db);
        assert.equal(after.rows[0]?.t, '0');
      }
    });
  });

  describe('overview', () => {
    it("sums the current images' counters, in scope", async () => {
      assert.deepEqual(await fleetOverview(t.db, EVERYTHING, T + DAY), {
        currentImages: 3,
        withCritical: 1,
        withKev: 1,
        evidenceFailed: 1,
        open: { critical: 1, high: 3, medium: 0, low: 0, unknown: 0 },
        riskIndex: 25,
        evidenceVerified: 0, // A1, the verified one, is no longer current (A2 took `latest`)
        stale: 0,
        staleDays: 30,
        newVulnerabilities24h: 0,
      });
      // a month without ingests makes every current image stale
      assert.equal((await fleetOverview(t.db, EVERYTHING, T + 31 * DAY)).stale, 3);
      const scoped = await fleetOverview(t.db, team, T + DAY);
      assert.equal(scoped.currentImages, 2);
      assert.equal(scoped.open.high, 2);
    });
  });

  describe('scope', () => {
    it("hides what is outside the caller's repositories everywhere", async () => {
      assert.deepEqual(digests(await listImages(t.db, team, {}, ALL_SORTED)), [B1, A2, A1]);
      assert.equal(await findImage(t.db, team, C1), undefined);
      assert.equal(await imageDetail(t.db, team, C1), undefined);
      assert.equal(await listFindings(t.db, team, C1, {}, { tokenKey: KEY, limit: 10 }), undefined);
      assert.equal(await listPackages(t.db, team, C1, { tokenKey: KEY, limit: 10 }), undefined);
      assert.equal(await downloadableArtifact(t.db, team, 'c1'.repeat(32)), undefined);
      assert.ok(await downloadableArtifact(t.db, EVERYTHING, 'c1'.repeat(32)));
      assert.equal(await repositoryDetail(t.db, team, 'docker.io/other/thing'), undefined);
      const none = await readScopeOf(t.db, userCaller({ id: 2, login: 'nobody', isAdmin: false }, []));
      assert.deepEqual(digests(await listImages(t.db, none, {}, ALL_SORTED)), []);
      // A grant without the read scope (an ingest-only token's) reads nothing.
      const ingestOnly = await readScopeOf(t.db, {
        ...userCaller({ id: 3, login: 'ci', isAdmin: false }, []),
        repositoryPatterns: ['*'],
        grants: [{ pattern: '*', scopes: new Set(['ingest'] as const) }],
      });
      assert.deepEqual(digests(await listImages(t.db, ingestOnly, {}, ALL_SORTED)), []);
      assert.deepEqual(digests(await listImages(t.db, none, {}, ALL_SORTED)), []);
      const search1 = await search(t.db, team, 'thing');
      assert.deepEqual(search1.repositories, []);
    });
  });

  describe('one image', () => {
    it('has its placements, tags, layers, events and artifacts', async () => {
      const detail = await imageDetail(t.db, EVERYTHING, A2);
      assert.ok(detail);
      assert.deepEqual(
        detail.repositories.map((r) => [r.name, r.track, r.current, r.tags]),
        [['ghcr.io/acme/payments/api', 'default', true, ['1.1', 'latest']]],
      );
      assert.deepEqual(
        detail.layers.map((l) => [l.position, l.size, l.createdBy]),
        [
          [0, 100, 'ADD rootfs'],
          [1, 50, 'RUN apk upgrade'],
        ],
      );
      assert.deepEqual((await listLayers(t.db, EVERYTHING, A2))?.items.length, 2);
      const old = await imageDetail(t.db, EVERYTHING, A1);
      assert.deepEqual(
        old?.repositories.map((r) => [r.current, r.tags]),
        [[false, ['1.0']]],
      );
      const events = await listImageEvents(t.db, EVERYTHING, A1, { tokenKey: KEY, limit: 1 });
      assert.deepEqual(
        events?.items.map((e) => e.type),
        ['image.ingested'],
      );
      const rest = await listImageEvents(t.db, EVERYTHING, A1, {
        tokenKey: KEY,
        limit: 1,
        pageToken: events?.next_page_token as string,
      });
      assert.deepEqual(
        rest?.items.map((e) => e.type),
        ['finding.opened'],
      );
      assert.equal(rest?.next_page_token, null);
      const artifacts = await listImageArtifacts(t.db, EVERYTHING, A1);
      assert.deepEqual(
        artifacts?.items.map((a) => [a.kind, a.role]),
        [['report-lading', 'report']],
      );
      assert.equal(
        (await reportOf(t.db, (await findImage(t.db, EVERYTHING, A1))?.id as number))?.kind,
        'report-lading',
      );
      const evidence = await imageEvidence(t.db, EVERYTHING, A1);
      assert.equal(evidence?.state, 'verified');
    });

    it('lists findings most severe first, filtered by status, severity and any alias', async () => {
      const all = await listFindings(t.db, EVERYTHING, A2, {}, { tokenKey: KEY, limit: 10 });
      assert.deepEqual(
        all?.items.map((f) => [f.id, f.severity, f.status]),
        [
          ['CVE-2099-0001', 'CRITICAL', 'open'],
          ['CVE-2023-0464', 'HIGH', 'open'],
          ['CVE-2099-0002', 'LOW', 'suppressed'],
        ],
      );
      const paged = await listFindings(t.db, EVERYTHING, A2, {}, { tokenKey: KEY, limit: 2 });
      const second = await listFindings(
        t.db,
        EVERYTHING,
        A2,
        {},
        { tokenKey: KEY, limit: 2, pageToken: paged?.next_page_token as string },
      );
      assert.deepEqual(
        second?.items.map((f) => f.id),
        ['CVE-2099-0002'],
      );
      const open = await listFindings(
        t.db,
        EVERYTHING,
        A2,
        { status: 'open', severity: 'HIGH' },
        { tokenKey: KEY, limit: 10 },
      );
      assert.deepEqual(
        open?.items.map((f) => f.id),
        ['CVE-2023-0464'],
      );
      const byAlias = await listFindings(
        t.db,
        EVERYTHING,
        A1,
        { q: 'GHSA-x4qr-2fvf-3mr5' },
        { tokenKey: KEY, limit: 10 },
      );
      assert.deepEqual(
        byAlias?.items.map((f) => f.id),
        ['CVE-2023-0286'],
      );
      const lower = await listFindings(t.db, EVERYTHING, A1, { q: 'cve-2022-4304' }, { tokenKey: KEY, limit: 10 });
      assert.deepEqual(
        lower?.items.map((f) => [f.id, f.fixedVersion, f.package.version]),
        [['CVE-2022-4304', '1.1.1t-r0', '1.1.1q-r0']],
      );
      const byPackage = await listFindings(t.db, EVERYTHING, A2, { q: 'zl' }, { tokenKey: KEY, limit: 10 });
      assert.equal(byPackage?.items.length, 2);
    });

    it('lists its packages', async () => {
      const page = await listPackages(t.db, EVERYTHING, A2, { tokenKey: KEY, limit: 1 });
      assert.equal(page?.total.count, 2);
      const next = await listPackages(t.db, EVERYTHING, A2, {
        tokenKey: KEY,
        limit: 1,
        pageToken: page?.next_page_token as string,
      });
      assert.deepEqual([...(page?.items ?? []), ...(next?.items ?? [])].map((p) => p.name).sort(), [
        'libssl1.1',
        'zlib',
      ]);
    });
  });

  describe('vulnerabilities, packages, search', () => {
    it('answers "which images have CVE-X" by any alias, all or current only, in scope', async () => {
      const detail = await vulnerabilityDetail(t.db, EVERYTHING, 'ghsa-x4qr-2fvf-3mr5'.replace('ghsa', 'GHSA'));
      assert.equal(detail?.id, 'CVE-2023-0286');
      assert.deepEqual(detail?.images, { affected: { count: 3, type: 'EXACT' }, current: { count: 2, type: 'EXACT' } });
      assert.equal((await vulnerabilityDetail(t.db, EVERYTHING, 'cve-2023-0286'))?.id, 'CVE-2023-0286');
      assert.equal(await vulnerabilityDetail(t.db, EVERYTHING, 'CVE-1999-0001'), undefined);
      const all = await vulnerabilityImages(t.db, EVERYTHING, 'CVE-2023-0286', {}, { tokenKey: KEY, limit: 10 });
      assert.deepEqual(digests(all as unknown as { items: { digest: string }[] }), [C1, B1, A1]);
      assert.deepEqual(all?.items[2]?.findings, [{ package: 'libssl1.1', version: '1.1.1q-r0', fixedVersion: null }]);
      const current = await vulnerabilityImages(
        t.db,
        EVERYTHING,
        'GHSA-x4qr-2fvf-3mr5',
        { current: true },
        { tokenKey: KEY, limit: 1 },
      );
      assert.deepEqual(digests(current as unknown as { items: { digest: string }[] }), [C1]);
      const next = await vulnerabilityImages(
        t.db,
        EVERYTHING,
        'GHSA-x4qr-2fvf-3mr5',
        { current: true },
        { tokenKey: KEY, limit: 1, pageToken: current?.next_page_token as string },
      );
      assert.deepEqual(digests(next as unknown as { items: { digest: string }[] }), [B1]);
      const scoped = await vulnerabilityImages(t.db, team, 'CVE-2023-0286', {}, { tokenKey: KEY, limit: 10 });
      assert.deepEqual(digests(scoped as unknown as { items: { digest: string }[] }), [B1, A1]);
    });

    it('finds packages by purl, with and without a version, and the images holding them', async () => {
      const all = await searchPackages(
        t.db,
        EVERYTHING,
        { purl: 'pkg:apk/alpine/libssl1.1' },
        { tokenKey: KEY, limit: 10 },
      );
      assert.deepEqual(
        all.items.map((p) => p.version),
        ['1.1.1q-r0', '1.1.1t-r0'],
      );
      assert.deepEqual(all.items[0]?.images, { count: 3, type: 'EXACT', digests: [C1, B1, A1] });
      const one = await searchPackages(
        t.db,
        EVERYTHING,
        { purl: 'pkg:apk/alpine/libssl1.1@1.1.1t-r0', version: '1.1.1t-r0' },
        { tokenKey: KEY, limit: 10 },
      );
      assert.deepEqual(
        one.items.map((p) => p.images.digests),
        [[A2]],
      );
      const scoped = await searchPackages(
        t.db,
        team,
        { purl: 'pkg:apk/alpine/libssl1.1', version: '1.1.1q-r0' },
        { tokenKey: KEY, limit: 10 },
      );
      assert.deepEqual(scoped.items[0]?.images.digests, [B1, A1]);
    });

    it('searches vulnerabilities, images, repositories and packages at once', async () => {
      const hits = await search(t.db, EVERYTHING, 'cve-2023-04');
      assert.deepEqual(
        hits.vulnerabilities.map((v) => v.id),
        ['CVE-2023-0464'],
      );
      assert.deepEqual(
        (await search(t.db, EVERYTHING, 'payments')).repositories.map((r) => r.name),
        ['ghcr.io/acme/payments/api'],
      );
      assert.deepEqual(
        (await search(t.db, EVERYTHING, 'LIBSS')).packages.map((p) => p.version),
        ['1.1.1q-r0', '1.1.1t-r0'],
      );
      assert.deepEqual(
        (await search(t.db, EVERYTHING, 'b1b1')).images.map((i) => i.digest),
        [B1],
      );
    });
  });

  describe('repositories', () => {
    it('lists repositories by name and shows tag history and the current digest per track', async () => {
      const page = await listRepositories(t.db, team, {}, { tokenKey: KEY, limit: 1 });
      const rest = await listRepositories(
        t.db,
        team,
        {},
        { tokenKey: KEY, limit: 1, pageToken: page.next_page_token as string },
      );
      assert.deepEqual(
        [...page.items, ...rest.items].map((r) => [r.name, r.currentImages]),
        [
          ['ghcr.io/acme/payments/api', 1],
          ['ghcr.io/acme/web', 1],
        ],
      );
      assert.equal(rest.next_page_token, null);
      const detail = await repositoryDetail(t.db, team, page.items[0]?.id as string);
      assert.ok(detail);
      assert.deepEqual(
        detail.tracks.map((x) => [x.track, x.current]),
        [['default', A2]],
      );
      const latest = detail.tags.find((x) => x.name === 'latest');
      assert.deepEqual(
        latest?.history.map((h) => [h.digest, h.to === null]),
        [
          [A2, true],
          [A1, false],
        ],
      );
      assert.deepEqual(
        detail.tags.map((x) => [x.name, x.current]),
        [
          ['1.0', A1],
          ['1.1', A2],
          ['latest', A2],
        ],
      );
    });

    it('knows the image before another on its track', async () => {
      const a2 = (await findImage(t.db, EVERYTHING, A2))?.id as number;
      const a1 = (await findImage(t.db, EVERYTHING, A1))?.id as number;
      assert.equal((await previousImageOf(t.db, EVERYTHING, a2))?.digest, A1);
      assert.equal(await previousImageOf(t.db, EVERYTHING, a1), undefined);
    });
  });
});

describe('capped totals', () => {
  it('are exact up to the cap and AT_LEAST past it', () => {
    assert.deepEqual(cappedTotal(COUNT_CAP), { count: COUNT_CAP, type: 'EXACT' });
    assert.deepEqual(cappedTotal(COUNT_CAP + 1), { count: COUNT_CAP, type: 'AT_LEAST' });
  });
});
