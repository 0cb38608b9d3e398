// Fix kinds over HTTP on both engines, from what the server holds: six repositories, each with a build before and
// after a fix, written straight into the tables (images, layers with their history `created_by`, where each package
// sits, signed-off provenance documents in the blob store, the exposure episode) so that each kind's evidence is
// exactly what the classification reads. The base's extent comes from the provenance's base image (held by the
// server), from Lading's patch history, or from the layers shared with the previous build's base.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Fix } from '../src/metrics/index.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const T = Date.UTC(2026, 10, 2);
const DAY = 86_400_000;
const hex = (label: string) => label.padEnd(64, '0');
const digest = (label: string) => `sha256:${hex(label)}`;
const layer = (label: string, createdBy?: string) => ({
  diffId: digest(label),
  size: 10,
  ...(createdBy ? { createdBy } : {}),
});
type Layer = ReturnType<typeof layer>;
type Pkg = { purl: string; type: string; name: string; version: string };
const apk = (name: string, version: string): Pkg => ({
  purl: `pkg:apk/alpine/${name}@${version}?arch=x86_64`,
  type: 'apk',
  name,
  version,
});

/** A SLSA v1 provenance naming a base image (by digest) and, for a Lading pipeline, patched packages. */
function provenance(base?: { uri: string; digest: string }, patched: string[] = []): Buffer {
  const dependencies = [
    { uri: 'git+https://github.com/acme/app@refs/heads/main', digest: { gitCommit: 'a'.repeat(40) } },
    ...(base ? [{ uri: base.uri, digest: { sha256: base.digest.slice('sha256:'.length) } }] : []),
    ...patched.map((name) => ({
      uri: `https://dl-cdn.alpinelinux.org/alpine/v3.16/main/x86_64/${name}.apk`,
      name: `${name}_9.9-r0_x86_64`,
      digest: { sha256: 'e'.repeat(64) },
      annotations: { role: 'patch-package' },
    })),
  ];
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app', digest: { sha256: 'f'.repeat(64) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'https://example.test/build', resolvedDependencies: dependencies },
      runDetails: { builder: { id: 'https://example.test/builder' } },
    },
  };
  return Buffer.from(JSON.stringify(statement));
}

