// `ingest`: push-ingest throughput and 202 latency of a real `lading-server` process (its bin, as an operator runs
// it), SQLite embedded and then PostgreSQL 15 on a throwaway cluster with default durability (fsync on).
//
// Bundles are real: a few distinct images are built as OCI layouts from the engine's end-to-end Alpine root
// filesystems (each with its own build-stamp file, so every image has its own digest), then scanned
// (`lading scan -o json`) and catalogued (`lading sbom`, CycloneDX) by the CLI against the real OSV records of
// engine/test/fixtures/e2e/osv. Each push = metadata + Lading report + CycloneDX SBOM. So that every push is new work
// for the server (a replayed digest is deduplicated into the same job by design), each push rewrites its template's
// digest to a fresh random one in all three parts; nothing else changes, so the report and SBOM stay bound to it.
// All multipart bodies are encoded before the clock starts: the load generator only sends.
//
// The load: `--concurrency` workers (8, like 8 CI pipelines), each with its own ingest token (the server limits
// ingest per caller, 120/min by default, as a pipeline would hold its own token), send `--pushes` bundles on loopback
// with node's fetch. Measured: 202 latency p50/p95/p99; processed/s = pushes / (last job's finished_at − start of the
// load), read from the `jobs` table after every job was awaited with GET /api/v1/jobs/{id}?wait=; CPU seconds of the
// server process (HTTP + its job thread), of PostgreSQL's backends, and of this load generator.
//
// With --split, PostgreSQL is measured a second time in the documented multi-node layout (docs/operations.md): a
// `--role api` process takes the pushes and a `--role worker` process runs the jobs, on one database; both share the
// data dir here (one machine: the same file:// blobs, secret key and vulnerability data).
//
// Usage: node --conditions=source --import tsx server/bench/ingest.ts [--pushes 400] [--concurrency 8]
//        [--images 4] [--engines sqlite,postgres] [--split] [--cpu-prof DIR]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';
import { buildImage, type LayerEntry } from '../../engine/test/helpers/images.js';
import { freePort } from '../../engine/test/helpers/registry.js';
import { openDatabase } from '../src/db/connection.js';
import { postgresBinDir } from '../test/helpers/postgres.js';
import { runLading } from '../test/helpers/reports.js';

const BIN = join(REPO_ROOT, 'server/bin/lading-server.mjs');
const E2E = join(REPO_ROOT, 'engine/test/fixtures/e2e');
const WARMUP_PUSHES = 16;

interface Template {
  hex: string;
  repository: string;
  report: string;
  sbom: string;
}

interface Push {
  digest: string;
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
}

async function rootfsEntries(root: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if ((await stat(path)).isDirectory()) {
        entries.push({ type: 'dir', path: rel });
        await walk(path);
      } else {
        entries.push({ type: 'file', path: rel, content: await readFile(path) });
      }
    }
  };
  await walk(root);
  return entries;
}

/** Builds, scans and catalogues `count` distinct images with the CLI (two at a time: the machine has 2 cores). */
async function makeTemplates(work: string, dbDir: string, count: number): Promise<Template[]> {
  const make = async (i: number): Promise<Template> => {
    const rootfs = i % 2 === 0 ? 'alpine-a' : 'alpine-b';
    const dir = join(work, `image-${i}`);
    const entries = await rootfsEntries(join(E2E, 'rootfs', rootfs));
    entries.push({ type: 'file', path: 'etc/lading-bench-build', content: Buffer.from(`build ${i}\n`) });
    const built = await buildImage(dir, { layers: [entries], tag: `acme/svc-${i}:1.${i}` });
    const target = `oci:${built.ociDir}`;
    const reportFile = join(dir, 'report.json');
    const sbomFile = join(dir, 'sbom.cdx.json');
    await runLading(['scan', target, '--db-dir', dbDir, '--offline', '-o', `json=${reportFile}`]);
    await runLading(['sbom', target, '-o', `cyclonedx-json=${sbomFile}`]);
    return {
      hex: built.manifestDigest.replace(/^sha256:/, ''),
      repository: `registry.example/acme/svc-${i}`,
      report: readFileSync(reportFile, 'utf8'),
      sbom: readFileSync(sbomFile, 'utf8'),
    };
  };
  const templates: Template[] = [];
  for (let i = 0; i < count; i += 2) {
    const pair = [make(i)];
    if (i + 1 < count) pair.push(make(i + 1));
    for (const t of await Promise.all(pair)) templates.push(t);
  }
  return templates;
}

