// The dashboard in a real browser (Debian's Chromium driven by playwright-core, never a downloaded browser) against a
// real lading-server on 127.0.0.1:0, seeded through the real ingest API with two builds the CLI scanned (Alpine
// 3.16.2, then 3.16.4: an openssl bump that fixes CVE-2023-0286). Every page must show the API's own numbers, pass
// axe-core without a serious or critical violation, and work from the keyboard; screenshots of every page go to
// test-output/screens/ (gitignored) for a human to look at.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCosignKeyPair } from '@lading/engine/attest';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../engine/test/helpers/paths.js';
import { FIXTURES } from '../../engine/test/helpers/vulndb-fixtures.js';
import { ingestRoutes, registerIngestRoutes } from '../../server/src/api/ingest.js';
import { ROUTE_MODULES } from '../../server/src/app.js';
import { authKeysOf } from '../../server/src/auth/index.js';
import { SESSION_COOKIE, sessionIdHash } from '../../server/src/auth/sessions.js';
import { insertSession, setPassword } from '../../server/src/auth/store.js';
import { registerIngestJob } from '../../server/src/ingest/process.js';
import { blobStoreOf } from '../../server/src/ingest/store.js';
import { recordDailyMetrics } from '../../server/src/metrics/index.js';
import type { VulndbFreshness } from '../../server/src/vulndata/freshness.js';
import { registerVulndataJobs } from '../../server/src/vulndata/index.js';
import { bundleBody, makeBundles, type TestBundles } from '../../server/test/helpers/bundles.js';
import { runLading } from '../../server/test/helpers/reports.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { type EvidenceFixture, makeEvidenceFixture } from './evidence-fixture.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const TAMPERED_REPOSITORY = 'registry.example:5000/acme/worker';
const PASSWORD = 'correct horse battery staple 42';
const SCREENS = join(REPO_ROOT, 'test-output', 'screens');
const AXE_SOURCE = readFileSync(join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

interface Overview {
  currentImages: number;
  withCritical: number;
  withKev: number;
  evidenceFailed: number;
  open: Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>;
  riskIndex: number;
  evidenceVerified: number;
  stale: number;
  staleDays: number;
  newVulnerabilities24h: number;
}

interface Metrics {
  mttrDays: Record<string, { n: number; meanDays: number | null }>;
  sla: Record<string, { openBreaches: number }>;
}

let bundles: TestBundles;
let evidence: EvidenceFixture;
let cliDiff: unknown;
let server: TestServer;
let browser: Browser;

before(async () => {
  [bundles, evidence] = await Promise.all([makeBundles(), makeEvidenceFixture(TAMPERED_REPOSITORY)]);
  const [signedA, signedB] = await Promise.all([
    evidence.sign(bundles.a, REPOSITORY),
    evidence.sign(bundles.b, REPOSITORY),
  ]);
  cliDiff = JSON.parse((await runLading(['diff', bundles.a.reportFile, bundles.b.reportFile, '-o', 'json'])).stdout);
  server = await startTestServer({
    database: 'sqlite',
    routes: ROUTE_MODULES.map((m) => (m === registerIngestRoutes ? ingestRoutes() : m)),
    jobHandlers: (runner, ctx) => {
      registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir });
      // imports go to the server's own store (<data dir>/vulndb), not the one the ingests matched with: the
      // settings flow imports one record to have a data generation to show, and the findings stay as they are
      registerVulndataJobs(runner, ctx);
    },
  });
  await setPassword(server.ctx.db, server.admin.userId, PASSWORD);
  // The keys are trusted through the API before anything is ingested: the test key for every repository, and the
  // key that signed the tampered image's provenance (before its byte flipped) for that repository only.
  for (const [publicKey, repositoryPattern] of [
    [evidence.publicKeyPem, '*'],
    [evidence.tamperedKeyPem, TAMPERED_REPOSITORY],
  ] as const) {
    const trusted = await server.api.request('POST', '/api/v1/trusted-keys', {
      json: { publicKey, repositoryPattern },
    });
    assert.equal(trusted.status, 201, trusted.text);
  }
  for (const [repository, digest, tags, observedAt, parts] of [
    [
      REPOSITORY,
      bundles.a.digest,
      ['3.16.2', 'latest'],
      '2026-11-01T10:00:00Z',
      [
        ['sbom', bundles.a.sbomFile],
        ['report', bundles.a.reportFile],
        ['attestation', signedA.attestationFile],
        ['signature', signedA.signatureFile],
      ],
    ],
    [
      REPOSITORY,
      bundles.b.digest,
      ['3.16.4', 'latest'],
      '2026-11-08T10:00:00Z',
      [
        ['sbom', bundles.b.sbomFile],
        ['report', bundles.b.reportFile],
        ['attestation', signedB.attestationFile],
        ['signature', signedB.signatureFile],
      ],
    ],
    [
      TAMPERED_REPOSITORY,
      evidence.tampered.digest,
      ['1.0', 'latest'],
      '2026-11-09T10:00:00Z',
      [
        ['report', evidence.tampered.reportFile],
        ['attestation', evidence.tampered.attestationFile],
      ],
    ],
  ] as const) {
    const { body, headers } = await bundleBody({ repository, digest, tags, observedAt }, parts);
    const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
    assert.equal(accepted.status, 202, accepted.text);
    const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
    assert.equal(job.body.state, 'succeeded', job.text);
  }
  mkdirSync(SCREENS, { recursive: true });
  // playwright-core gives a plain launch a fresh temporary --user-data-dir of its own (and refuses the flag)
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await bundles?.dispose();
  await evidence?.dispose();
});

/** The signed-in browser state (the session cookie), made once: the login is rate limited per name. */
let session: Awaited<ReturnType<BrowserContext['storageState']>> | undefined;

/** A fresh browser page (signed in unless `stranger`) that fails the test on any script error and any answer >= 500. */
async function openPage(
  options: { stranger?: boolean; storage?: NonNullable<typeof session> } = {},
): Promise<{ page: Page; problems: string[] }> {
  const storageState = options.storage ?? (options.stranger ? undefined : session);
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: { width: 1280, height: 900 },
    ...(storageState ? { storageState } : {}),
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (401|404)/.test(message.text()))
      problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} from ${response.url()}`);
  });
  return { page, problems };
}

/** Signs in through the login page with the keyboard only (once; later pages reuse the session). */
async function signIn(page: Page): Promise<void> {
  await page.goto('/');
  if (session) {
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    return;
  }
  await page
    .getByLabel(/login|user/i)
    .first()
    .focus();
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  session = await page.context().storageState();
}

async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => document.querySelector('main h1') && !document.querySelector('[data-loading]'));
}

/** axe-core's serious and critical violations on the page as it is now (its source injected: the CSP forbids inline tags). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.targets.join(' ')}`);
}

