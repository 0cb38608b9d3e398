// The read API over real HTTP on both engines, every response checked against the OpenAPI document: images and their
// detail pages, artifact downloads byte-identical to the stored bytes, /diff byte-identical to `lading diff -o json`,
// /gates/evaluate equal to `lading scan --baseline`, the caller's scope (404 outside it, 403 without read), and bad
// parameters answered with one-line problem documents.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import { blobStoreOf } from '../src/api/read-common.js';
import { createApiToken } from '../src/auth/index.js';
import { type CliReports, cliReports, runLading } from './helpers/reports.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const digest = (hex: string) => `sha256:${hex.repeat(64 / hex.length)}`;
const OLD = digest('a1');
const NEW = digest('a2');
const OTHER = digest('c1');
const NO_REPORT = digest('d1');
const T = Date.UTC(2026, 10, 20);

let reports: CliReports;
let aBytes: Buffer;
let bBytes: Buffer;
let cliDiff: string;
let cliDiffBackward: string;
let cliGatePass: Report;
let cliGateFail: Report;

before(async () => {
  reports = await cliReports();
  [aBytes, bBytes] = await Promise.all([readFile(reports.aFile), readFile(reports.bFile)]);
  const r = reports;
  const [forward, backward, pass, fail] = await Promise.all([
    runLading(['diff', r.aFile, r.bFile, '-o', 'json']),
    runLading(['diff', r.bFile, r.aFile, '-o', 'json']),
    runLading(['scan', r.bTarget, '--db-dir', r.dbDir, '--baseline', r.aFile, '-o', 'json']),
    runLading(['scan', r.aTarget, '--db-dir', r.dbDir, '--baseline', r.bFile, '-o', 'json'], { allowFailure: true }),
  ]);
  cliDiff = forward.stdout;
  cliDiffBackward = backward.stdout;
  cliGatePass = JSON.parse(pass.stdout) as Report;
  cliGateFail = JSON.parse(fail.stdout) as Report;
});
after(() => reports.dispose());

