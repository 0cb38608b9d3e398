// `queries`: the canonical read queries over HTTP against a seeded fleet (bench/seed.ts), each run 500 times after
// a warm-up at concurrency 1 and at concurrency 8, with p50/p95 per query; on PostgreSQL it also writes each query's
// `EXPLAIN (ANALYZE, BUFFERS)` to server/bench/explain/<query>.txt. The server runs in this process (Fastify on
// 127.0.0.1:0 with an admin token), so the times include routing, auth, serialisation and loopback HTTP.
//
// Usage: node --conditions=source --import tsx server/bench/queries.ts --database URL|FILE --data-dir DIR
//        [--runs 500] [--warmup 50] [--explain]
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { MAX_STORED_REPORT_BYTES } from '../src/api/diff.js';
import { readBlob } from '../src/api/read-common.js';
import { buildApp } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { insertUser } from '../src/auth/store.js';
import { resolveConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database } from '../src/db/schema.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { silentLogger } from '../src/log.js';
import { serverReport } from '../src/queries/diff-input.js';
import { fleetOverview, imageDetail, listFindings, listImages } from '../src/queries/images.js';
import { search } from '../src/queries/packages.js';
import { previousImageOf } from '../src/queries/reports.js';
import { EVERYTHING } from '../src/queries/scope.js';
import { vulnerabilityImages } from '../src/queries/vulnerabilities.js';
import { HOT_CVE } from './seed.js';

const EXPLAIN_DIR = new URL('./explain/', import.meta.url).pathname;

interface Inputs {
  digests: string[];
  diffable: string[];
  teamGlob: string;
}