async function check(page: Page, problems: string[], screen: string): Promise<void> {
  await settle(page);
  await page.screenshot({ path: join(SCREENS, `${screen}.png`), fullPage: true });
  assert.deepEqual(await axeViolations(page), [], `axe on ${screen}`);
  assert.deepEqual(problems, [], `errors on ${screen}`);
  assert.equal(
    await page.locator('.error, [role="alert"]').count(),
    0,
    `${screen} shows an error: ${await page.locator('.error, [role="alert"]').allInnerTexts()}`,
  );
}

describe('the dashboard in Chromium', () => {
  it('shows the login page to a stranger, without violations', async () => {
    const { page, problems } = await openPage({ stranger: true });
    await page.goto('/');
    await page.getByRole('button', { name: /sign in|log in/i }).waitFor();
    await page.screenshot({ path: join(SCREENS, 'login.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it("overview cards equal GET /api/v1/overview's and /metrics' numbers; the 30-day trend's table equals /trends", async () => {
    // today's trend point, as the metrics.daily job records it
    await recordDailyMetrics(server.ctx.db, server.ctx.now());
    const { page, problems } = await openPage();
    await signIn(page);
    await check(page, problems, 'overview');
    const api = (await server.api.get<Overview>('/api/v1/overview')).body;
    const card = async (label: string) => (await page.locator(`[data-card="${label}"] .card-value`).innerText()).trim();
    assert.equal(await card('Current images'), String(api.currentImages));
    assert.equal(await card('Images with CRITICAL'), String(api.withCritical));
    assert.equal(await card('Images with KEV'), String(api.withKev));
    assert.equal(await card('Evidence failed'), String(api.evidenceFailed));
    for (const s of ['critical', 'high', 'medium', 'low'] as const)
      assert.equal(await card(`Open ${s}`), String(api.open[s]));
    assert.equal(await card('Stale images'), String(api.stale));
    assert.equal(await card('New CVEs (24 h)'), String(api.newVulnerabilities24h));
    assert.equal(await card('Evidence coverage'), `${Math.round((100 * api.evidenceVerified) / api.currentImages)}%`);
    // acme/api's latest and the tampered acme/worker image
    assert.equal(api.currentImages, 2);
    assert.equal(api.evidenceFailed, 1);
    assert.equal(api.evidenceVerified, 1);
    assert.equal(await card('Evidence coverage'), '50%');
    // MTTR and SLA breaches come from /metrics over the same 30 days
    const metrics = (await server.api.get<Metrics>('/api/v1/metrics?scope=fleet&window=30d')).body;
    let days = 0;
    let resolved = 0;
    for (const m of Object.values(metrics.mttrDays))
      if (m.meanDays !== null && m.n > 0) {
        days += m.meanDays * m.n;
        resolved += m.n;
      }
    assert.equal(await card('MTTR'), resolved === 0 ? '—' : `${(days / resolved).toFixed(1)} d`);
    const breaches = Object.values(metrics.sla).reduce((sum, row) => sum + row.openBreaches, 0);
    assert.equal(await card('SLA breaches'), String(breaches));
    // the 30-day trend: a text summary tied to the canvas, and its table (opened by keyboard) holds /trends' points
    const from = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    const trend = (
      await server.api.get<{ points: { date: string; critical: number; high: number; medium: number }[] }>(
        `/api/v1/trends?scope=fleet&interval=day&from=${from}`,
      )
    ).body;
    assert.ok(trend.points.length > 0, 'the daily job recorded a point');
    assert.match(await page.locator('#overview-trend-summary').innerText(), /critical, high and medium open findings/);
    assert.equal(
      await page.locator('canvas[aria-describedby="overview-trend-summary"]').count(),
      1,
      'the chart is drawn with its summary',
    );
    await page.locator('figure:has(#overview-trend-summary) button').focus();
    await page.keyboard.press('Enter');
    const rows = await page
      .locator('table[data-chart-table="overview-trend"] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent?.trim() ?? '')));
    assert.deepEqual(
      rows,
      trend.points.map((p) => [p.date, String(p.critical), String(p.high), String(p.medium)]),
    );
    await page.screenshot({ path: join(SCREENS, 'overview-trend-table.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), []);
    await page.context().close();
  });

  it('finds the images with CVE-2023-0286 from the search box, by keyboard only', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.getByRole('searchbox').focus();
    await page.keyboard.type('CVE-2023-0286');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Search results/ }).waitFor();
    await check(page, problems, 'search');
    const link = page.getByRole('link', { name: 'CVE-2023-0286' });
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/vulns\/CVE-2023-0286/);
    await check(page, problems, 'vulnerability');
    // fixed in the current build: the page says so, and one more keyboard step shows every image that had it
    assert.equal(await page.locator('main a[href^="/images/sha256:"]').count(), 0);
    await page.getByRole('link', { name: /Show all images/ }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/current=false/);
    await check(page, problems, 'vulnerability-all');
    const digests = await page
      .locator('main a[href^="/images/sha256:"]')
      .evaluateAll((links) => links.map((a) => (a.getAttribute('href') ?? '').slice('/images/'.length)));
    assert.deepEqual([...new Set(digests)], [bundles.a.digest]);
    await page.context().close();
  });

  it('renders every page of the app', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    for (const [path, screen] of [
      ['/images', 'images'],
      ['/images?current=true&minSeverity=high', 'images-filtered'],
      ['/repositories', 'repositories'],
    ] as const) {
      await page.goto(path);
      await check(page, problems, screen);
      // the filter form shows the filters the URL holds (a select's value set from the URL)
      if (screen === 'images-filtered') assert.equal(await page.getByLabel('At least').inputValue(), 'high');
    }
    await page.goto('/repositories');
    await page.getByRole('link', { name: REPOSITORY }).click();
    await check(page, problems, 'repository');
    await page.context().close();
  });

  it('renders every tab of an image; the diff tab equals `lading diff -o json`', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    for (const tab of ['findings', 'packages', 'layers', 'evidence', 'history']) {
      await page.goto(`/images/${bundles.b.digest}?tab=${tab}`);
      await page.getByRole('tab', { name: new RegExp(tab, 'i') }).waitFor();
      assert.equal(await page.getByRole('tab', { selected: true }).innerText(), tab[0]?.toUpperCase() + tab.slice(1));
      await check(page, problems, `image-${tab}`);
      assert.doesNotMatch(await page.locator('main').innerText(), /\{"|\[object Object\]/, `${tab} shows raw JSON`);
    }
    await page.goto(`/images/${bundles.b.digest}?tab=diff`);
    await check(page, problems, 'image-diff');
    const diff = cliDiff as {
      findings: {
        new: { id: string; package: { name: string } }[];
        fixed: { id: string; package: { name: string } }[];
      };
      packages: { changed: { name: string; from: string; to: string }[] };
      direction: string;
    };
    const listed = (kind: string) =>
      page.locator(`[data-diff="${kind}"] li`).evaluateAll((items) => items.map((li) => li.textContent?.trim() ?? ''));
    const expected = (findings: { id: string; package: { name: string } }[]) =>
      findings.map((f) => `${f.id} in ${f.package.name}`);
    for (const kind of ['new', 'fixed'] as const) {
      const shown = await listed(kind);
      assert.equal(shown.length, diff.findings[kind].length, kind);
      for (const [i, text] of shown.entries()) {
        assert.ok(text.includes(expected(diff.findings[kind])[i] ?? '?'), `${kind}: ${text}`);
      }
    }
    assert.ok(
      diff.findings.fixed.some((f) => f.id === 'CVE-2023-0286'),
      'the bump fixes CVE-2023-0286',
    );
    assert.equal(await page.locator('[data-diff-direction]').getAttribute('data-diff-direction'), diff.direction);
    const rows = await page
      .locator('table:has(caption:text("Packages whose version changed")) tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => Array.from(tr.querySelectorAll('td,th')).map((c) => c.textContent?.trim() ?? '')),
      );
    assert.deepEqual(
      rows,
      diff.packages.changed.map((c) => [c.name, c.from, c.to]),
    );
    await page.context().close();
  });

  it("the tampered image's evidence tab shows the failed signature check and why; the signed build's is verified", async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    const evidenceOf = async (digest: string) =>
      (
        await server.api.get<{ state: string; checks: { check: string; result: string; detail: unknown }[] }>(
          `/api/v1/images/${digest}/evidence`,
        )
      ).body;
    const checkRow = (name: string) =>
      page
        .locator('table:has(caption:text("Evidence checks")) tbody tr', {
          has: page.locator(`code:text-is("${name}")`),
        })
        .locator('td')
        .evaluateAll((tds) => tds.map((td) => td.textContent?.trim() ?? ''));

    const tampered = await evidenceOf(evidence.tampered.digest);
    assert.equal(tampered.state, 'failed', JSON.stringify(tampered.checks));
    await page.goto(`/images/${evidence.tampered.digest}?tab=evidence`);
    await check(page, problems, 'image-evidence-tampered');
    assert.equal(await page.locator('[data-evidence-state]').innerText(), 'failed');
    // the build facts read from the tampered provenance are marked as unverified where they are shown
    assert.match(await page.locator('[data-build-untrusted]').innerText(), /Unverified/);
    const [name, result, reason] = await checkRow('provenance.signature');
    assert.deepEqual([name, result], ['provenance.signature', 'fail']);
    assert.match(reason ?? '', /no DSSE signature matches|unreadable|signature/i, reason);
    const apiReason = tampered.checks.find((c) => c.check === 'provenance.signature')?.detail;
    assert.ok(JSON.stringify(apiReason).includes(reason ?? '?'), `the API's reason ${JSON.stringify(apiReason)}`);

    const good = await evidenceOf(bundles.b.digest);
    assert.equal(good.state, 'verified', JSON.stringify(good.checks));
    await page.goto(`/images/${bundles.b.digest}?tab=evidence`);
    await check(page, problems, 'image-evidence-verified');
    assert.equal(await page.locator('[data-evidence-state]').innerText(), 'verified');
    assert.equal(await page.locator('[data-build-untrusted]').count(), 0);
    const [, signature, why, keyId] = await checkRow('provenance.signature');
    assert.equal(signature, 'pass');
    assert.match(why ?? '', /verified with trusted key key_[0-9a-f]{16}/);
    assert.match(keyId ?? '', /^key_[0-9a-f]{16}$/);
    await page.context().close();
  });

  it('an exception made on the findings tab lowers the counts; revoking it on the exceptions page restores them', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    const overview = async () => (await server.api.get<Overview>('/api/v1/overview')).body;
    const before = await overview();
    await page.goto(`/images/${bundles.b.digest}?tab=findings`);
    await settle(page);
    await page.getByRole('button', { name: 'Add exception for CVE-2023-0464 in libssl1.1' }).click();
    const form = page.getByRole('form', { name: /Exception for CVE-2023-0464/ });
    await form.getByLabel('Status').selectOption('not_affected');
    await form.getByLabel(/Reason/).fill('the service never verifies certificate policies');
    const expiry = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    await form.getByLabel(/Expires/).fill(expiry);
    await page.screenshot({ path: join(SCREENS, 'image-exception-form.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), [], 'axe on the exception form');
    await form.getByRole('button', { name: 'Save exception' }).click();
    // saved: the form closes (an error would stay in it as an alert) and the findings reload
    await form.waitFor({ state: 'detached' });
    const after = await overview();
    assert.equal(after.open.high, before.open.high - 1, 'one HIGH finding suppressed');
    await page.goto('/');
    await settle(page);
    assert.equal(
      (await page.locator('[data-card="Open high"] .card-value').textContent())?.trim(),
      String(after.open.high),
    );
    await page.goto('/exceptions');
    await check(page, problems, 'exceptions');
    assert.match(await page.locator('main').innerText(), /CVE-2023-0464/);
    await page.getByRole('button', { name: 'Revoke the exception for CVE-2023-0464' }).click();
    await page.getByText(/Active exceptions/).waitFor();
    await page.waitForFunction(() => !document.body.innerText.includes('CVE-2023-0464'));
    assert.deepEqual((await overview()).open, before.open);
    await page.context().close();
  });

  it('a VEX document imported on the exceptions page lowers the counts and lists what matched nothing', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    const overview = async () => (await server.api.get<Overview>('/api/v1/overview')).body;
    const total = (o: Overview) => Object.values(o.open).reduce((a, b) => a + b, 0);
    const before = await overview();
    // OpenVEX 0.2, as a vendor would publish it: one statement about the current build, one about a CVE it lacks
    const vex = {
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': 'https://vex.example.org/acme/api/2026-11-20',
      author: 'Acme product security',
      timestamp: '2026-11-20T09:00:00Z',
      version: 1,
      statements: [
        {
          vulnerability: { name: 'CVE-2023-0464' },
          products: [{ '@id': bundles.b.digest }],
          status: 'not_affected',
          justification: 'vulnerable_code_not_in_execute_path',
          impact_statement: 'the service never verifies certificate policies',
        },
        {
          vulnerability: { name: 'CVE-2099-0001' },
          products: [{ '@id': bundles.b.digest }],
          status: 'not_affected',
          justification: 'component_not_present',
        },
      ],
    };
    await page.goto('/exceptions');
    await settle(page);
    const form = page.getByRole('form', { name: 'Import a VEX document' });
    // through the file picker, which fills the document field
    await form.getByLabel(/VEX file/).setInputFiles({
      name: 'acme-api.openvex.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(vex, null, 2)),
    });
    await page.waitForFunction(() => (document.getElementById('vex-text') as HTMLTextAreaElement).value.length > 0);
    const expiry = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
    await form.getByLabel(/expire on/).fill(expiry);
    await form.getByRole('button', { name: 'Import VEX' }).click();
    await page.locator('[data-vex-result]').waitFor();
    await check(page, problems, 'exceptions-vex-import');
    const applied = await page
      .locator('table:has(caption:text-is("Applied statements")) tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent?.trim())));
    assert.ok(applied.length >= 1, 'the statement about the current build applied');
    assert.ok(
      applied.every((row) => row[0] === 'CVE-2023-0464' && row[1] === 'not_affected'),
      JSON.stringify(applied),
    );
    const suppressed = applied.reduce((sum, row) => sum + Number(row[4]), 0);
    assert.ok(suppressed > 0, 'findings were suppressed');
    const unmatched = await page
      .locator('table:has(caption:text-is("Statements that matched nothing")) tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')?.textContent?.trim()));
    assert.deepEqual(unmatched, ['CVE-2099-0001']);
    assert.match(
      await page
        .getByRole('status')
        .filter({ hasText: /^Imported/ })
        .innerText(),
      new RegExp(`2 statements: ${applied.length} applied \\(${suppressed} findings suppressed\\), 1 matched nothing`),
    );
    // the counts went down by what was suppressed, on the API and on the overview
    const after = await overview();
    assert.equal(total(after), total(before) - suppressed);
    assert.equal(after.open.high, before.open.high - suppressed, 'CVE-2023-0464 is HIGH');
    await page.goto('/');
    await settle(page);
    assert.equal(
      (await page.locator('[data-card="Open high"] .card-value').textContent())?.trim(),
      String(after.open.high),
    );
    // the imported exceptions are listed with the statement's justification as their reason; revoked, all is back
    await page.goto('/exceptions');
    await settle(page);
    const rows = page.locator('table:has(caption:text-is("Active exceptions")) tbody tr', { hasText: 'CVE-2023-0464' });
    assert.match(await rows.first().innerText(), /vulnerable_code_not_in_execute_path|never verifies/);
    for (let remaining = await rows.count(); remaining > 0; remaining = await rows.count()) {
      await page.getByRole('button', { name: 'Revoke the exception for CVE-2023-0464' }).first().click();
      // the list is fetched again after a revoke: wait until it is one row shorter, not for the network to be idle
      // (a click on a row the refetch is replacing would wait for a button that no longer exists)
      await rows.nth(remaining - 1).waitFor({ state: 'detached' });
      await settle(page);
    }
    assert.deepEqual((await overview()).open, before.open);
    await page.context().close();
  });

  it("the trends chart's table holds GET /api/v1/trends' numbers; the weekly summary page renders", async () => {
    // the daily job's points (the metrics.daily schedule runs it at night)
    await recordDailyMetrics(server.ctx.db, server.ctx.now());
    const api = (
      await server.api.get<{ points: { date: string; critical: number; high: number; medium: number }[] }>(
        '/api/v1/trends?scope=fleet&interval=day',
      )
    ).body;
    assert.ok(api.points.length > 0, 'the daily job recorded a point');
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto('/trends');
    await check(page, problems, 'trends');
    // the chart's numbers as a table, from the keyboard
    await page.getByRole('button', { name: 'Show as table' }).first().focus();
    await page.keyboard.press('Enter');
    await page.locator('table[data-chart-table="open-findings"]').waitFor();
    await page.screenshot({ path: join(SCREENS, 'trends-table.png'), fullPage: true });
    const rows = await page
      .locator('table[data-chart-table="open-findings"] tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => Array.from(tr.querySelectorAll('th,td')).map((c) => c.textContent?.trim() ?? '')),
      );
    assert.deepEqual(
      rows,
      api.points.map((p) => [p.date, String(p.critical), String(p.high), String(p.medium)]),
    );
    await page.goto('/summary');
    await check(page, problems, 'summary');
    // none stored yet on a server this young: a state, not an error (check() refuses alerts)
    assert.match(await page.locator('main').innerText(), /No weekly summary yet/);
    await page.context().close();
  });

  it('shows a new API token once, then only its prefix', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto('/settings');
    await settle(page);
    const form = page.getByRole('form', { name: 'Create an API token' });
    await form.getByLabel('Name').fill('ci push');
    await form.getByLabel(/Expires/).fill('2027-01-31');
    await form.getByRole('button', { name: 'Create token' }).click();
    const once = page.locator('.once');
    await once.waitFor();
    const secret = (await once.locator('code').first().innerText()).trim();
    assert.match(secret, /^lading_/);
    await page.screenshot({ path: join(SCREENS, 'settings-token-once.png'), fullPage: true });
    await page.reload();
    await check(page, problems, 'settings');
    const html = await page.content();
    assert.ok(!html.includes(secret), 'the secret is never shown again');
    assert.match(await page.locator('main').innerText(), /ci push/);
    await page.context().close();
  });

  it('settings: every section renders for an admin, without violations; each is screenshotted', async () => {
    // one OSV record imported offline: the vulnerability data then has a generation for the status section to show
    const record = JSON.parse(readFileSync(`${FIXTURES}osv/PyPI/GHSA-j8r2-6x86-q33q.json`, 'utf8'));
    record.id = 'PYSEC-2099-1';
    record.aliases = [];
    record.affected[0].package.name = 'lading-browser-test-pkg';
    const imported = await server.api.request<{ url: string }>('POST', '/api/v1/system/vulndb/import', {
      body: JSON.stringify(record),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(imported.status, 202, imported.text);
    const importJob = await server.api.get<{ state: string }>(`${imported.body.url}?wait=60`);
    assert.equal(importJob.body.state, 'succeeded', importJob.text);
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto('/settings');
    await check(page, problems, 'settings-all');
    for (const [id, title] of [
      ['repositories', 'Repositories and thresholds'],
      ['trusted-keys', 'Trusted keys'],
      ['tokens', 'API tokens'],
      ['notifications', 'Notification rules'],
      ['people', 'Users and teams'],
      ['status', 'System status and data freshness'],
    ] as const) {
      const section = page.getByRole('region', { name: title });
      await section.waitFor();
      await section.screenshot({ path: join(SCREENS, `settings-${id}.png`) });
      // the section links move focus to the section's heading, from the keyboard
      await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: title }).focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), `${id}-title`);
    }
    // the keys trusted before the ingests, as the API lists them
    const keys = (await server.api.get<{ items: { id: string; repositoryPattern: string }[] }>('/api/v1/trusted-keys'))
      .body.items;
    const table = page.locator('table:has(caption:text-is("Trusted keys")) tbody tr');
    assert.equal(await table.count(), keys.length);
    for (const key of keys) assert.match(await table.filter({ hasText: key.id }).innerText(), /\*|acme\/worker/);
    // data freshness names the newest ingest (the tampered image's, 2026-11-09 observed; ingested just now)
    assert.match(
      await page.locator('[data-freshness]').innerText(),
      /Newest ingest\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/,
    );
    // the vulnerability data: the generation shown is the API's, with the data's age as text
    const vulndb = (await server.api.get<VulndbFreshness>('/api/v1/system/vulndb')).body;
    assert.equal(vulndb.generation?.source, 'import');
    const generation = page.locator('[data-vulndb-generation]');
    assert.equal(await generation.getAttribute('data-vulndb-generation'), String(vulndb.generation?.id));
    assert.match(await generation.innerText(), new RegExp(`^#${vulndb.generation?.id} \\(import\\), recorded \\d{4}-`));
    assert.match(
      await page.locator('[data-vulndb-age]').innerText(),
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \((\d+ (min|h|d)) old\)$/,
    );
    const ecosystems = page.locator('table:has(caption:text-is("Vulnerability data by ecosystem")) tbody tr');
    assert.equal(await ecosystems.count(), vulndb.ecosystems.length);
    assert.match(await ecosystems.first().innerText(), /PyPI\s+1\s/);
    await page.context().close();
  });

  it('settings: a trusted key is added and removed with the keyboard alone', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto('/settings');
    await settle(page);
    const pem = generateCosignKeyPair('x').publicPem;
    const form = page.getByRole('form', { name: 'Add a trusted key' });
    const status = page.getByRole('region', { name: 'Trusted keys' }).getByRole('status');
    const listed = async () =>
      (await server.api.get<{ items: { id: string; repositoryPattern: string }[] }>('/api/v1/trusted-keys')).body.items;
    const count = (await listed()).length;
    // something that is not a public key: the problem's title and detail as an alert, one line, and nothing added
    await form.getByLabel(/Public key/).fill('-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n');
    await form.getByRole('button', { name: 'Add key' }).click();
    const alert = page.getByRole('region', { name: 'Trusted keys' }).getByRole('alert');
    await alert.waitFor();
    const refusal = await alert.innerText();
    assert.match(refusal, /^Unprocessable Content: /);
    assert.doesNotMatch(refusal, /\n|\{"|at .*\.ts/, 'one line, no body, no stack');
    assert.equal((await listed()).length, count);
    assert.deepEqual(
      problems.splice(0),
      ['console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)'],
      'the refusal was the only failed request',
    );
    await form.getByLabel(/Public key/).fill('');
    await form.getByLabel(/Public key/).focus();
    await page.keyboard.insertText(pem);
    await page.keyboard.press('Tab');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('registry.example:5000/acme/*');
    await page.keyboard.press('Enter');
    await status.filter({ hasText: /^Trusted key_[0-9a-f]{16}/ }).waitFor();
    const id = /key_[0-9a-f]{16}/.exec(await status.innerText())?.[0] ?? '';
    assert.deepEqual(
      (await listed()).filter((k) => k.id === id).map((k) => k.repositoryPattern),
      ['registry.example:5000/acme/*'],
    );
    await page.locator('table:has(caption:text-is("Trusted keys"))').getByText(id).waitFor();
    await check(page, problems, 'settings-key-added');
    await page.getByRole('button', { name: `Remove the trusted key ${id}` }).focus();
    await page.keyboard.press('Enter');
    await status.filter({ hasText: `Removed ${id}` }).waitFor();
    assert.equal((await listed()).filter((k) => k.id === id).length, 0, 'revoked keys are no longer listed');
    await page.context().close();
  });

  it('settings: a notification rule with severity, KEV and repository filters is created, shows its deliveries and is deleted, by keyboard', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto('/settings');
    await settle(page);
    const form = page.getByRole('form', { name: 'Create a notification rule' });
    await form.getByLabel('Rule name').focus();
    await page.keyboard.type('security on-call');
    await page.keyboard.press('Tab'); // channel: webhook, the default
    await page.keyboard.press('Tab');
    await page.keyboard.type('https://hooks.example.org/lading');
    await page.keyboard.press('Tab');
    await page.keyboard.type('a-long-enough-shared-secret');
    await page.keyboard.press('Tab'); // minimum severity: any → critical → high
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space'); // KEV only
    await page.keyboard.press('Tab');
    await page.keyboard.type(REPOSITORY);
    await page.keyboard.press('Enter');
    const section = page.getByRole('region', { name: 'Notification rules' });
    await section
      .getByRole('status')
      .filter({ hasText: /^Created the rule security on-call/ })
      .waitFor();
    const rules = async () =>
      (
        await server.api.get<{
          items: { id: string; name: string; channel: string; target: string; filter: unknown }[];
        }>('/api/v1/notification-rules')
      ).body.items;
    const [rule] = (await rules()).filter((r) => r.name === 'security on-call');
    assert.ok(rule, 'the API lists the rule');
    assert.equal(rule.channel, 'webhook');
    assert.deepEqual(rule.filter, { minSeverity: 'high', kevOnly: true, repositories: [REPOSITORY] });
    const row = section.locator('table:has(caption:text-is("Notification rules")) tbody tr', {
      hasText: 'security on-call',
    });
    assert.match(await row.innerText(), /high or worse; KEV only; repositories registry\.example:5000\/acme\/api/);
    assert.doesNotMatch(await row.innerText(), /\/lading/, 'the target is shown as scheme and host only');
    await row.getByRole('button', { name: /Show deliveries/ }).focus();
    await page.keyboard.press('Enter');
    await section.locator('table:has(caption:text("Deliveries of security on-call"))').waitFor();
    await check(page, problems, 'settings-notification-rule');
    // a rule on exception events gets a delivery queued when an exception is made: the deliveries table shows it
    const audit = await server.api.request<{ id: string }>('POST', '/api/v1/notification-rules', {
      json: {
        name: 'exception audit',
        channel: 'webhook',
        target: 'https://hooks.example.org/audit',
        secret: 'another-long-enough-secret',
        filter: { eventTypes: ['exception.created'] },
      },
    });
    assert.equal(audit.status, 201, audit.text);
    const exception = await server.api.request<{ id: string }>('POST', '/api/v1/exceptions', {
      json: {
        vulnerability: 'CVE-2023-0464',
        repository: REPOSITORY,
        image: bundles.b.digest,
        package: 'libcrypto1.1',
        status: 'not_affected',
        reason: 'policy checks are off in this service',
        expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      },
    });
    assert.equal(exception.status, 201, exception.text);
    const queued = (
      await server.api.get<{ items: { state: string }[] }>(`/api/v1/notification-rules/${audit.body.id}/notifications`)
    ).body.items;
    assert.equal(queued.length, 1, 'one delivery queued');
    await page.reload();
    await settle(page);
    const auditRow = section.locator('table:has(caption:text-is("Notification rules")) tbody tr', {
      hasText: 'exception audit',
    });
    await auditRow.getByRole('button', { name: /Show deliveries/ }).focus();
    await page.keyboard.press('Enter');
    const deliveries = section.locator('table:has(caption:text("Deliveries of exception audit")) tbody tr');
    await deliveries.first().waitFor();
    assert.deepEqual(
      await deliveries.evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll('td')[1]?.textContent?.trim())),
      queued.map((d) => d.state),
    );
    await check(page, problems, 'settings-notification-deliveries');
    await server.api.request('DELETE', `/api/v1/exceptions/${exception.body.id}`);
    await auditRow.getByRole('button', { name: 'Delete the rule exception audit' }).click();
    await section
      .getByRole('status')
      .filter({ hasText: /^Deleted the rule exception audit/ })
      .waitFor();
    await row.getByRole('button', { name: 'Delete the rule security on-call' }).focus();
    await page.keyboard.press('Enter');
    await section
      .getByRole('status')
      .filter({ hasText: /^Deleted the rule security on-call/ })
      .waitFor();
    assert.equal((await rules()).filter((r) => r.name === 'security on-call').length, 0);
    await page.context().close();
  });

  it("settings: a repository's evidence mode and thresholds change from the keyboard", async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto(`/settings?repository=${encodeURIComponent(REPOSITORY)}`);
    await settle(page);
    const settingsOf = async () =>
      (
        await server.api.get<{ verification: { mode: string }; thresholds: { failOn: string; warnOn: string } }>(
          `/api/v1/repositories/${encodeURIComponent(REPOSITORY)}/settings`,
        )
      ).body;
    const before = await settingsOf();
    assert.equal(before.verification.mode, 'warn');
    const form = page.getByRole('form', { name: `Settings of ${REPOSITORY}` });
    // radio buttons: arrows move the choice within the group (warn → enforce)
    await form.getByRole('radio', { name: /^warn/ }).focus();
    await page.keyboard.press('ArrowDown');
    assert.ok(await form.getByRole('radio', { name: /^enforce/ }).isChecked());
    await form.getByLabel(/^Fail on/).focus();
    await page.keyboard.press('ArrowUp'); // high → critical
    await form.getByRole('button', { name: 'Save repository settings' }).focus();
    await page.keyboard.press('Enter');
    await page.locator(`form[data-repository-settings="${REPOSITORY}"] [data-current-mode="enforce"]`).waitFor();
    const after = await settingsOf();
    assert.equal(after.verification.mode, 'enforce');
    assert.equal(after.thresholds.failOn, before.thresholds.failOn === 'high' ? 'critical' : after.thresholds.failOn);
    assert.equal(after.thresholds.warnOn, before.thresholds.warnOn);
    await check(page, problems, 'settings-repository-enforce');
    // the other repository is picked from the list (the URL follows) and keeps its own settings
    await page.getByLabel('Repository', { exact: true }).selectOption(TAMPERED_REPOSITORY);
    await page.waitForURL(/repository=registry\.example%3A5000%2Facme%2Fworker/);
    await page.locator(`form[data-repository-settings="${TAMPERED_REPOSITORY}"] [data-current-mode="warn"]`).waitFor();
    // back as it was, for the flows that follow
    const restored = await server.api.request('PATCH', `/api/v1/repositories/${encodeURIComponent(REPOSITORY)}`, {
      json: { verification: { mode: 'warn' }, thresholds: before.thresholds },
    });
    assert.equal(restored.status, 200, restored.text);
    await page.context().close();
  });

  it('settings: users and teams are listed, created, granted repositories and given members', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto('/settings');
    await settle(page);
    const section = page.getByRole('region', { name: 'Users and teams' });
    const user = section.getByRole('form', { name: 'Create a user' });
    await user.getByLabel('Login').fill('rita');
    await user.getByLabel('Display name').fill('Rita Triager');
    await user.getByRole('button', { name: 'Create user' }).click();
    await section.getByRole('status').filter({ hasText: 'Created the user rita.' }).waitFor();
    const team = section.getByRole('form', { name: 'Create a team' });
    await team.getByLabel('Team name').fill('platform');
    await team.getByRole('button', { name: 'Create team' }).click();
    await section.getByRole('status').filter({ hasText: 'Created the team platform.' }).waitFor();
    const grant = section.getByRole('form', { name: 'Grant repositories to a team' });
    await grant.getByLabel('Team').selectOption('platform');
    await grant.getByLabel(/Repositories/).fill('registry.example:5000/acme/*');
    await grant.getByRole('button', { name: 'Grant' }).click();
    await section
      .getByRole('status')
      .filter({ hasText: /^Granted platform/ })
      .waitFor();
    const member = section.getByRole('form', { name: 'Add a member to a team' });
    await member.getByLabel('Team').selectOption('platform');
    await member.getByLabel('User').selectOption('rita');
    await member.getByLabel('Role').selectOption('triager');
    await member.getByRole('button', { name: 'Add member' }).click();
    await section.getByRole('status').filter({ hasText: 'rita is now triager in platform.' }).waitFor();
    const row = section.locator('table:has(caption:text-is("Teams")) tbody tr', { hasText: 'platform' });
    assert.deepEqual(await row.locator('td').evaluateAll((tds) => tds.map((td) => td.textContent?.trim())), [
      'platform',
      'rita (triager)',
      'registry.example:5000/acme/*',
    ]);
    const api = (
      await server.api.get<{ items: { name: string; members: unknown; repositoryPatterns: unknown }[] }>(
        '/api/v1/teams',
      )
    ).body.items.find((t) => t.name === 'platform');
    assert.deepEqual(api, {
      name: 'platform',
      createdAt: (api as { createdAt?: string } | undefined)?.createdAt,
      members: [{ login: 'rita', role: 'triager' }],
      repositoryPatterns: ['registry.example:5000/acme/*'],
    });
    assert.match(
      await section.locator('table:has(caption:text-is("Users")) tbody tr', { hasText: 'rita' }).innerText(),
      /Rita Triager/,
    );
    await check(page, problems, 'settings-people');
    await page.context().close();
  });

  it('settings for someone who is not an administrator: only their tokens and the status, no error', async () => {
    // a viewer of acme's repositories (through a team: the only way to repositories)
    for (const [path, json] of [
      ['/api/v1/users', { login: 'vera', password: 'viewer password 1234' }],
      ['/api/v1/teams', { name: 'readers' }],
      ['/api/v1/teams/readers/grants', { repositoryPattern: 'registry.example:5000/acme/*' }],
      ['/api/v1/teams/readers/members', { login: 'vera', role: 'viewer' }],
    ] as const) {
      const created = await server.api.request('POST', path, { json });
      assert.equal(created.status, 201, `${path}: ${created.text}`);
    }
    const { page, problems } = await openPage({ stranger: true });
    await page.goto('/login');
    await page
      .getByLabel(/login|user/i)
      .first()
      .fill('vera');
    await page.getByLabel(/password/i).fill('viewer password 1234');
    await page.getByRole('button', { name: /sign in|log in/i }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.goto('/settings');
    await check(page, problems, 'settings-not-admin');
    const sections = await page.locator('main section h2').allTextContents();
    assert.deepEqual(sections, ['API tokens', 'System status and data freshness']);
    assert.match(await page.locator('main').innerText(), /changed by administrators/);
    await page.context().close();
  });

  it('refuses a cross-origin POST made with the session cookie (403)', async () => {
    const { page } = await openPage();
    await signIn(page);
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const response = await fetch(`${server.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'stolen',
        scopes: ['admin'],
        repositoryPattern: '*',
        expiresAt: '2027-01-01T00:00:00Z',
      }),
    });
    assert.equal(response.status, 403);
    await page.context().close();
  });

  /** A browser context signed in with a session of its own (made in the database, so no login is spent). */
  async function ownSession(): Promise<{ page: Page; problems: string[]; idHash: string }> {
    if (!session) {
      const first = await openPage();
      await signIn(first.page);
      await first.page.context().close();
    }
    const keys = authKeysOf(server.ctx);
    const started = await insertSession(
      server.ctx.db,
      keys,
      { id: server.admin.userId },
      { ip: null, userAgent: null },
      server.ctx.now(),
    );
    // the shared session's cookie with this session's id (the cookie's attributes as the server set them)
    const cookies = (session?.cookies ?? []).map((c) =>
      c.name === SESSION_COOKIE ? { ...c, value: started.sessionId } : c,
    );
    assert.ok(cookies.some((c) => c.name === SESSION_COOKIE));
    const { page, problems } = await openPage({ storage: { cookies, origins: [] } });
    return { page, problems, idHash: sessionIdHash(keys.sessionPepper, started.sessionId) };
  }

  it("the trend tab charts the repository's builds (table = /images); the diff picker compares against any digest by keyboard", async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto(`/images/${bundles.b.digest}?tab=trend`);
    await page.locator('#image-trend-summary').waitFor();
    await check(page, problems, 'image-trend');
    assert.equal(await page.locator('canvas[aria-describedby="image-trend-summary"]').count(), 1);
    const builds = (
      await server.api.get<{
        items: { digest: string; counts: Record<'critical' | 'high' | 'medium' | 'low', number> }[];
      }>(`/api/v1/images?repository=${encodeURIComponent(REPOSITORY)}&sort=ingestedAt&limit=100`)
    ).body.items;
    assert.deepEqual(
      builds.map((b) => b.digest),
      [bundles.a.digest, bundles.b.digest],
    );
    await page.locator('figure:has(#image-trend-summary) button').focus();
    await page.keyboard.press('Enter');
    const rows = await page
      .locator('table[data-chart-table="image-trend"] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent?.trim() ?? '')));
    assert.deepEqual(
      rows.map((r) => r.slice(1)),
      builds.map((b) => [b.counts.critical, b.counts.high, b.counts.medium, b.counts.low].map(String)),
    );
    assert.match(rows[0]?.[0] ?? '', /^3\.16\.2 /);
    await page.screenshot({ path: join(SCREENS, 'image-trend-table.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), []);

    // the diff tab: a malformed digest is refused in one line; any digest typed in is compared against
    await page.goto(`/images/${bundles.b.digest}?tab=diff`);
    await settle(page);
    await page.getByLabel('or any digest').focus();
    await page.keyboard.type('sha256:nothex');
    await page.keyboard.press('Enter');
    assert.equal(
      await page.getByRole('alert').textContent(),
      'A digest is sha256: followed by 64 lowercase hex digits.',
    );
    await page.getByLabel('or any digest').focus();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(bundles.a.digest);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('against') === bundles.a.digest);
    await check(page, problems, 'image-diff-against');
    const direction = (cliDiff as { direction: string }).direction;
    assert.equal(await page.locator('[data-diff-direction]').getAttribute('data-diff-direction'), direction);
    // and the other way round, chosen from the build list: b against a is a's diff backwards
    await page.goto(`/images/${bundles.a.digest}?tab=diff`);
    await settle(page);
    await page.getByLabel('Build').focus();
    await page.keyboard.type('3.16.4');
    assert.equal(await page.getByLabel('Build').inputValue(), bundles.b.digest);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('against') === bundles.b.digest);
    await settle(page);
    const fixed = await page.locator('[data-diff="new"] li').allTextContents();
    assert.ok(
      fixed.some((t) => t.includes('CVE-2023-0286')),
      `going back from 3.16.4 to 3.16.2 brings CVE-2023-0286 back: ${fixed.join(' | ')}`,
    );
    await page.context().close();
  });

  it('the repository page lists its exposures (open and resolved) as GET /repositories/{id}/exposures has them', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto(`/repositories/${encodeURIComponent(REPOSITORY)}`);
    await page.locator('[data-exposure-state]').first().waitFor();
    await check(page, problems, 'repository-exposures');
    const api = (
      await server.api.get<{ items: { vulnerability: string; state: string; resolvedIn: string | null }[] }>(
        `/api/v1/repositories/${encodeURIComponent(REPOSITORY)}/exposures?limit=200`,
      )
    ).body.items;
    // the 3.16.4 build resolved CVE-2023-0286; what it still carries is open
    assert.ok(
      api.some(
        (e) => e.vulnerability === 'CVE-2023-0286' && e.state === 'resolved' && e.resolvedIn === bundles.b.digest,
      ),
    );
    assert.ok(api.some((e) => e.state === 'open'));
    const table = page.locator('table:has(caption:text-matches("^Exposures"))');
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.children[0]?.textContent?.trim() ?? '',
          tr.querySelector('[data-exposure-state]')?.getAttribute('data-exposure-state') ?? '',
        ]),
      );
    assert.deepEqual(
      rows,
      api.map((e) => [e.vulnerability, e.state]),
    );
    const open = api.filter((e) => e.state === 'open').length;
    assert.match(
      (await table.locator('caption').textContent()) ?? '',
      new RegExp(`^Exposures: ${open} open, ${api.length - open} resolved`),
    );
    await page.context().close();
  });

  it('signing out (by keyboard) returns to the login page, and the session is gone on the server', async () => {
    const { page, problems, idHash } = await ownSession();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Sign in to Lading', level: 1 }).waitFor();
    assert.equal(await page.locator('[data-login-notice]').textContent(), 'You have signed out.');
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
    const row = await server.ctx.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', idHash).execute();
    assert.deepEqual(row, [], 'the server ended the session');
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Lading', level: 1 }).waitFor();
    await page.screenshot({ path: join(SCREENS, 'login-signed-out.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('an expired session lands on the login page with a message', async () => {
    const { page, problems, idHash } = await ownSession();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    // every request of the overview answered first: one still in flight when the session ends would take the app to
    // the login page before the click below, which would then wait for a link that is gone
    await settle(page);
    // the session's lifetime ends now (as if 12 hours had passed)
    await server.ctx.db
      .updateTable('sessions')
      .set({ expires_at: server.ctx.now() - 1 })
      .where('id_hash', '=', idHash)
      .execute();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Images' }).click();
    await page.getByRole('heading', { name: 'Sign in to Lading', level: 1 }).waitFor();
    assert.equal(
      await page.locator('[data-login-notice]').textContent(),
      'Your session has expired. Sign in again to continue.',
    );
    await page.screenshot({ path: join(SCREENS, 'login-expired.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), []);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it("an advisory's summary holding HTML is shown as text: no element made, no script run", async () => {
    const hostile = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script>';
    const before = await server.ctx.db
      .selectFrom('vulnerabilities')
      .select('summary')
      .where('vuln_id', '=', 'CVE-2023-0286')
      .executeTakeFirstOrThrow();
    await server.ctx.db
      .updateTable('vulnerabilities')
      .set({ summary: hostile })
      .where('vuln_id', '=', 'CVE-2023-0286')
      .execute();
    try {
      const { page, problems } = await openPage();
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await signIn(page);
      await page.goto('/vulns/CVE-2023-0286');
      await check(page, problems, 'vulnerability-hostile-summary');
      assert.equal(await page.locator('.advisory-text').textContent(), hostile, 'the markup is shown as text');
      assert.equal(await page.locator('main img, main script').count(), 0);
      assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
      assert.deepEqual(dialogs, []);
      await page.context().close();
    } finally {
      await server.ctx.db
        .updateTable('vulnerabilities')
        .set({ summary: before.summary })
        .where('vuln_id', '=', 'CVE-2023-0286')
        .execute();
    }
  });

  it('draws charts without animation when the user prefers reduced motion, with animation otherwise', async () => {
    for (const [motion, expected] of [
      ['reduce', 'off'],
      ['no-preference', 'on'],
    ] as const) {
      const { page, problems } = await openPage();
      await page.emulateMedia({ reducedMotion: motion });
      await signIn(page);
      await page.goto('/trends');
      const canvas = page.locator('canvas[data-animation]').first();
      await canvas.waitFor();
      assert.equal(await canvas.getAttribute('data-animation'), expected, motion);
      assert.deepEqual(problems, []);
      await page.context().close();
    }
  });

  it('requests the Chart.js chunk only on pages with charts', async () => {
    const assets = join(REPO_ROOT, 'server', 'dist', 'public', 'assets');
    const chartChunks = readdirSync(assets).filter(
      (f) =>
        f.endsWith('.js') && readFileSync(join(assets, f), 'utf8').includes('Canvas is already in use. Chart with ID'),
    );
    assert.ok(chartChunks.length > 0, 'the build has a Chart.js chunk');
    const { page, problems } = await openPage();
    await signIn(page);
    // each page in a fresh tab of the signed-in context, so that nothing the overview started is counted
    const requestsOf = async (path: string, ready: (tab: Page) => Promise<void>) => {
      const tab = await page.context().newPage();
      const requested: string[] = [];
      tab.on('request', (request) => requested.push(new URL(request.url()).pathname));
      await tab.goto(path);
      await ready(tab);
      await tab.close();
      return requested;
    };
    for (const path of ['/images', '/settings', '/exceptions']) {
      const requested = await requestsOf(path, settle);
      const charts = requested.filter((p) => chartChunks.some((c) => p.endsWith(`/${c}`)));
      assert.deepEqual(charts, [], `${path} loaded Chart.js`);
      assert.ok(
        requested.some((p) => p.startsWith('/assets/')),
        `${path}: requests were recorded`,
      );
    }
    // and the detection works: the trends page does load it
    const trends = await requestsOf('/trends', (tab) => tab.locator('canvas[data-animation]').first().waitFor());
    assert.ok(trends.some((p) => chartChunks.some((c) => p.endsWith(`/${c}`))));
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('filters the images list and opens an image with the keyboard alone', async () => {
    const { page, problems } = await openPage();
    await signIn(page);
    await page.goto('/images');
    await settle(page);
    /** Presses Tab until `matches` holds for the focused element (at most 40 times). */
    const tabTo = async (matches: (el: { tag: string; text: string; href: string | null }) => boolean) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const el = await page.evaluate(() => {
          const a = document.activeElement as HTMLElement | null;
          return { tag: a?.tagName ?? '', text: a?.textContent?.trim() ?? '', href: a?.getAttribute('href') ?? null };
        });
        if (matches(el)) return;
      }
      assert.fail('the element was not reached by Tab');
    };
    await page.getByLabel('Name, tag or digest').focus();
    await page.keyboard.type('3.16.4');
    await tabTo((el) => el.tag === 'SELECT');
    // the severity select, chosen by typing the option's first letter as a keyboard user would
    await page.keyboard.type('h');
    await tabTo((el) => el.tag === 'BUTTON' && el.text === 'Apply');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=3\.16\.4/);
    await settle(page);
    assert.match(page.url(), /minSeverity=high/);
    const listed = await page
      .locator('main table a[href^="/images/sha256:"]')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    assert.deepEqual(listed, [`/images/${bundles.b.digest}`]);
    await tabTo((el) => el.href === `/images/${bundles.b.digest}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/images/${bundles.b.digest}`));
    await page.getByRole('tab', { name: /findings/i }).waitFor();
    await check(page, problems, 'image-opened-by-keyboard');
    await page.context().close();
  });

  it('serves every page with the strict Content-Security-Policy', async () => {
    const response = await fetch(`${server.url}/images`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    assert.match(await response.text(), /<div id="app">|<main|<body/);
  });
});