forEachDatabase((kind) => {
  let server: TestServer;
  let aSha = '';
  let bSha = '';
  before(async () => {
    server = await startTestServer({ database: kind });
    const blobs = blobStoreOf(server.ctx);
    aSha = (await blobs.put(aBytes, { maxBytes: 1 << 26 })).sha256;
    bSha = (await blobs.put(bBytes, { maxBytes: 1 << 26 })).sha256;
    const report = (sha256: string, size: number) => ({
      sha256,
      kind: 'report-lading',
      role: 'report' as const,
      mediaType: 'application/json',
      size,
    });
    const pkg = (version: string) => ({
      purl: `pkg:apk/alpine/libssl1.1@${version}?arch=x86_64`,
      type: 'apk',
      name: 'libssl1.1',
      version,
    });
    await seedImages(server.ctx.db, [
      {
        digest: OLD,
        repository: 'ghcr.io/acme/api',
        tags: ['1.0'],
        at: T,
        packages: [pkg('1.1.1q-r0')],
        findings: [{ vuln: 'CVE-2023-0286', aliases: ['GHSA-x4qr-2fvf-3mr5'], package: 'libssl1.1', severity: 'HIGH' }],
        artifacts: [report(aSha, aBytes.length)],
        layers: [{ diffId: digest('1f'), size: 10 }],
        events: [{ type: 'image.ingested', at: T }],
      },
      {
        digest: NEW,
        repository: 'ghcr.io/acme/api',
        tags: ['1.1', 'latest'],
        at: T + 60_000,
        packages: [pkg('1.1.1t-r0')],
        findings: [{ vuln: 'CVE-2023-0464', package: 'libssl1.1', severity: 'HIGH', fixed: '1.1.1t-r1' }],
        artifacts: [report(bSha, bBytes.length)],
      },
      { digest: NO_REPORT, repository: 'ghcr.io/acme/web', at: T + 120_000 },
      {
        digest: OTHER,
        repository: 'docker.io/other/thing',
        at: T + 180_000,
        packages: [pkg('1.1.1q-r0')],
        findings: [{ vuln: 'CVE-2023-0286', package: 'libssl1.1', severity: 'HIGH' }],
        artifacts: [report(aSha, aBytes.length)],
      },
    ]);
  });
  after(() => server.close());

  const token = async (scopes: ('read' | 'ingest')[], repositoryPattern: string) =>
    (
      await createApiToken(server.ctx, {
        name: `${scopes.join('+')} ${repositoryPattern}`,
        scopes,
        repositoryPattern,
        expiresAt: server.ctx.now() + 86_400_000,
        ownerUserId: server.admin.userId,
      })
    ).token;

  describe('images', () => {
    it('lists, filters and pages images; every answer matches the OpenAPI document', async () => {
      const all = await server.api.get<{ items: { digest: string }[]; next_page_token: string | null }>(
        '/api/v1/images?sort=-ingestedAt',
      );
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(
        all.body.items.map((i) => i.digest),
        [OTHER, NO_REPORT, NEW, OLD],
      );
      const overview = await server.api.get<{ currentImages: number }>('/api/v1/overview');
      assert.equal(overview.status, 200, overview.text);
      assert.equal(overview.body.currentImages, 3);
      const filtered = await server.api.get<{ items: { digest: string }[] }>(
        '/api/v1/images?current=true&repository=ghcr.io/acme/*&minSeverity=high&kev=false&evidence=none&sort=-riskIndex',
      );
      assert.deepEqual(
        filtered.body.items.map((i) => i.digest),
        [NEW],
      );
      const first = await server.api.get<{ items: { digest: string }[]; next_page_token: string }>(
        '/api/v1/images?limit=3',
      );
      const rest = await server.api.get<{ items: { digest: string }[]; next_page_token: null }>(
        `/api/v1/images?limit=3&page_token=${encodeURIComponent(first.body.next_page_token)}`,
      );
      assert.deepEqual(
        rest.body.items.map((i) => i.digest),
        [OLD],
      );
      assert.equal(rest.body.next_page_token, null);
      const moved = await server.api.get(
        `/api/v1/images?limit=3&kev=true&page_token=${encodeURIComponent(first.body.next_page_token)}`,
      );
      assert.equal(moved.status, 400);
    });

    it('shows one image with its findings, packages, layers, evidence, events and artifacts', async () => {
      const detail = await server.api.get<{ tags: string[]; repositories: { name: string; current: boolean }[] }>(
        `/api/v1/images/${NEW}`,
      );
      assert.equal(detail.status, 200, detail.text);
      assert.deepEqual(detail.body.tags, ['1.1', 'latest']);
      const findings = await server.api.get<{ items: { id: string }[] }>(
        `/api/v1/images/${OLD}/findings?status=open&severity=high&q=ghsa-x4qr-2fvf-3mr5`.replace('ghsa', 'GHSA'),
      );
      assert.deepEqual(
        findings.body.items.map((f) => f.id),
        ['CVE-2023-0286'],
      );
      for (const part of ['packages', 'layers', 'evidence', 'events', 'artifacts']) {
        const answer = await server.api.get(`/api/v1/images/${OLD}/${part}`);
        assert.equal(answer.status, 200, `${part}: ${answer.text}`);
      }
      const artifacts = await server.api.get<{ items: { sha256: string; url: string }[] }>(
        `/api/v1/images/${OLD}/artifacts`,
      );
      assert.deepEqual(
        artifacts.body.items.map((a) => a.sha256),
        [aSha],
      );
    });

    it('downloads an artifact byte for byte, as a never-sniffed attachment', async () => {
      const response = await fetch(`${server.url}/api/v1/artifacts/${bSha}`, {
        headers: { authorization: `Bearer ${server.admin.token}` },
      });
      assert.equal(response.status, 200);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.ok(bytes.equals(bBytes));
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.match(response.headers.get('content-disposition') ?? '', /^attachment; filename="[0-9a-f]{64}"$/);
      assert.equal(response.headers.get('content-type'), 'application/json');
      server.validator.check({
        method: 'GET',
        path: `/api/v1/artifacts/${bSha}`,
        status: 200,
        contentType: response.headers.get('content-type'),
        body: bytes.toString('utf8'),
      });
      const missing = await server.api.get(`/api/v1/artifacts/${'0'.repeat(64)}`);
      assert.equal(missing.status, 404);
    });
  });

  describe('diff and gates', () => {
    // The seeded findings rows are not the reports' findings: the server answers from its rows (one libssl1.1
    // finding per image), over the reports' inventories. Byte identity with the CLI when the server's findings
    // equal the CLI's is shown on real ingests in server-judgement.test.ts.
    it('answers /diff with the CLI diff document over the server findings, from the previous image or a named one', async () => {
      type Diff = { findings: { new: { id: string }[]; fixed: { id: string }[] }; packages: unknown; old: unknown };
      const previous = await server.api.get<Diff>(`/api/v1/diff?to=${NEW}`);
      assert.equal(previous.status, 200, previous.text);
      const cli = JSON.parse(cliDiff) as Diff;
      assert.deepEqual([previous.body.old, previous.body.packages], [cli.old, cli.packages]);
      assert.deepEqual(
        [previous.body.findings.new.map((f) => f.id), previous.body.findings.fixed.map((f) => f.id)],
        [['CVE-2023-0464'], ['CVE-2023-0286']],
      );
      assert.ok(previous.text.endsWith('}\n') && previous.text.includes('\n  "old": {'), 'the CLI renderer');
      const named = await server.api.get<Diff>(`/api/v1/diff?from=${NEW}&to=${OLD}`);
      assert.deepEqual(named.body.packages, (JSON.parse(cliDiffBackward) as Diff).packages);
      assert.deepEqual(
        [named.body.findings.new.map((f) => f.id), named.body.findings.fixed.map((f) => f.id)],
        [['CVE-2023-0286'], ['CVE-2023-0464']],
      );
      const first = await server.api.get<{ code: string }>(`/api/v1/diff?to=${OLD}`);
      assert.equal(first.status, 422);
      assert.equal(first.body.code, 'no_previous_image');
      const none = await server.api.get<{ code: string; detail: string }>(`/api/v1/diff?from=${OLD}&to=${NO_REPORT}`);
      assert.equal(none.status, 422);
      assert.equal(none.body.code, 'no_report');
      assert.match(none.body.detail, /has no Lading report stored, nor an SBOM/);
    });

    it('gives the verdict of `lading scan --baseline` on the server findings, not on the reports CI pushed', async () => {
      type Gate = { verdict: string; notes: string[]; baseline: string; counts: { high: number }; direction: string };
      const pass = await server.api.post<Gate>('/api/v1/gates/evaluate', { digest: NEW, baseline: 'previous' });
      assert.equal(pass.status, 200, pass.text);
      assert.equal(cliGatePass.gate?.pass, true);
      const note = ['baseline: findings at high or above stayed at 1, no new critical'];
      assert.deepEqual(
        [pass.body.verdict, pass.body.notes, pass.body.baseline, pass.body.counts.high],
        ['pass', note, OLD, 1],
      );
      // the CLI fails OLD against NEW on the two reports; the server holds one HIGH finding in each image
      assert.equal(cliGateFail.gate?.pass, false);
      const fail = await server.api.post<Gate>('/api/v1/gates/evaluate', { digest: OLD, baseline: NEW });
      assert.deepEqual([fail.body.verdict, fail.body.notes, fail.body.direction], ['pass', note, 'stable']);
      const badPolicy = await server.api.post<{ code: string; detail: string }>('/api/v1/gates/evaluate', {
        digest: NEW,
        policy: 'version: 1\nrules: 7\n',
      });
      assert.equal(badPolicy.status, 422);
      assert.equal(badPolicy.body.code, 'invalid_policy');
      const noDigest = await server.api.post('/api/v1/gates/evaluate', { baseline: 'previous' });
      assert.equal(noDigest.status, 400);
    });
  });

  describe('vulnerabilities, packages, repositories, search', () => {
    it('answers which images have a CVE by any alias, package and text search, and repository history', async () => {
      const cve = await server.api.get<{ id: string; images: { affected: { count: number } } }>(
        '/api/v1/vulnerabilities/GHSA-x4qr-2fvf-3mr5',
      );
      assert.equal(cve.status, 200, cve.text);
      assert.equal(cve.body.id, 'CVE-2023-0286');
      assert.equal(cve.body.images.affected.count, 2);
      const images = await server.api.get<{ items: { digest: string }[] }>(
        '/api/v1/vulnerabilities/cve-2023-0286/images?current=false',
      );
      assert.deepEqual(
        images.body.items.map((i) => i.digest),
        [OTHER, OLD],
      );
      assert.equal((await server.api.get('/api/v1/vulnerabilities/CVE-1999-0001')).status, 404);
      const packages = await server.api.get<{ items: { version: string }[] }>(
        '/api/v1/packages?purl=pkg:apk/alpine/libssl1.1&version=1.1.1t-r0',
      );
      assert.deepEqual(
        packages.body.items.map((p) => p.version),
        ['1.1.1t-r0'],
      );
      const hits = await server.api.get<{ repositories: { name: string }[] }>('/api/v1/search?q=acme');
      assert.deepEqual(
        hits.body.repositories.map((r) => r.name),
        ['ghcr.io/acme/api', 'ghcr.io/acme/web'],
      );
      const repos = await server.api.get<{ items: { id: string; name: string }[] }>('/api/v1/repositories?name=api');
      assert.equal(repos.body.items.length, 1);
      const repo = await server.api.get<{ tracks: { current: string }[] }>(
        `/api/v1/repositories/${repos.body.items[0]?.id}`,
      );
      assert.deepEqual(
        repo.body.tracks.map((t) => t.current),
        [NEW],
      );
      const events = await server.api.get<{ items: { type: string; image: string }[] }>(
        '/api/v1/repositories/ghcr.io%2Facme%2Fapi/events',
      );
      assert.equal(events.status, 200, events.text);
      assert.deepEqual(
        events.body.items.map((e) => [e.type, e.image]),
        [['image.ingested', OLD]],
      );
      const byName = await server.api.get<{ name: string }>('/api/v1/repositories/ghcr.io%2Facme%2Fapi');
      assert.equal(byName.status, 200, byName.text);
      assert.equal(byName.body.name, 'ghcr.io/acme/api');
    });
  });

  describe('access', () => {
    it("answers 404 outside the caller's repositories, 403 without the read scope, 401 without a token", async () => {
      const team = await token(['read'], 'ghcr.io/acme/*');
      const asTeam = (path: string) => server.api.get(path, { token: team });
      assert.equal((await asTeam(`/api/v1/images/${NEW}`)).status, 200);
      for (const path of [
        `/api/v1/images/${OTHER}`,
        `/api/v1/images/${OTHER}/findings`,
        `/api/v1/images/${OTHER}/packages`,
        `/api/v1/images/${OTHER}/artifacts`,
        `/api/v1/diff?to=${OTHER}`,
        `/api/v1/diff?from=${OTHER}&to=${NEW}`,
        '/api/v1/repositories/docker.io%2Fother%2Fthing',
        '/api/v1/repositories/docker.io%2Fother%2Fthing/events',
      ]) {
        assert.equal((await asTeam(path)).status, 404, path);
      }
      const listed = await asTeam('/api/v1/images');
      assert.ok(!listed.text.includes(OTHER));
      const ingestOnly = await token(['ingest'], '*');
      assert.equal((await server.api.get('/api/v1/images', { token: ingestOnly })).status, 403);
      assert.equal((await server.api.get(`/api/v1/artifacts/${aSha}`, { token: null })).status, 401);
      const gate = await server.api.post('/api/v1/gates/evaluate', { digest: OTHER }, { token: team });
      assert.equal(gate.status, 404);
    });

    it('refuses bad parameters with one-line problem documents', async () => {
      for (const path of [
        '/api/v1/images?minSeverity=severe',
        '/api/v1/images?current=yes',
        '/api/v1/images?sort=name',
        '/api/v1/images?limit=500',
        '/api/v1/images?page_token=forged',
        '/api/v1/images/sha256:XYZ',
        '/api/v1/images?q=a&q=b',
        '/api/v1/search?q=a',
        '/api/v1/packages',
        '/api/v1/diff?to=latest',
        `/api/v1/artifacts/not-a-hash`,
      ]) {
        const answer = await server.api.get<{ detail: string }>(path);
        assert.equal(answer.status, 400, `${path}: ${answer.text}`);
        assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.doesNotMatch(answer.body.detail, /\n/);
      }
    });
  });
});
