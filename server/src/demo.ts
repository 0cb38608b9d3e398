// `npm run demo` (server/bin/lading-demo.mjs): the newcomer's first command. An embedded server (SQLite in
// ./lading-demo) that on its FIRST start, with an empty database, fills itself with a small demo fleet and then
// serves the dashboard on 127.0.0.1. Everything is offline and real: the images are variants of the repository's
// example image (examples/build.mjs: Debian 12's vulnerable OpenSSL build and lodash 4.17.20, then builds that bump
// one or both), the vulnerability data is examples/osv imported by the CLI, each build is scanned and catalogued by
// the CLI (`lading scan -o json`, `lading sbom`) and pushed through the server's own ingest API, exactly as CI would.
// The repositories are under demo.lading.local/, a name that says what they are and that no registry answers to.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeExampleOciLayout } from '../../examples/build.mjs';
import { createApiToken } from './auth/index.js';
import { insertUser } from './auth/store.js';
import { ConfigError, configFromEnvironment, type ServerConfig } from './config.js';
import { openDatabase } from './db/connection.js';
import { encodeJson } from './db/dialect.js';
import { migrateToLatest } from './db/migrate.js';
import { recordEvent, SYSTEM_ACTOR } from './events/index.js';
import { type ServerNode, startServerNode } from './node.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY_MS = 86_400_000;

/** The demo's repositories: every name under this domain is demo data. */
export const DEMO_DOMAIN = 'demo.lading.local';

const DPKG_STATUS = 'var/lib/dpkg/status';
const LODASH = 'app/node_modules/lodash/package.json';
/** Debian's fixed OpenSSL build (DSA-5532-1) and lodash's fixed release, as the example's OSV records name them. */
const OPENSSL_FIXED = (text: string) => text.replaceAll('3.0.11-1~deb12u1', '3.0.11-1~deb12u2');
const LODASH_FIXED = (text: string) => text.replace('"version": "4.17.20"', '"version": "4.17.21"');

export interface DemoBuild {
  repository: string;
  tag: string;
  /** How many days before the demo's first start this build was pushed (its image is "created" then too). */
  daysAgo: number;
  opensslFixed: boolean;
  lodashFixed: boolean;
  /** An image without the Node.js application (no lodash at all). */
  withoutApp?: boolean;
}

/** The fleet, oldest push first: three repositories, six builds, fixes landing over six weeks. */
export const DEMO_FLEET: readonly DemoBuild[] = [
  { repository: `${DEMO_DOMAIN}/shop/api`, tag: '1.0.0', daysAgo: 42, opensslFixed: false, lodashFixed: false },
  { repository: `${DEMO_DOMAIN}/shop/worker`, tag: '2.0.0', daysAgo: 35, opensslFixed: false, lodashFixed: false },
  { repository: `${DEMO_DOMAIN}/shop/api`, tag: '1.1.0', daysAgo: 28, opensslFixed: true, lodashFixed: false },
  {
    repository: `${DEMO_DOMAIN}/tools/exporter`,
    tag: '0.9.0',
    daysAgo: 21,
    opensslFixed: false,
    lodashFixed: false,
    withoutApp: true,
  },
  { repository: `${DEMO_DOMAIN}/shop/worker`, tag: '2.1.0', daysAgo: 14, opensslFixed: false, lodashFixed: true },
  { repository: `${DEMO_DOMAIN}/shop/api`, tag: '1.2.0', daysAgo: 7, opensslFixed: true, lodashFixed: true },
];

/** Runs the repository's CLI (./bin/lading) and answers its stdout; a failure is one line with its stderr. */
function runCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'lading'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`lading ${args[0]} exited ${code}: ${err.trim().split('\n').pop() ?? ''}`));
    });
  });
}

