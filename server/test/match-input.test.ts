// What re-analysis matches a stored package with (ingest/match-input.ts, migration 0010): canonical, ambiguous when
// two packages with one purl disagree, and read back exactly; junk in the column is refused, not guessed at; and
// ingest writes them (both engines), marking a purl another inventory stored differently as ambiguous.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { ROUTE_MODULES } from '../src/app.js';
import {
  AMBIGUOUS_MATCH_EXTRA,
  matchExtraOf,
  matchExtrasByPurl,
  matchedOs,
  matchOsOf,
  osFromMatchOs,
  packageFromRow,
} from '../src/ingest/match-input.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const row = {
  purl: 'pkg:deb/debian/libssl1.1@1.1.1n-0+deb11u5?arch=amd64',
  type: 'deb',
  name: 'libssl1.1',
  version: '1.1.1n-0+deb11u5',
};

describe('match inputs kept for re-analysis', () => {
  it('is canonical: metadata key order does not matter, a source version does', () => {
    const a = matchExtraOf({ source: { name: 'openssl' }, metadata: { b: '2', a: '1' } });
    const b = matchExtraOf({ source: { name: 'openssl' }, metadata: { a: '1', b: '2' } });
    assert.equal(a, b);
    assert.notEqual(
      a,
      matchExtraOf({ source: { name: 'openssl', version: '1.1.1n-0+deb11u5' }, metadata: { a: '1', b: '2' } }),
    );
    assert.notEqual(
      matchExtraOf({}),
      matchExtraOf({ source: { name: 'libssl1.1' } }),
      'no source is not the same name',
    );
    assert.equal(matchExtraOf({ metadata: {} }), matchExtraOf({}));
  });

  it('marks a purl ambiguous when two of an inventory’s packages disagree', () => {
    const extras = matchExtrasByPurl([
      { purl: 'pkg:npm/a@1', source: undefined, metadata: undefined },
      { purl: 'pkg:npm/a@1', source: undefined, metadata: undefined },
      { purl: 'pkg:rpm/x@1', metadata: { 'rpm.modularitylabel': 'nodejs:18' } },
      { purl: 'pkg:rpm/x@1', metadata: { 'rpm.modularitylabel': 'nodejs:20' } },
    ]);
    assert.equal(extras.get('pkg:npm/a@1'), matchExtraOf({}));
    assert.equal(extras.get('pkg:rpm/x@1'), AMBIGUOUS_MATCH_EXTRA);
  });

  it('gives the matcher back the package and the OS release it was stored from', () => {
    const extra = matchExtraOf({ source: { name: 'openssl', version: '1.1.1n-0+deb11u5' }, metadata: { k: 'v' } });
    const pkg = packageFromRow('id-1', row, extra);
    assert.deepEqual(
      {
        id: pkg.id,
        purl: pkg.purl,
        type: pkg.type,
        name: pkg.name,
        version: pkg.version,
        source: pkg.source,
        metadata: pkg.metadata,
      },
      { id: 'id-1', ...row, source: { name: 'openssl', version: '1.1.1n-0+deb11u5' }, metadata: { k: 'v' } },
    );
    const bare = packageFromRow('id-2', row, matchExtraOf({}));
    assert.equal(bare.source, undefined);
    assert.equal(bare.metadata, undefined);
    const os = { family: 'debian', version: '11', ecosystem: 'Debian:11', name: 'Debian GNU/Linux 11', eol: false };
    assert.deepEqual(osFromMatchOs(matchOsOf(os)), { family: 'debian', version: '11', ecosystem: 'Debian:11' });
    assert.deepEqual(matchedOs(os), { family: 'debian', version: '11', ecosystem: 'Debian:11' });
    assert.equal(osFromMatchOs(matchOsOf(undefined)), undefined);
    assert.deepEqual(osFromMatchOs(matchOsOf({ family: 'gentoo', version: '2.14' })), {
      family: 'gentoo',
      version: '2.14',
    });
  });

  it('refuses a match_os it did not write', () => {
    assert.throws(() => osFromMatchOs('{"ecosystem":"Debian:11"}'), /not an OS release/);
    assert.throws(() => osFromMatchOs('[1]'), /not an OS release/);
    assert.throws(() => osFromMatchOs('{'));
  });
});

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('ingest records the match inputs', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        routes: [...ROUTE_MODULES.filter((m) => m !== registerIngestRoutes), ingestRoutes()],
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
    });
    after(() => server.close());

    it('each package row gets its inventory’s source and metadata; a purl stored differently before becomes ambiguous', async () => {
      const report = JSON.parse(await readFile(bundles.a.reportFile, 'utf8')) as Report;
      const [first, ...rest] = [...new Map(report.packages.map((p) => [p.purl, p])).values()];
      assert.ok(first && rest.length > 0);
      // another image stored this purl with another source package before
      await server.ctx.db
        .insertInto('packages')
        .values({
          purl: first.purl,
          type: first.type,
          name: first.name,
          name_lc: first.name.toLowerCase(),
          version: first.version,
          ecosystem: first.type,
          match_name: 'another-source',
          match_version: first.version,
          match_extra: matchExtraOf({ source: { name: 'another-source' } }),
          created_at: server.ctx.now(),
        })
        .execute();
      const { body, headers } = await bundleBody(
        { repository: 'registry.example:5000/acme/api', digest: bundles.a.digest, tags: ['latest'] },
        [
          ['sbom', bundles.a.sbomFile],
          ['report', bundles.a.reportFile],
        ],
      );
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.equal(accepted.status, 202, accepted.text);
      const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', job.text);
      const rows = new Map(
        (await server.ctx.db.selectFrom('packages').select(['purl', 'match_extra']).execute()).map((r) => [
          r.purl,
          r.match_extra,
        ]),
      );
      assert.equal(rows.get(first.purl), AMBIGUOUS_MATCH_EXTRA);
      const extras = matchExtrasByPurl(report.packages);
      for (const p of rest) assert.equal(rows.get(p.purl), extras.get(p.purl), p.purl);
      const image = await server.ctx.db
        .selectFrom('images')
        .select('match_os')
        .where('digest', '=', bundles.a.digest)
        .executeTakeFirstOrThrow();
      assert.equal(image.match_os, matchOsOf(report.os));
    });
  });
});