forEachDatabase((database) => {
  describe('fix kinds from the base each image really has', () => {
    let server: TestServer;
    let fixes: Fix[] = [];

    before(async () => {
      server = await startTestServer({ database, runJobs: false });
      const db = server.ctx.db;
      const blobs = server.ctx.blobs;
      // the base images the server holds (another repository): a one-layer 3.16 and 3.17, a two-layer base rebuilt
      await seedImages(db, [
        {
          digest: digest('b316'),
          repository: 'docker.io/library/alpine',
          tags: ['3.16'],
          at: T - 9 * DAY,
          layers: [layer('1a')],
        },
        {
          digest: digest('b317'),
          repository: 'docker.io/library/alpine',
          tags: ['3.17'],
          at: T - 8 * DAY,
          layers: [layer('2a')],
        },
        {
          digest: digest('bb1'),
          repository: 'ghcr.io/acme/base',
          tags: ['1'],
          at: T - 7 * DAY,
          layers: [layer('3a'), layer('3b')],
        },
        {
          digest: digest('bb2'),
          repository: 'ghcr.io/acme/base',
          tags: ['1'],
          at: T - 1 * DAY,
          layers: [layer('4a'), layer('4b')],
        },
      ]);
      const vuln = await db
        .insertInto('vulnerabilities')
        .values({ vuln_id: 'CVE-2099-1000', severity: 'HIGH', kev: 0, created_at: T })
        .returning('id')
        .executeTakeFirstOrThrow();

      /** One repository's two builds, the package's layer in each, their provenances, and the fixed episode. */
      type Side = { image: string; layers: Layer[]; pkg?: Pkg; pkgLayer?: string; at: number; prov?: Buffer };
      const scenario = async (s: { repository: string; before: Side & { pkg: Pkg }; after: Side }) => {
        const ids = await seedImages(db, [
          {
            digest: digest(s.before.image),
            repository: s.repository,
            at: s.before.at,
            layers: s.before.layers,
            packages: [s.before.pkg],
          },
          {
            digest: digest(s.after.image),
            repository: s.repository,
            at: s.after.at,
            layers: s.after.layers,
            packages: s.after.pkg ? [s.after.pkg] : [],
          },
        ]);
        const beforeId = ids.imageIds.get(digest(s.before.image));
        const afterId = ids.imageIds.get(digest(s.after.image));
        const repositoryId = ids.repositoryIds.get(s.repository);
        assert.ok(beforeId !== undefined && afterId !== undefined && repositoryId !== undefined);
        // where each package sits: the layer that holds it
        const place = async (imageId: number, pkg: Pkg, diffId: string) => {
          const l = await db.selectFrom('layers').select('id').where('diff_id', '=', diffId).executeTakeFirstOrThrow();
          const p = await db.selectFrom('packages').select('id').where('purl', '=', pkg.purl).executeTakeFirstOrThrow();
          await db
            .updateTable('package_occurrences')
            .set({ layer_id: l.id })
            .where('image_id', '=', imageId)
            .where('package_id', '=', p.id)
            .execute();
        };
        await place(beforeId, s.before.pkg, digest(s.before.pkgLayer ?? ''));
        if (s.after.pkg) await place(afterId, s.after.pkg, digest(s.after.pkgLayer ?? ''));
        for (const [imageId, doc, at] of [
          [beforeId, s.before.prov, s.before.at],
          [afterId, s.after.prov, s.after.at],
        ] as const) {
          if (!doc) continue;
          const stored = await blobs.put(doc, { maxBytes: 1 << 20 });
          const artifact = await db
            .insertInto('artifacts')
            .values({
              sha256: stored.sha256,
              kind: 'attestation-dsse',
              media_type: 'application/json',
              size: doc.length,
              storage_key: `cas/sha256/${stored.sha256.slice(0, 2)}/${stored.sha256.slice(2, 4)}/${stored.sha256}`,
              first_job_id: null,
              created_at: at,
            })
            .onConflict((oc) => oc.column('sha256').doNothing())
            .returning('id')
            .executeTakeFirst();
          const artifactId =
            artifact?.id ??
            (
              await db
                .selectFrom('artifacts')
                .select('id')
                .where('sha256', '=', stored.sha256)
                .executeTakeFirstOrThrow()
            ).id;
          await db
            .insertInto('builds')
            .values({ image_id: imageId, provenance_artifact_id: artifactId, created_at: at })
            .execute();
        }
        const episode = {
          severity: 'HIGH',
          opened_at: s.before.at,
          opened_image_id: beforeId,
          resolved_at: s.after.at,
          resolved_image_id: afterId,
          resolved_build_id: null,
          package_from: s.before.pkg.version,
          package_to: s.after.pkg?.version ?? null,
          fix_first_seen_at: null,
          created_at: s.before.at,
        };
        const exposure = await db
          .insertInto('exposures')
          .values({
            repository_id: repositoryId,
            track: 'default',
            vulnerability_id: vuln.id,
            package_name: s.before.pkg.name,
            state: 'resolved',
            cve_published_at: null,
            ...episode,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await db
          .insertInto('exposure_episodes')
          .values({ exposure_id: exposure.id, regression: 0, ...episode })
          .execute();
      };

      const alpine316 = { uri: 'pkg:docker/alpine@3.16?platform=linux%2Famd64', digest: digest('b316') };
      const alpine317 = { uri: 'pkg:docker/alpine@3.17?platform=linux%2Famd64', digest: digest('b317') };
      const acmeBase = (d: string) => ({ uri: 'pkg:docker/ghcr.io/acme/base@1', digest: d });
      // 1. FROM alpine:3.16 → FROM alpine:3.17: another base image (by name; same OS ecosystem in the seed)
      await scenario({
        repository: 'ghcr.io/acme/bump',
        before: {
          image: 'c01',
          layers: [layer('1a'), layer('51')],
          pkg: apk('libssl3', '3.0.1-r0'),
          pkgLayer: '1a',
          at: T,
          prov: provenance(alpine316),
        },
        after: {
          image: 'c02',
          layers: [layer('2a'), layer('52')],
          pkg: apk('libssl3', '3.0.9-r0'),
          pkgLayer: '2a',
          at: T + 3 * DAY,
          prov: provenance(alpine317),
        },
      });
      // 2. the same two-layer base rebuilt; the package in its SECOND layer (the first-layer rule said upgrade)
      await scenario({
        repository: 'ghcr.io/acme/rebuild',
        before: {
          image: 'c03',
          layers: [layer('3a'), layer('3b'), layer('61')],
          pkg: apk('zlib', '1.2.12-r0'),
          pkgLayer: '3b',
          at: T,
          prov: provenance(acmeBase(digest('bb1'))),
        },
        after: {
          image: 'c04',
          layers: [layer('4a'), layer('4b'), layer('62')],
          pkg: apk('zlib', '1.2.13-r0'),
          pkgLayer: '4b',
          at: T + 2 * DAY,
          prov: provenance(acmeBase(digest('bb2'))),
        },
      });
      // 3. the base kept (the next build has no provenance, but starts with the previous build's base layers); the
      //    package the build itself installed, upgraded in its own layer
      await scenario({
        repository: 'ghcr.io/acme/upgrade',
        before: {
          image: 'c05',
          layers: [layer('1a'), layer('71')],
          pkg: apk('curl', '7.80.0-r0'),
          pkgLayer: '71',
          at: T,
          prov: provenance(alpine316),
        },
        after: {
          image: 'c06',
          layers: [layer('1a'), layer('72')],
          pkg: apk('curl', '7.88.1-r0'),
          pkgLayer: '72',
          at: T + DAY,
        },
      });
      // 4. the package dropped by the build, the base kept
      await scenario({
        repository: 'ghcr.io/acme/removal',
        before: {
          image: 'c07',
          layers: [layer('1a'), layer('81')],
          pkg: apk('busybox-extras', '1.35.0-r17'),
          pkgLayer: '81',
          at: T,
          prov: provenance(alpine316),
        },
        after: { image: 'c08', layers: [layer('1a'), layer('82')], at: T + DAY },
      });
      // 5. a language package in the build's own layer
      await scenario({
        repository: 'ghcr.io/acme/node',
        before: {
          image: 'c09',
          layers: [layer('1a'), layer('91')],
          pkg: { purl: 'pkg:npm/lodash@4.17.20', type: 'npm', name: 'lodash', version: '4.17.20' },
          pkgLayer: '91',
          at: T,
          prov: provenance(alpine316),
        },
        after: {
          image: 'c0a',
          layers: [layer('1a'), layer('92')],
          pkg: { purl: 'pkg:npm/lodash@4.17.21', type: 'npm', name: 'lodash', version: '4.17.21' },
          pkgLayer: '92',
          at: T + DAY,
        },
      });
      // 6. Lading patched the image: its layers plus a `lading patch` layer holding the fixed package; the OS package
      //    sat in the base's layer (a base-rebuild by the first-layer rule, were the patch ignored)
      await scenario({
        repository: 'ghcr.io/acme/patched',
        before: {
          image: 'c0b',
          layers: [layer('1a'), layer('a1')],
          pkg: apk('libcrypto3', '3.0.1-r0'),
          pkgLayer: '1a',
          at: T,
        },
        after: {
          image: 'c0c',
          layers: [layer('1a'), layer('a1'), layer('a2', 'lading patch')],
          pkg: apk('libcrypto3', '3.0.9-r0'),
          pkgLayer: 'a2',
          at: T + DAY,
        },
      });
      const res = await server.api.get<{ items: Fix[] }>('/api/v1/fixes?limit=50');
      assert.equal(res.status, 200, res.text);
      fixes = res.body.items;
    });
    after(() => server.close());

    const kindOf = (repository: string) => fixes.find((f) => f.repository === repository)?.kind;

    it('base-bump: the provenance names another base image', () => {
      assert.equal(kindOf('ghcr.io/acme/bump'), 'base-bump');
    });
    it('base-rebuild: the same base rebuilt, the package in its second layer', () => {
      assert.equal(kindOf('ghcr.io/acme/rebuild'), 'base-rebuild');
    });
    it('explicit-upgrade: the base kept (shared layers), the package upgraded in the build own layer', () => {
      assert.equal(kindOf('ghcr.io/acme/upgrade'), 'explicit-upgrade');
    });
    it('removal: the package is gone, the base kept', () => {
      assert.equal(kindOf('ghcr.io/acme/removal'), 'removal');
    });
    it('app-dependency: a language package', () => {
      assert.equal(kindOf('ghcr.io/acme/node'), 'app-dependency');
    });
    it('lading-patch: the fixed version sits in the layer `lading patch` added', () => {
      assert.equal(kindOf('ghcr.io/acme/patched'), 'lading-patch');
      assert.equal(fixes.length, 6);
    });
  });
});