/** The canonical queries: each gives the URL of its i-th run (inputs vary so caches do not flatter them). */
function canonical(inputs: Inputs): { name: string; url: (i: number) => string }[] {
  const pick = (list: string[], i: number) => list[(i * 7919) % list.length] as string;
  return [
    { name: 'overview', url: () => '/api/v1/overview' },
    { name: 'images-by-risk', url: () => '/api/v1/images?current=true&sort=-riskIndex&limit=50' },
    {
      name: 'filtered-list',
      url: () =>
        `/api/v1/images?current=true&repository=${encodeURIComponent(inputs.teamGlob)}&minSeverity=critical&evidence=failed&limit=50`,
    },
    { name: 'detail', url: (i) => `/api/v1/images/${pick(inputs.digests, i)}` },
    { name: 'findings-page', url: (i) => `/api/v1/images/${pick(inputs.digests, i)}/findings?status=open&limit=50` },
    { name: 'cve-images', url: () => `/api/v1/vulnerabilities/${HOT_CVE}/images?limit=50` },
    { name: 'search', url: (i) => `/api/v1/search?q=${['libss', 'cve-2025-1', 'svc-12', 'zlib'][i % 4]}` },
    { name: 'diff', url: (i) => `/api/v1/diff?to=${pick(inputs.diffable, i)}` },
  ];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function timeQuery(base: string, token: string, url: (i: number) => string, runs: number, concurrency: number) {
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < runs) {
      const i = next++;
      const started = performance.now();
      const response = await fetch(base + url(i), { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      times.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`${url(i)} → ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      'data-dir': { type: 'string' },
      runs: { type: 'string', default: '500' },
      warmup: { type: 'string', default: '50' },
      explain: { type: 'boolean', default: false },
      'explain-only': { type: 'boolean', default: false },
    },
  });
  if (!values.database || !values['data-dir']) {
    process.stderr.write('usage: queries.ts --database URL|FILE --data-dir DIR [--runs N] [--warmup N] [--explain]\n');
    process.exit(2);
  }
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  const config = resolveConfig(
    { database: values.database, dataDir: values['data-dir'], listen: '127.0.0.1:0' },
    { LADING_LOG_LEVEL: 'silent' },
    process.cwd(),
  );
  // The per-node read limit (1,200/min) would answer 429 to a benchmark's 8,000 requests: it is lifted here only.
  const ctx = await createContext({ ...config, rateLimits: { readsPerMinute: 1_000_000 } } as typeof config, {
    log: silentLogger,
  });
  // the fleet may have been seeded by an older build: the server reads at the latest schema (and its indexes)
  await migrateToLatest(ctx.db, ctx.dialect);
  const now = ctx.now();
  const existing = await ctx.db.selectFrom('users').select('id').where('login', '=', 'bench').executeTakeFirst();
  const userId = existing?.id ?? (await insertUser(ctx.db, { login: 'bench', isAdmin: true }, now)).id;
  const { token } = await createApiToken(ctx, {
    name: `bench ${now}`,
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

  const current = await ctx.db
    .selectFrom('repository_images as ri')
    .innerJoin('images as i', 'i.id', 'ri.image_id')
    .select(['i.digest', 'i.id'])
    .where('ri.is_current', '=', 1)
    .orderBy('i.id')
    .execute();
  const inputs: Inputs = {
    digests: current.map((r) => r.digest),
    diffable: current.map((r) => r.digest),
    teamGlob: 'bench.example/team-3/*',
  };
  const counts = await sql<{
    images: number;
    findings: number;
  }>`select (select count(*) from images) as images, (select count(*) from findings) as findings`.execute(ctx.db);
  const fleet = counts.rows[0];
  process.stdout.write(
    `fleet: ${Number(fleet?.images)} images, ${Number(fleet?.findings)} findings (${ctx.dialect})\n\n`,
  );
  process.stdout.write('| query | c=1 p50 | c=1 p95 | c=8 p50 | c=8 p95 |\n|---|---|---|---|---|\n');
  for (const query of values['explain-only'] ? [] : canonical(inputs)) {
    await timeQuery(base, token, query.url, warmup, 1);
    const one = await timeQuery(base, token, query.url, runs, 1);
    const eight = await timeQuery(base, token, query.url, runs, 8);
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    process.stdout.write(`| ${query.name} | ${ms(one.p50)} | ${ms(one.p95)} | ${ms(eight.p50)} | ${ms(eight.p95)} |\n`);
  }
  await app.close();

  if ((values.explain || values['explain-only']) && config.database.kind === 'postgres') {
    const blobs = blobStoreOf(ctx);
    await writeExplains(config.database.url, inputs, ctx.secrets.pageTokenKey, (sha256) =>
      readBlob(blobs, sha256, MAX_STORED_REPORT_BYTES),
    );
  }
  await ctx.close();
}

/**
 * Runs each canonical query's database side once through a Kysely that records every statement, then writes
 * `EXPLAIN (ANALYZE, BUFFERS)` of each recorded statement to explain/<query>.txt.
 */
async function writeExplains(
  url: string,
  inputs: Inputs,
  tokenKey: Uint8Array,
  read: (sha256: string) => Promise<Buffer>,
): Promise<void> {
  mkdirSync(EXPLAIN_DIR, { recursive: true });
  // the server's own type parsing (connection.ts): int8 as Number, json/jsonb as raw text for decodeJson
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20
          ? (value: string) => Number(value)
          : oid === 114 || oid === 3802
            ? (value: string) => value
            : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  let recorded: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') recorded.push({ sql: event.query.sql, parameters: event.query.parameters });
    },
  });
  const digest = inputs.digests[0] as string;
  const page = { limit: 50, tokenKey };
  const runs: [string, () => Promise<unknown>][] = [
    ['overview', () => fleetOverview(db, EVERYTHING, Date.now())],
    ['images-by-risk', () => listImages(db, EVERYTHING, { current: true }, { ...page, sort: '-riskIndex' })],
    [
      'filtered-list',
      () =>
        listImages(
          db,
          EVERYTHING,
          { current: true, repository: inputs.teamGlob, minSeverity: 'CRITICAL', evidence: 'failed' },
          { ...page, sort: '-ingestedAt' },
        ),
    ],
    ['detail', () => imageDetail(db, EVERYTHING, digest)],
    ['findings-page', () => listFindings(db, EVERYTHING, digest, { status: 'open' }, page)],
    ['cve-images', () => vulnerabilityImages(db, EVERYTHING, HOT_CVE, {}, page)],
    ['search', () => search(db, EVERYTHING, 'libss')],
    [
      'diff',
      async () => {
        // as GET /diff runs them on a cold cache (api/diff.ts): the image, its previous one, and each one's judged
        // report (its stored report's row, the rows' fingerprint, then the rows in one snapshot)
        const image = await db
          .selectFrom('images')
          .select(['id', 'digest'])
          .where('digest', '=', digest)
          .executeTakeFirstOrThrow();
        const previous = await previousImageOf(db, EVERYTHING, image.id);
        await serverReport(db, 'postgres', read, image);
        if (previous) await serverReport(db, 'postgres', read, previous);
      },
    ],
  ];
  const client = await pool.connect();
  try {
    for (const [name, run] of runs) {
      recorded = [];
      await run();
      const statements = recorded;
      const sections: string[] = [];
      for (const statement of statements) {
        // a transaction's own statements (the rows read in one snapshot) have no plan
        if (!/^\s*(select|with)\b/i.test(statement.sql)) {
          sections.push(`-- ${statement.sql}`);
          continue;
        }
        const plan = await client.query(
          `explain (analyze, buffers) ${statement.sql}`,
          statement.parameters as unknown[],
        );
        sections.push(
          [
            `-- ${statement.sql}`,
            `-- parameters: ${JSON.stringify(statement.parameters)}`,
            ...plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']),
          ].join('\n'),
        );
      }
      writeFileSync(`${EXPLAIN_DIR}${name}.txt`, `${sections.join('\n\n')}\n`);
      process.stdout.write(`explain: ${name} (${statements.length} statements)\n`);
    }
  } finally {
    client.release();
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`queries: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
