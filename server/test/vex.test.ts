// POST /api/v1/vex: an OpenVEX 0.2 and a CycloneDX 1.6 VEX document (fixtures/vex, valid against the official
// schemas) about the real ingest path's two Alpine images become exceptions, matched by vulnerability alias and by
// product (image digest with package subcomponents, or a package purl with or without a version), only in the
// caller's triage repositories. The counters and the overview drop in the same transaction; each exception is an
// event; a re-import creates nothing new; what matched nothing is listed with why. An expiry is required (422),
// and malformed, hostile (fast-check) or oversized input answers a one-line problem, never a 500.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { readOfficialSchema } from '../../engine/test/helpers/official-schemas.js';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { parseVexDocument, purlMatches } from '../src/api/vex.js';
import { ROUTE_MODULES } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { ProblemError } from '../src/http/problem.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const DAY = 86_400_000;
const FIXTURES = join(import.meta.dirname, 'fixtures', 'vex');
/** The manifest digests the fixtures were written for (the bundles' images); a test swaps in the built ones. */
const FIXTURE_A = 'e9c8b3057361b1583564fc3ae90aca8de320b0d9797ed1d7aaed746fe4b62e1a';
const FIXTURE_B = '8d2b1a2a5d10a91d49843ed4cf1179555f0e5c5db01e7824424dbdde7da4ae72';

const fixtureText = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const fixture = (name: string) => JSON.parse(fixtureText(name)) as Record<string, unknown>;

type Counts = Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>;

interface VexImport {
  format: string;
  statements: number;
  applied: {
    vulnerability: string;
    product: string;
    repository: string;
    imageDigest: string | null;
    package: string | null;
    status: string;
    exception: string;
    created: boolean;
    suppressedFindings: number;
  }[];
  unmatched: { vulnerability: string; product: string | null; status: string; reason: string }[];
}