function runNpm(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm ${args.join(' ')} exited ${code}`))));
  });
}

/** The `settings` key that records the demo seeding: the label that says this server holds demo data. */
export const DEMO_SETTING = 'demo.fleet';

/** Whether the demo may seed: no image yet, and no earlier seeding (a fleet emptied by hand stays empty). */
async function isFirstStart(node: Pick<ServerNode, 'ctx'>): Promise<boolean> {
  const image = await node.ctx.db.selectFrom('images').select('id').limit(1).executeTakeFirst();
  if (image !== undefined) return false;
  const marker = await node.ctx.db
    .selectFrom('settings')
    .select('key')
    .where('key', '=', DEMO_SETTING)
    .executeTakeFirst();
  return marker === undefined;
}

/**
 * The demo's first start, shared by `npm run demo` and `lading-server start --demo`: on an empty server, seeds the
 * demo fleet and labels the server as holding demo data (a `settings` row and a `demo.seeded` event in the audit
 * log, beside the repositories' demo.lading.local/ names). Answers how many builds it pushed (0: not a first start).
 * It needs a development checkout: the CLI (./bin/lading) and examples/ scan and build the images.
 */
export async function seedDemoOnFirstStart(
  node: Pick<ServerNode, 'ctx' | 'url'>,
  write: (line: string) => void,
  fleet: readonly DemoBuild[] = DEMO_FLEET,
): Promise<number> {
  if (!(await isFirstStart(node))) return 0;
  write(`Filling the demo fleet (${fleet.length} builds under ${DEMO_DOMAIN}/, scanned by the CLI, offline)…\n`);
  const pushed = await seedDemoFleet(node, write, fleet);
  const now = node.ctx.now();
  const label = { domain: DEMO_DOMAIN, builds: pushed, seededAt: new Date(now).toISOString() };
  await node.ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('settings')
      .values({ key: DEMO_SETTING, value: encodeJson(label), updated_at: now, created_at: now })
      .execute();
    await recordEvent(trx, { at: now, type: 'demo.seeded', actor: SYSTEM_ACTOR, data: label });
  });
  return pushed;
}

/** Pushes one build's bundle (metadata, SBOM, report) through POST /api/v1/ingest and waits for its job. */
async function push(
  url: string,
  token: string,
  metadata: Record<string, unknown>,
  files: { sbom: string; report: string },
): Promise<void> {
  const form = new FormData();
  form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
  for (const [name, file] of Object.entries(files)) {
    form.append(name, new Blob([await readFile(file)], { type: 'application/json' }), `${name}.json`);
  }
  const headers = { authorization: `Bearer ${token}` };
  const accepted = await fetch(`${url}/api/v1/ingest`, { method: 'POST', headers, body: form });
  const body = (await accepted.json()) as { job?: { url?: string }; detail?: string };
  if (accepted.status !== 202 || !body.job?.url) {
    throw new Error(`the demo push of ${String(metadata.repository)} was refused (${accepted.status}): ${body.detail}`);
  }
  for (;;) {
    const job = (await (await fetch(`${url}${body.job.url}?wait=30`, { headers })).json()) as {
      state: string;
      error?: unknown;
    };
    if (job.state === 'succeeded') return;
    if (job.state === 'failed' || job.state === 'canceled') {
      throw new Error(
        `the demo ingest of ${String(metadata.repository)} failed: ${JSON.stringify(job.error ?? job.state)}`,
      );
    }
  }
}

/**
 * Fills an empty server with the demo fleet: builds each image (an OCI layout), scans and catalogues it with the
 * CLI against examples/osv (imported into the server's own vulnerability store, `<data dir>/vulndb`, which the
 * ingest job matches with), and pushes it with a short-lived ingest token. Answers how many builds were pushed.
 */
export async function seedDemoFleet(
  node: Pick<ServerNode, 'ctx' | 'url'>,
  write: (line: string) => void,
  fleet: readonly DemoBuild[] = DEMO_FLEET,
): Promise<number> {
  const { ctx } = node;
  const work = join(ctx.config.dataDir, 'demo-work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const vulndb = join(ctx.config.dataDir, 'vulndb');
    await runCli(['db', 'import', join(REPO_ROOT, 'examples', 'osv'), '--db-dir', vulndb, '--quiet']);
    const owner = await ctx.db.selectFrom('users').select('id').where('is_admin', '=', 1).executeTakeFirst();
    const { token } = await createApiToken(ctx, {
      name: 'demo fleet seeding',
      scopes: ['ingest'],
      repositoryPattern: `${DEMO_DOMAIN}/*`,
      expiresAt: ctx.now() + DAY_MS,
      ...(owner ? { ownerUserId: owner.id } : {}),
    });
    const start = ctx.now();
    for (const [i, build] of fleet.entries()) {
      const at = new Date(start - build.daysAgo * DAY_MS).toISOString();
      const dir = join(work, String(i));
      const replace: Record<string, (text: string) => string> = {};
      if (build.opensslFixed) replace[DPKG_STATUS] = OPENSSL_FIXED;
      if (build.lodashFixed) replace[LODASH] = LODASH_FIXED;
      const digest = writeExampleOciLayout(join(dir, 'oci'), {
        replace,
        omit: build.withoutApp ? ['app'] : [],
        tag: `${build.repository}:${build.tag}`,
        created: at,
      });
      const target = `oci:${join(dir, 'oci')}`;
      const report = join(dir, 'report.json');
      const sbom = join(dir, 'sbom.cdx.json');
      await runCli(['scan', target, '--db-dir', vulndb, '--offline', '-o', `json=${report}`]);
      await runCli(['sbom', target, '-o', `cyclonedx-json=${sbom}`]);
      await push(
        node.url,
        token,
        { repository: build.repository, digest, tags: [build.tag, 'latest'], observedAt: at },
        { sbom, report },
      );
      write(`  demo: pushed ${build.repository}:${build.tag} (${digest.slice(0, 19)}…)\n`);
    }
    return fleet.length;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Builds the dashboard when this checkout has none yet (the demo is for looking at it). */
export async function ensureDashboardBuilt(write: (text: string) => void): Promise<void> {
  if (existsSync(join(REPO_ROOT, 'server', 'dist', 'public', 'index.html'))) return;
  write('Building the dashboard (npm run build -w @lading/dashboard)…\n');
  await runNpm(['run', 'build', '-w', '@lading/dashboard']);
}

const USAGE =
  'usage: npm run demo -- [--data-dir DIR (default lading-demo)] [--listen HOST:PORT (default 127.0.0.1:8080)]';

/** The demo's entry point: migrate, create the demo administrator, start, seed once, serve until a signal. */
export async function runDemo(argv: readonly string[], write: (text: string) => void): Promise<number> {
  let config: ServerConfig;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { 'data-dir': { type: 'string' }, listen: { type: 'string' } },
    });
    // the demo's own data dir and SQLite file: never a real server's (LADING_DATABASE_URL is not honoured here)
    const dataDir = values['data-dir'] ?? 'lading-demo';
    const resolved = configFromEnvironment({ dataDir, database: join(dataDir, 'lading.db'), listen: values.listen });
    // a request log line per push would bury the one line that matters (where the dashboard is)
    config = { ...resolved, logLevel: resolved.logLevel === 'info' ? 'warn' : resolved.logLevel };
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof Error && 'code' in error)) {
      write(`lading demo: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  await ensureDashboardBuilt(write);
  const handle = await openDatabase(config.database, { poolSize: 2 });
  try {
    await migrateToLatest(handle.db, handle.dialect);
    const anyone = await handle.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (!anyone) {
      const password = randomBytes(12).toString('base64url');
      await insertUser(handle.db, { login: 'admin', password, isAdmin: true }, Date.now());
      write(
        [
          'Created the demo administrator. The password is shown ONCE:',
          '  login:    admin',
          `  password: ${password}`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    await handle.close();
  }
  const node = await startServerNode(config);
  try {
    await seedDemoOnFirstStart(node, write);
    write(`The Lading dashboard (demo data) is on ${node.url}  — stop with Ctrl-C; data in ${config.dataDir}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    return 0;
  } catch (error) {
    write(`lading demo: ${error instanceof Error ? error.message : String(error)}\n`);
    return 3;
  } finally {
    await node.close();
  }
}
