// `dashboard`: the overview page's time to interactive in the test browser (Debian's Chromium through
// playwright-core, never a downloaded browser) against a seeded fleet (bench/seed.ts). The server runs in this
// process with every route module (API and dashboard), so each run measures the whole path: index.html, the entry
// chunk, the overview chunk, /auth/me, /overview and the riskiest-images page over loopback HTTP, and Preact's render.
// "Interactive" = the overview's cards and its table are in the page with nothing left loading, measured in the page
// as `performance.now()` (milliseconds since the navigation started). Each run is a fresh browser context: a cold
// HTTP cache, as a first visit.
//
// Usage: npm run build -w @lading/dashboard
//        node --conditions=source --import tsx server/bench/dashboard.ts --database URL|FILE --data-dir DIR [--runs 20]
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { insertUser } from '../src/auth/store.js';
import { resolveConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { silentLogger } from '../src/log.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      'data-dir': { type: 'string' },
      runs: { type: 'string', default: '20' },
    },
  });
  if (!values.database || !values['data-dir']) {
    process.stderr.write('usage: dashboard.ts --database URL|FILE --data-dir DIR [--runs N]\n');
    process.exit(2);
  }
  const runs = Number(values.runs);
  const config = resolveConfig(
    { database: values.database, dataDir: values['data-dir'], listen: '127.0.0.1:0' },
    { LADING_LOG_LEVEL: 'silent' },
    process.cwd(),
  );
  const ctx = await createContext(config, { log: silentLogger });
  await migrateToLatest(ctx.db, ctx.dialect);
  const now = ctx.now();
  const existing = await ctx.db.selectFrom('users').select('id').where('login', '=', 'bench').executeTakeFirst();
  const userId = existing?.id ?? (await insertUser(ctx.db, { login: 'bench', isAdmin: true }, now)).id;
  const { token } = await createApiToken(ctx, {
    name: `bench dashboard ${now}`,
    scopes: ['read', 'admin'],
    repositoryPattern: '*',
    expiresAt: now + 86_400_000,
    ownerUserId: userId,
  });
  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  const base = `http://127.0.0.1:${address.port}`;
  const images = (await (
    await fetch(`${base}/api/v1/overview`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as {
    currentImages: number;
  };
  const browser = await chromium.launch({
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
  const times: number[] = [];
  try {
    for (let i = 0; i < runs + 2; i++) {
      // the token rides on every request of the context (the page itself signs in with a session cookie in real use)
      const context = await browser.newContext({
        baseURL: base,
        extraHTTPHeaders: { authorization: `Bearer ${token}` },
      });
      const page = await context.newPage();
      await page.goto('/');
      // a string, not a function: tsx's transform would add helpers the page does not have
      const ms = (await page.evaluate(`new Promise((resolve) => {
        const ready = () =>
          document.querySelector('[data-card="Current images"]') &&
          document.querySelector('main table tbody tr') &&
          !document.querySelector('[data-loading]');
        const poll = () => (ready() ? resolve(performance.now()) : requestAnimationFrame(poll));
        poll();
      })`)) as number;
      // the first two runs warm the server (statement caches, the OS page cache) and are not counted
      if (i >= 2) times.push(ms);
      await context.close();
    }
  } finally {
    await browser.close();
    await app.close();
    await ctx.close();
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    `overview time to interactive over ${runs} cold visits (${images.currentImages} current images): ` +
      `p50 ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, ` +
      `max ${(times[times.length - 1] ?? 0).toFixed(0)} ms\n`,
  );
}

await main();