describe('VEX fixtures and parsing', () => {
  it('the fixtures are valid OpenVEX 0.2.0 and CycloneDX 1.6 by the official schemas', () => {
    const Ajv2020 = Ajv2020Module.default;
    const addFormats = addFormatsModule as unknown as (ajv: unknown) => void;
    const openvex = new Ajv2020({ strict: false, allErrors: true });
    addFormats(openvex);
    const validateOpenVex = openvex.compile(readOfficialSchema('openvex.schema.json'));
    assert.ok(validateOpenVex(fixture('openvex-acme-api.json')), JSON.stringify(validateOpenVex.errors));

    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res/schema');
    const cdx = new Ajv({ strict: false, allErrors: true });
    addFormats(cdx);
    for (const helper of ['spdx', 'jsf-0.82', 'cryptography-defs']) {
      const schema = JSON.parse(readFileSync(join(dir, `${helper}.SNAPSHOT.schema.json`), 'utf8'));
      schema.$id = `http://cyclonedx.org/schema/${helper}.SNAPSHOT.schema.json`;
      cdx.addSchema(schema);
    }
    const validateCdx = cdx.compile(JSON.parse(readFileSync(join(dir, 'bom-1.6.SNAPSHOT.schema.json'), 'utf8')));
    assert.ok(validateCdx(fixture('cyclonedx-acme-api.vex.json')), JSON.stringify(validateCdx.errors?.slice(0, 3)));
  });

  it('reads both formats into statements about image digests and package purls', () => {
    const open = parseVexDocument(fixture('openvex-acme-api.json'));
    assert.equal(open.format, 'openvex');
    assert.equal(open.claims.length, 5);
    assert.deepEqual(
      open.claims[0]?.targets.map((t) => [t.digest, t.purl]),
      [
        [`sha256:${FIXTURE_A}`, 'pkg:apk/alpine/libssl1.1@1.1.1q-r0'],
        [`sha256:${FIXTURE_A}`, 'pkg:apk/alpine/libcrypto1.1@1.1.1q-r0'],
      ],
    );
    assert.deepEqual(open.claims[0]?.ids, [
      'CVE-2023-0464',
      'https://nvd.nist.gov/vuln/detail/CVE-2023-0464',
      'ALPINE-CVE-2023-0464',
    ]);
    const cdx = parseVexDocument(fixture('cyclonedx-acme-api.vex.json'));
    assert.equal(cdx.format, 'cyclonedx');
    assert.deepEqual(
      cdx.claims.map((c) => [c.statusWord, c.status, c.targets.length, c.unusable.length]),
      [
        ['false_positive', 'false_positive', 1, 0],
        ['in_triage', null, 1, 0],
        ['not_affected', 'not_affected', 0, 1],
      ],
    );
    assert.equal(cdx.claims[1]?.targets[0]?.digest, `sha256:${FIXTURE_B}`, 'the metadata component is the image');
  });

  it('never widens a statement about an image named without its digest', () => {
    const parsed = parseVexDocument({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [
        {
          vulnerability: { name: 'CVE-2023-0464' },
          products: [{ '@id': 'pkg:oci/api?tag=latest', subcomponents: [{ '@id': 'pkg:apk/alpine/libssl1.1' }] }],
          status: 'not_affected',
          justification: 'component_not_present',
        },
      ],
    });
    assert.deepEqual(parsed.claims[0]?.targets, []);
    assert.match(parsed.claims[0]?.unusable[0]?.reason ?? '', /needs its digest/);
  });

  it('matches purls by name, and by version when the VEX gives one', () => {
    const stored = 'pkg:npm/%40babel/core@7.22.0';
    assert.ok(purlMatches('pkg:npm/%40babel/core', stored));
    assert.ok(purlMatches('pkg:npm/@babel/core@7.22.0', stored));
    assert.ok(!purlMatches('pkg:npm/%40babel/core@7.22.1', stored));
    assert.ok(!purlMatches('pkg:npm/%40babel/core-js', stored));
    assert.ok(
      purlMatches('pkg:apk/alpine/zlib@1.2.12-r3', 'pkg:apk/alpine/zlib@1.2.12-r3?arch=x86_64&distro=alpine-3.16.2'),
    );
    assert.ok(purlMatches('pkg:DEB/debian/openssl', 'pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64'));
    assert.ok(!purlMatches('not a purl', stored));
  });

  it('answers hostile documents with a 422 problem in one line, never another error (fast-check)', () => {
    const base = fixture('openvex-acme-api.json');
    const cdx = fixture('cyclonedx-acme-api.vex.json');
    const check = (doc: unknown) => {
      try {
        parseVexDocument(doc);
      } catch (err) {
        assert.ok(err instanceof ProblemError, `not a problem: ${String(err)}`);
        assert.equal(err.status, 422);
        assert.ok(!String(err.detail).includes('\n'));
      }
    };
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 300 });
    // the fixtures with one part replaced by anything: a statement, a product, a status, the components
    const anything = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(anything, fc.nat(4), fc.nat(3), (value, i, what) => {
        const doc = structuredClone(base) as { statements: Record<string, unknown>[] };
        const s = doc.statements[i]!;
        if (what === 0) doc.statements[i] = value as Record<string, unknown>;
        else if (what === 1) s.products = value;
        else if (what === 2) s.status = value;
        else s.vulnerability = value;
        check(doc);
        const c = structuredClone(cdx) as { vulnerabilities: Record<string, unknown>[]; components: unknown };
        if (what === 0) c.components = value;
        else if (what === 1) c.vulnerabilities[i % 3]!.affects = value;
        else if (what === 2) c.vulnerabilities[i % 3]!.analysis = value;
        else c.vulnerabilities[i % 3] = value as Record<string, unknown>;
        check(c);
      }),
      { numRuns: 300 },
    );
    // hand-made: deep nesting, too many statements, a component tree too deep
    let deep: unknown = {};
    for (let i = 0; i < 5000; i++) deep = { components: [deep] };
    check({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [deep], vulnerabilities: [] });
    const many = { ...base, statements: Array.from({ length: 1001 }, () => (base.statements as unknown[])[0]) };
    assert.throws(() => parseVexDocument(many), /more than 1000 statements/);
    assert.throws(
      () => parseVexDocument({ bomFormat: 'CycloneDX', specVersion: '1.3', vulnerabilities: [] }),
      /1\.4, 1\.5 or 1\.6/,
    );
  });
});

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('VEX import', () => {
    let server: TestServer;
    const expires = (days: number) => new Date(server.ctx.now() + days * DAY).toISOString();
    const counts = async (digest: string) =>
      (await server.api.get<{ counts: Counts; suppressed: number }>(`/api/v1/images/${digest}`)).body;
    /** A fixture with the digests of the images this run built. */
    const document = (name: string) =>
      JSON.parse(
        fixtureText(name)
          .replaceAll(FIXTURE_A, bundles.a.digest.slice(7))
          .replaceAll(FIXTURE_B, bundles.b.digest.slice(7)),
      );

    before(async () => {
      server = await startTestServer({
        database,
        routes: ROUTE_MODULES.map((m) => (m === registerIngestRoutes ? ingestRoutes() : m)),
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
      for (const [bundle, tags, observedAt] of [
        [bundles.a, ['3.16.2'], '2026-11-01T10:00:00Z'],
        [bundles.b, ['3.16.4'], '2026-11-08T10:00:00Z'],
      ] as const) {
        const { body, headers } = await bundleBody(
          { repository: REPOSITORY, digest: bundle.digest, tags, observedAt },
          [
            ['sbom', bundle.sbomFile],
            ['report', bundle.reportFile],
          ],
        );
        const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', {
          body,
          headers,
        });
        assert.equal(accepted.status, 202, accepted.text);
        const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
        assert.equal(job.body.state, 'succeeded', job.text);
      }
    });
    after(() => server.close());

    it('requires an expiry and refuses malformed, unknown-format and oversized input with problems', async () => {
      const doc = document('openvex-acme-api.json');
      for (const [body, status, field] of [
        [{ document: doc }, 422, 'expiresAt'],
        [{ document: doc, expiresAt: 'tomorrow' }, 422, 'expiresAt'],
        [{ document: doc, expiresAt: expires(400) }, 422, 'expiresAt'],
        [{ expiresAt: expires(30) }, 422, 'document'],
        [{ document: { hello: 'world' }, expiresAt: expires(30) }, 422, 'document'],
        [
          { document: { ...doc, statements: [{ vulnerability: {}, status: 'not_affected' }] }, expiresAt: expires(30) },
          422,
          'document.statements[0].vulnerability',
        ],
        [{ document: doc, expiresAt: expires(30), extra: true }, 422, 'extra'],
      ] as const) {
        const res = await server.api.post<{ field?: string; detail: string }>('/api/v1/vex', body);
        assert.equal(res.status, status, res.text);
        assert.equal(res.body.field, field, res.text);
      }
      const notJson = await server.api.request('POST', '/api/v1/vex', {
        body: '{"document": {"@context": ',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(notJson.status, 400, notJson.text);
      const huge = await server.api.post('/api/v1/vex', {
        document: { ...doc, padding: 'x'.repeat(1_200_000) },
        expiresAt: expires(30),
      });
      assert.equal(huge.status, 413, huge.text);
      const deep = await server.api.request('POST', '/api/v1/vex', {
        body: `{"expiresAt":"${expires(30)}","document":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.ok([400, 422].includes(deep.status), deep.text);
      assert.equal(
        (await server.api.post('/api/v1/vex', { document: doc, expiresAt: expires(30), repository: 'nowhere/else' }))
          .status,
        404,
      );
    });

    it('imports OpenVEX: exceptions per image subcomponent and per package, counters lowered, the rest listed', async () => {
      const beforeA = await counts(bundles.a.digest);
      const beforeB = await counts(bundles.b.digest);
      const overviewBefore = (await server.api.get<{ open: Counts }>('/api/v1/overview')).body;
      const res = await server.api.post<VexImport>('/api/v1/vex', {
        document: document('openvex-acme-api.json'),
        expiresAt: expires(90),
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.format, 'openvex');
      assert.equal(res.body.statements, 5);
      assert.deepEqual(
        res.body.applied.map((a) => [
          a.vulnerability,
          a.imageDigest,
          a.package,
          a.status,
          a.created,
          a.suppressedFindings,
        ]),
        [
          ['CVE-2023-0464', bundles.a.digest, 'pkg:apk/alpine/libssl1.1@1.1.1q-r0', 'not_affected', true, 1],
          ['CVE-2023-0464', bundles.a.digest, 'pkg:apk/alpine/libcrypto1.1@1.1.1q-r0', 'not_affected', true, 1],
          ['CVE-2023-0286', null, 'pkg:apk/alpine/libssl1.1', 'not_affected', true, 1],
        ],
      );
      assert.ok(res.body.applied.every((a) => a.repository === REPOSITORY));
      assert.deepEqual(
        res.body.unmatched.map((u) => [u.vulnerability, u.status, u.reason.replace(/ in .*$/, '')]),
        [
          ['CVE-2022-4304', 'affected', 'status affected suppresses nothing'],
          ['CVE-2023-0215', 'fixed', 'no finding of CVE-2023-0215'],
          ['CVE-2099-0001', 'not_affected', 'no vulnerability known as CVE-2099-0001'],
        ],
      );
      const afterA = await counts(bundles.a.digest);
      assert.equal(afterA.counts.high, beforeA.counts.high - 3);
      assert.equal(afterA.suppressed, beforeA.suppressed + 3);
      assert.deepEqual((await counts(bundles.b.digest)).counts, beforeB.counts, 'the other image keeps its findings');
      const overview = (await server.api.get<{ open: Counts }>('/api/v1/overview')).body;
      // the overview counts current images only, so it drops by at most the three
      assert.ok(overview.open.high <= overviewBefore.open.high);

      const listed = await server.api.get<{
        items: { id: string; source: string; reason: string; justification: string | null }[];
      }>('/api/v1/exceptions');
      const mine = listed.body.items.filter((x) => res.body.applied.some((a) => a.exception === x.id));
      assert.equal(mine.length, 3);
      assert.ok(mine.every((x) => x.source === 'vex'));
      const first = mine.find((x) => x.id === res.body.applied[0]?.exception);
      assert.equal(first?.justification, 'vulnerable_code_not_in_execute_path');
      assert.match(first?.reason ?? '', /policy tree code is not reached.*OpenVEX https:\/\/vex\.acme\.example/);

      const events = await server.ctx.db
        .selectFrom('events')
        .select('request_id')
        .where('type', '=', 'exception.created')
        .execute();
      assert.deepEqual(events.map((e) => e.request_id).sort(), res.body.applied.map((a) => a.exception).sort());

      // again: the same exceptions, nothing new suppressed, no new events
      const again = await server.api.post<VexImport>('/api/v1/vex', {
        document: document('openvex-acme-api.json'),
        expiresAt: expires(90),
      });
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(
        again.body.applied.map((a) => [a.exception, a.created, a.suppressedFindings]),
        res.body.applied.map((a) => [a.exception, false, 0]),
      );
      assert.deepEqual((await counts(bundles.a.digest)).counts, afterA.counts);
      const eventsAgain = await server.ctx.db
        .selectFrom('events')
        .select('id')
        .where('type', 'like', 'exception.%')
        .execute();
      assert.equal(eventsAgain.length, 3);
    });

    it('imports CycloneDX VEX by bom-ref; in_triage and BOM-Links into other documents are listed, not applied', async () => {
      const before = await counts(bundles.b.digest);
      const res = await server.api.post<VexImport>('/api/v1/vex', {
        document: document('cyclonedx-acme-api.vex.json'),
        expiresAt: expires(30),
        repository: REPOSITORY,
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.format, 'cyclonedx');
      assert.deepEqual(
        res.body.applied.map((a) => [a.vulnerability, a.imageDigest, a.package, a.status, a.suppressedFindings]),
        [['CVE-2023-0464', null, 'pkg:apk/alpine/libcrypto1.1@1.1.1t-r0', 'false_positive', 1]],
      );
      assert.deepEqual(
        res.body.unmatched.map((u) => [u.vulnerability, u.status]),
        [
          ['CVE-2023-0464', 'in_triage'],
          ['CVE-2022-37434', 'not_affected'],
        ],
      );
      assert.match(res.body.unmatched[1]?.reason ?? '', /BOM-Link/);
      const after = await counts(bundles.b.digest);
      assert.equal(after.counts.high, before.counts.high - 1);
      const findings = await server.api.get<{ items: { id: string; status: string; package: { name: string } }[] }>(
        `/api/v1/images/${bundles.b.digest}/findings?limit=200`,
      );
      assert.equal(findings.status, 200, findings.text);
    });

    it('applies only in the caller’s triage repositories; without triage it is 403', async () => {
      const mint = (scopes: ('read' | 'triage')[], repositoryPattern: string) =>
        createApiToken(server.ctx, {
          name: `${scopes.join('+')} ${repositoryPattern}`,
          scopes,
          repositoryPattern,
          expiresAt: server.ctx.now() + DAY,
          ownerUserId: server.admin.userId,
        });
      const reader = await mint(['read'], '*');
      const body = { document: document('openvex-acme-api.json'), expiresAt: expires(30) };
      assert.equal((await server.api.post('/api/v1/vex', body, { token: reader.token })).status, 403);
      const other = await mint(['read', 'triage'], 'registry.example:5000/other/*');
      const res = await server.api.post<VexImport>('/api/v1/vex', body, { token: other.token });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.applied, []);
      assert.ok(res.body.unmatched.some((u) => /in your repositories/.test(u.reason)));
      assert.ok(!res.text.includes(REPOSITORY), 'another team’s repository is never named');
      const outside = await server.api.post('/api/v1/vex', { ...body, repository: REPOSITORY }, { token: other.token });
      assert.equal(outside.status, 404, outside.text);
    });
  });
});