/** One push: the template with a fresh digest everywhere it names its own, as a multipart body (what `lading push` sends). */
async function encodePush(template: Template, n: number): Promise<Push> {
  const hex = randomBytes(32).toString('hex');
  const digest = `sha256:${hex}`;
  const form = new FormData();
  const metadata = { repository: template.repository, digest, tags: [`build-${n}`] };
  form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
  form.append(
    'report',
    new Blob([template.report.replaceAll(template.hex, hex)], { type: 'application/json' }),
    'report.json',
  );
  form.append(
    'sbom',
    new Blob([template.sbom.replaceAll(template.hex, hex)], { type: 'application/json' }),
    'sbom.cdx.json',
  );
  const response = new Response(form);
  return {
    digest,
    body: new Uint8Array(await response.arrayBuffer()),
    contentType: response.headers.get('content-type') ?? '',
  };
}

// ---- processes ----

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function startServer(
  dataDir: string,
  database: string | undefined,
  cpuProfDir: string | undefined,
  role: 'all' | 'api' | 'worker' = 'all',
): Promise<Running> {
  const port = await freePort();
  const args = ['start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--role', role];
  if (database) args.push('--database', database);
  // the engine from its sources (as the tests' CLI runs): a stale engine dist/ cannot skew or break the run
  const node = ['--conditions=source', ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [])];
  const child = spawn(process.execPath, [...node, BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LADING_DATABASE_URL: '', LADING_DATA_DIR: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d) => {
    if (text.length < 100_000) text += d;
  });
  child.stderr?.on('data', (d) => {
    if (text.length < 100_000) text += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lading-server exited ${child.exitCode}:\n${text}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`lading-server did not become ready:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, output: () => text };
}

async function stopServer(server: Running): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  // SIGINT lets node write its --cpu-prof file on the way out
  server.child.kill('SIGINT');
  await exited;
}

/** A PostgreSQL 15 cluster in a temp dir, loopback, DEFAULT durability (fsync, full_page_writes, synchronous_commit). */
function startCluster(): { url: string; dataDir: string; stop(): void } {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'lading-bench-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
    const result = spawnSync(file, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${(result.stderr || result.stdout).trim()}`);
  };
  const data = join(dir, 'data');
  run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-instructions']);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=100`;
  run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/lading`,
    dataDir: data,
    stop: () => {
      const stop = [join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop'];
      if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', ...stop]);
      else spawnSync(stop[0] as string, stop.slice(1));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- CPU accounting (Linux /proc; clock ticks are 100 per second there) ----

function procStat(pid: number, file = `/proc/${pid}/stat`): { ppid: number; cpuSeconds: number } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    // the command name may hold spaces: fields start after its closing parenthesis
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch {
    return undefined;
  }
}

/** CPU seconds so far of a process and (for PostgreSQL's postmaster) its live children. */
function cpuOf(pid: number, withChildren: boolean): number {
  let total = procStat(pid)?.cpuSeconds ?? 0;
  if (withChildren) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const s = procStat(Number(entry));
      if (s && s.ppid === pid) total += s.cpuSeconds;
    }
  }
  return total;
}

/** CPU seconds so far of each thread of a process, by thread id (the server's HTTP thread has the process's id). */
function threadCpu(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      // /proc/PID/task/TID/stat is the thread's own account (/proc/TID/stat would be the whole process's)
      const s = procStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
      if (s) threads.set(Number(tid), s.cpuSeconds);
    }
  } catch {
    // the process is gone
  }
  return threads;
}

/** The per-thread CPU between two readings: the HTTP (main) thread, then the other threads, busiest first. */
function threadDeltas(pid: number, before: Map<number, number>, after: Map<number, number>): string {
  const others: number[] = [];
  let main = 0;
  for (const [tid, cpu] of after) {
    const delta = cpu - (before.get(tid) ?? 0);
    if (tid === pid) main = delta;
    else if (delta >= 0.05) others.push(delta);
  }
  others.sort((a, b) => b - a);
  return `HTTP thread ${main.toFixed(2)}, other threads ${others
    .slice(0, 4)
    .map((d) => d.toFixed(2))
    .join(' / ')}`;
}

// ---- the load ----

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function mintTokens(url: string, admin: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `bench-pipeline-${i}`,
        user: 'admin',
        scopes: ['ingest', 'read'],
        repositoryPattern: 'registry.example/acme/*',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    });
    const answer = (await res.json()) as { token?: string };
    if (res.status !== 201 || !answer.token) throw new Error(`token: ${res.status} ${JSON.stringify(answer)}`);
    tokens.push(answer.token);
  }
  return tokens;
}

interface LoadResult {
  latencies: number[];
  jobs: string[];
  refused: string[];
}

async function sendAll(url: string, tokens: string[], pushes: Push[]): Promise<LoadResult> {
  const latencies: number[] = [];
  const jobs: string[] = [];
  const refused: string[] = [];
  let next = 0;
  const worker = async (token: string) => {
    while (next < pushes.length) {
      const push = pushes[next++] as Push;
      const started = performance.now();
      let res: Response;
      try {
        res = await fetch(`${url}/api/v1/ingest`, {
          method: 'POST',
          body: push.body,
          headers: { 'content-type': push.contentType, authorization: `Bearer ${token}` },
        });
      } catch (err) {
        // not acknowledged: counted as refused, with the socket's reason
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        refused.push(`network: ${cause?.code ?? ''} ${cause?.message ?? String(err)}`);
        continue;
      }
      const text = await res.text();
      const elapsed = performance.now() - started;
      if (res.status !== 202) {
        refused.push(`${res.status} ${text.slice(0, 200)}`);
        continue;
      }
      latencies.push(elapsed);
      jobs.push((JSON.parse(text) as { job: { id: string } }).job.id);
    }
  };
  await Promise.all(tokens.map(worker));
  return { latencies, jobs, refused };
}

async function awaitJobs(url: string, token: string, jobs: string[]): Promise<string[]> {
  const failed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const id = jobs[next++] as string;
      for (;;) {
        const res = await fetch(`${url}/api/v1/jobs/${id}?wait=60`, { headers: { authorization: `Bearer ${token}` } });
        const view = (await res.json()) as { state: string; error?: unknown };
        if (view.state === 'succeeded') break;
        if (view.state === 'failed' || view.state === 'canceled') {
          failed.push(`${id}: ${JSON.stringify(view.error)}`);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return failed;
}

type Layout = 'sqlite' | 'postgres' | 'postgres-split';

interface EngineResult {
  engine: Layout;
  pushes: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  acceptSeconds: number;
  processedSeconds: number;
  processedPerSecond: number;
  serverCpu: number;
  threads: string;
  retried: number;
  databaseCpu: number | undefined;
  loadCpu: number;
  refused: string[];
  failed: string[];
}

async function runEngine(
  engine: Layout,
  templates: Template[],
  vulnDb: string,
  options: { pushes: number; concurrency: number; cpuProfDir: string | undefined },
): Promise<EngineResult> {
  const dataDir = mkdtempSync(join(tmpdir(), `lading-bench-ingest-${engine}-`));
  cpSync(vulnDb, join(dataDir, 'vulndb'), { recursive: true });
  const cluster = engine === 'sqlite' ? undefined : startCluster();
  let server: Running | undefined;
  let worker: Running | undefined;
  try {
    if (cluster) {
      const admin = new URL(cluster.url);
      admin.pathname = '/postgres';
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query('CREATE DATABASE lading');
      await client.end();
    }
    const profDir = options.cpuProfDir ? join(options.cpuProfDir, engine) : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    const split = engine === 'postgres-split';
    // split: the API node first (its start migrates and prints the admin token), then the worker node
    server = await startServer(
      dataDir,
      cluster?.url,
      profDir && split ? join(profDir, 'api') : profDir,
      split ? 'api' : 'all',
    );
    const admin = /token:\s+(lading_\S+)/.exec(server.output())?.[1];
    if (!admin) throw new Error(`no admin token printed:\n${server.output()}`);
    if (split)
      worker = await startServer(dataDir, cluster?.url, profDir ? join(profDir, 'worker') : undefined, 'worker');
    const tokens = await mintTokens(server.url, admin, options.concurrency);

    let n = 0;
    const encode = async (count: number) => {
      const list: Push[] = [];
      for (let i = 0; i < count; i++, n++) list.push(await encodePush(templates[n % templates.length] as Template, n));
      return list;
    };
    // warm-up (JIT, connection pools, first-seen packages and vulnerabilities), not counted
    const warm = await sendAll(server.url, tokens, await encode(WARMUP_PUSHES));
    if (warm.refused.length > 0) throw new Error(`warm-up refused: ${warm.refused[0]}`);
    await awaitJobs(server.url, admin, warm.jobs);

    const pushes = await encode(options.pushes);
    const postmaster = cluster
      ? Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
      : 0;
    const serverPid = server.child.pid as number;
    const workerPid = worker?.child.pid;
    const cpu0 = {
      server: cpuOf(serverPid, false),
      worker: workerPid === undefined ? 0 : cpuOf(workerPid, false),
      db: cluster ? cpuOf(postmaster, true) : 0,
      load: process.cpuUsage(),
    };
    const threads0 = threadCpu(serverPid);
    const workerThreads0 = workerPid === undefined ? undefined : threadCpu(workerPid);
    const startedAt = Date.now();
    const started = performance.now();
    const load = await sendAll(server.url, tokens, pushes);
    const acceptSeconds = (performance.now() - started) / 1000;
    const failed = await awaitJobs(server.url, admin, load.jobs);
    let threads = threadDeltas(serverPid, threads0, threadCpu(serverPid));
    if (workerPid !== undefined && workerThreads0) {
      threads = `api: ${threads}; worker ${(cpuOf(workerPid, false) - cpu0.worker).toFixed(2)}: ${threadDeltas(workerPid, workerThreads0, threadCpu(workerPid))}`;
    }
    const cpu1 = {
      server: cpuOf(serverPid, false) + (workerPid === undefined ? 0 : cpuOf(workerPid, false) - cpu0.worker),
      db: cluster ? cpuOf(postmaster, true) : 0,
      load: process.cpuUsage(cpu0.load),
    };

    // processed/s from the jobs' own finished times, read from the server's database
    const handle = await openDatabase(
      cluster ? { kind: 'postgres', url: cluster.url } : { kind: 'sqlite', path: join(dataDir, 'lading.db') },
    );
    let lastFinished = 0;
    // jobs that needed more than one attempt (a failed attempt is retried with backoff, which slows processing)
    let retried = 0;
    try {
      const rows = await handle.db
        .selectFrom('jobs')
        .select(['public_id', 'finished_at', 'attempts'])
        .where('kind', '=', 'ingest')
        .execute();
      const ours = new Set(load.jobs);
      for (const row of rows) {
        if (!ours.has(row.public_id)) continue;
        if (row.finished_at !== null) lastFinished = Math.max(lastFinished, row.finished_at);
        if (row.attempts > 1) retried++;
      }
    } finally {
      await handle.close();
    }
    if (load.refused.length > 0 || failed.length > 0) {
      // the server's own account of what went wrong (its error log lines), beside the refusals printed below
      for (const line of [...server.output().split('\n'), ...(worker?.output().split('\n') ?? [])])
        if (/error/i.test(line)) console.log(`  server: ${line.slice(0, 600)}`);
    }
    const processedSeconds = (lastFinished - startedAt) / 1000;
    const sorted = [...load.latencies].sort((a, b) => a - b);
    return {
      engine,
      pushes: options.pushes,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] as number,
      acceptSeconds,
      processedSeconds,
      processedPerSecond: (load.jobs.length - failed.length) / processedSeconds,
      serverCpu: cpu1.server - cpu0.server,
      threads,
      retried,
      databaseCpu: cluster ? cpu1.db - cpu0.db : undefined,
      loadCpu: (cpu1.load.user + cpu1.load.system) / 1e6,
      refused: load.refused,
      failed,
    };
  } finally {
    if (worker) await stopServer(worker);
    if (server) await stopServer(server);
    cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pushes: { type: 'string', default: '400' },
      concurrency: { type: 'string', default: '8' },
      images: { type: 'string', default: '4' },
      engines: { type: 'string', default: 'sqlite,postgres' },
      'cpu-prof': { type: 'string' },
      split: { type: 'boolean', default: false },
    },
  });
  const pushes = Number(values.pushes);
  const concurrency = Number(values.concurrency);
  const images = Number(values.images);
  const engines = values.engines.split(',').map((e) => e.trim());
  for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`--engines: unknown "${e}"`);
  const layouts: Layout[] = engines as Layout[];
  if (values.split) layouts.push('postgres-split');

  const work = mkdtempSync(join(tmpdir(), 'lading-bench-bundles-'));
  try {
    const dbDir = join(work, 'db');
    const t0 = performance.now();
    await runLading(['db', 'import', join(E2E, 'osv'), '--db-dir', dbDir, '--quiet']);
    const templates = await makeTemplates(work, dbDir, images);
    const bytes = templates.reduce((sum, t) => sum + t.report.length + t.sbom.length, 0) / templates.length;
    console.log(
      `bundles: ${templates.length} images built, scanned and catalogued by the CLI in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `≈ ${(bytes / 1024).toFixed(0)} KiB report+SBOM per push`,
    );
    for (const engine of layouts) {
      const r = await runEngine(engine, templates, dbDir, { pushes, concurrency, cpuProfDir: values['cpu-prof'] });
      console.log(
        `${r.engine}: ${r.pushes} pushes at concurrency ${concurrency}: 202 p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, ` +
          `p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms; all accepted in ${r.acceptSeconds.toFixed(2)} s; ` +
          `processed ${r.processedPerSecond.toFixed(1)}/s (last job finished ${r.processedSeconds.toFixed(2)} s after the first push); ` +
          `CPU s: server ${r.serverCpu.toFixed(2)} (${r.threads})` +
          (r.databaseCpu !== undefined ? `, postgres ${r.databaseCpu.toFixed(2)}` : '') +
          `, load generator ${r.loadCpu.toFixed(2)}; refused ${r.refused.length}, failed ${r.failed.length}, retried ${r.retried}`,
      );
      for (const line of [...r.refused, ...r.failed].slice(0, 5)) console.log(`  ${line}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
