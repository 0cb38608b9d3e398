// `reanalysis`: the re-analysis budgets of issue 18 on a seeded fleet (bench/seed.ts with --study and
// --inventories): a daily OSV delta of about 500 changed advisories, served from 127.0.0.1 in the layout the
// engine's incremental update reads (`<Ecosystem>/all.zip`, `<Ecosystem>/modified_id.csv` newest first,
// `<Ecosystem>/<id>.json`), is pulled by the server's own `vulndb.update` job, and the time from the end of the import
// (the data generation's finished_at) to re-analysis done and to the last alert queued (finding.new events and their
// outbox rows) is measured; then a full re-match (the matcher version changed) with the peak RSS of this process (the
// server: context, job runner, matcher) and of PostgreSQL (its processes' private memory plus the shared buffers once).
//
// The data: real Debian 8 (jessie) DSA/DLA fix records of examples/study (advisory, source package, fixed version,
// CVEs, announcement day) turned into OSV records of the shape OSV publishes for Debian (engine/test/fixtures/e2e/osv/
// Debian/DSA-5417-1.json): the last `--delta` advisories by announcement day are the delta, the earlier ones the
// baseline dump (all.zip) the first update loads. `modified` is the announcement day (derived: the real OSV records
// carry later modification times).
//
// The server runs in this process at the fleet's time (a day after its last build), so every image is retained; only
// the data-update and re-analysis handlers run. One notification rule (a webhook, never delivered here: no
// notify.deliver handler) makes each alert queue an outbox row, as a configured server would.
//
// Usage: node --conditions=source --import tsx server/bench/reanalysis.ts --database URL --data-dir DIR
//        [--study examples/study] [--delta 500] [--pg-data /tmp/bench-pg] [--work /tmp/rebench] [--no-full]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { resolveConfig } from '../src/config.js';
import { createContext, type ServerContext } from '../src/context.js';
import { encodeJson } from '../src/db/dialect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { enqueue } from '../src/jobs/queue.js';
import { JobRunner } from '../src/jobs/runner.js';
import { silentLogger } from '../src/log.js';
import { TARGET_PURPOSE } from '../src/notify/deliver.js';
import { integrationKey, seal } from '../src/notify/secret-box.js';
import { registerReanalysisJobs } from '../src/reanalysis/index.js';
import { registerVulndataJobs, VULNDB_DEDUPE_KEY, VULNDB_UPDATE } from '../src/vulndata/index.js';

const ECOSYSTEM = 'Debian:8';
const RELEASE = 'jessie';

interface AdvisoryRow {
  advisory: string;
  date: string;
  title?: string;
  package: string;
  release: string | null;
  fixedVersion: string | null;
  status: string | null;
  cves: string[];
}

interface OsvRecord {
  id: string;
  modified: string;
  published: string;
  upstream: string[];
  summary: string;
  affected: {
    package: { ecosystem: string; name: string; purl: string };
    ranges: { type: 'ECOSYSTEM'; events: ({ introduced: string } | { fixed: string })[] }[];
  }[];
}

/** The study's jessie advisories with a fixed version, one OSV record per advisory, oldest first. */
export function jessieRecords(studyDir: string): OsvRecord[] {
  const text = gunzipSync(readFileSync(join(studyDir, 'debian-advisories.jsonl.gz'))).toString('utf8');
  const byId = new Map<string, { date: string; title: string; rows: AdvisoryRow[] }>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as AdvisoryRow;
    if (row.release !== RELEASE || row.status !== 'fixed' || !row.fixedVersion) continue;
    const entry = byId.get(row.advisory) ?? { date: row.date, title: row.title ?? 'security update', rows: [] };
    entry.rows.push(row);
    byId.set(row.advisory, entry);
  }
  const records: OsvRecord[] = [];
  for (const [id, { date, title, rows }] of byId) {
    const packages = [...new Set(rows.map((r) => r.package))].sort();
    records.push({
      id,
      modified: `${date}T00:00:00Z`,
      published: `${date}T00:00:00Z`,
      upstream: [...new Set(rows.flatMap((r) => r.cves))].sort(),
      summary: `${packages.join(', ')} - ${title}`,
      affected: rows.map((r) => ({
        package: { ecosystem: ECOSYSTEM, name: r.package, purl: `pkg:deb/debian/${r.package}?arch=source` },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: r.fixedVersion as string }] }],
      })),
    });
  }
  return records.sort((a, b) => a.published.localeCompare(b.published) || a.id.localeCompare(b.id));
}

/** An OSV mirror on 127.0.0.1: `Debian/all.zip`, `Debian/modified_id.csv`, `Debian/<id>.json`; 404 for the rest. */
async function serveOsv(root: string): Promise<{ server: Server; base: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = join(root, path);
    if (!file.startsWith(`${root}/`) || path.includes('..')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const bytes = readFileSync(file);
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return { server, base: `http://127.0.0.1:${address.port}`, requests: () => requests };
}

/**
 * Peak memory while a phase runs: this process's RSS, and PostgreSQL's: the postmaster and its children's private
 * resident memory (RssAnon + RssFile of /proc/PID/status) plus their shared memory once (the largest RssShmem: the
 * shared buffers every backend maps). /proc/PID/status is cheap to read; smaps_rollup (PSS) walks the page tables of
 * a 1 GB shared-buffer mapping for each backend and would stall this process's event loop for seconds.
 */
class MemorySampler {
  #timer: NodeJS.Timeout | undefined;
  selfPeak = 0;
  pgPeak = 0;
  constructor(readonly postmasterPid: number | undefined) {}
  start(): void {
    this.selfPeak = process.memoryUsage().rss;
    this.pgPeak = this.#pg();
    this.#timer = setInterval(() => {
      this.selfPeak = Math.max(this.selfPeak, process.memoryUsage().rss);
      this.pgPeak = Math.max(this.pgPeak, this.#pg());
    }, 500);
  }
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.selfPeak = Math.max(this.selfPeak, process.memoryUsage().rss);
  }
  #pg(): number {
    if (!this.postmasterPid) return 0;
    let private_ = 0;
    let shared = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const status = readFileSync(`/proc/${entry}/status`, 'utf8');
        const pid = Number(entry);
        const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
        if (pid !== this.postmasterPid && ppid !== this.postmasterPid) continue;
        const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
        private_ += kb('RssAnon') + kb('RssFile');
        shared = Math.max(shared, kb('RssShmem'));
      } catch {
        // the process ended meanwhile
      }
    }
    return private_ + shared;
  }
}

interface PhaseResult {
  generation: number;
  changedPackages: number;
  importMs: number;
  reanalysisMs: number;
  alertsQueuedMs: number | null;
  images: number;
  packagesMatched: number;
  newFindings: number;
  retracted: number;
  reopened: number;
  alerts: number;
  outbox: number;
  serverPeakRss: number;
  postgresPeakPss: number;
  steps: string;
}

async function runUpdate(ctx: ServerContext, memory: MemorySampler): Promise<PhaseResult> {
  const requested = ctx.now();
  const before = await ctx.db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirstOrThrow();
  const firstEvent = Number(before.id ?? 0);
  // when the last finding.new became visible (committed): polled, as a consumer of the events would see it
  let alertsSeen = 0;
  let lastAlertAt: number | null = null;
  const countAlerts = async () => {
    const row = await ctx.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('id', '>', firstEvent)
      .where('type', '=', 'finding.new')
      .executeTakeFirstOrThrow();
    if (Number(row.n) > alertsSeen) {
      alertsSeen = Number(row.n);
      lastAlertAt = ctx.now();
    }
  };
  memory.start();
  const job = await enqueue(ctx.db, requested, {
    kind: VULNDB_UPDATE,
    payload: { ecosystems: ['Debian'] },
    dedupeKey: VULNDB_DEDUPE_KEY,
    createdBy: 'system',
  });
  ctx.jobSignals.enqueued();
  const wait = async (id: number) => {
    for (;;) {
      const row = await ctx.db
        .selectFrom('jobs')
        .select(['state', 'result', 'error', 'finished_at', 'steps', 'started_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      if (row.state === 'succeeded') return row;
      if (row.state === 'failed' || row.state === 'canceled') throw new Error(`job ${id}: ${String(row.error)}`);
      await countAlerts();
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const update = await wait(job.id);
  const result = (typeof update.result === 'string' ? JSON.parse(update.result) : update.result) as {
    generation: number;
    changed: number;
  };
  const generation = await ctx.db
    .selectFrom('db_generations')
    .select(['finished_at', 'created_at'])
    .where('id', '=', result.generation)
    .executeTakeFirstOrThrow();
  const reanalyzeJob = await ctx.db
    .selectFrom('jobs')
    .select('id')
    .where('kind', '=', 'reanalyze')
    .where('dedupe_key', '=', `reanalyze:${result.generation}`)
    .executeTakeFirstOrThrow();
  const done = await wait(Number(reanalyzeJob.id));
  await countAlerts();
  memory.stop();
  const outcome = (typeof done.result === 'string' ? JSON.parse(done.result) : done.result) as {
    images: number;
    packagesMatched: number;
    newFindings: number;
    retracted: number;
    reopened: number;
    alerts: number;
  };
  const importEnd = Number(generation.finished_at);
  const lastAlert = await ctx.db
    .selectFrom('events')
    .select((eb) => [eb.fn.max('id').as('id'), eb.fn.countAll<number | string>().as('n')])
    .where('type', '=', 'finding.new')
    .where('request_id', 'like', `reanalyze:${result.generation}:%`)
    .executeTakeFirstOrThrow();
  const outbox = lastAlert.id
    ? await ctx.db
        .selectFrom('notifications as n')
        .innerJoin('events as e', 'e.id', 'n.event_id')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('e.type', '=', 'finding.new')
        .where('e.request_id', 'like', `reanalyze:${result.generation}:%`)
        .executeTakeFirstOrThrow()
    : { n: 0 };
  const steps = (typeof done.steps === 'string' ? JSON.parse(done.steps) : done.steps) as {
    name: string;
    ms?: number;
    detail?: string;
  }[];
  return {
    generation: result.generation,
    changedPackages: result.changed,
    importMs: importEnd - Number(generation.created_at),
    reanalysisMs: Number(done.finished_at) - importEnd,
    alertsQueuedMs: lastAlertAt === null ? null : lastAlertAt - importEnd,
    images: outcome.images,
    packagesMatched: outcome.packagesMatched,
    newFindings: outcome.newFindings,
    retracted: outcome.retracted,
    reopened: outcome.reopened,
    alerts: outcome.alerts,
    outbox: Number(outbox.n),
    serverPeakRss: memory.selfPeak,
    postgresPeakPss: memory.pgPeak,
    steps: steps.map((s) => `${s.name} ${s.ms ?? '?'} ms${s.detail ? ` (${s.detail})` : ''}`).join('; '),
  };
}

function show(name: string, r: PhaseResult): void {
  const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
  process.stdout.write(
    `${name}: generation ${r.generation}, ${r.changedPackages} changed packages; import ${(r.importMs / 1000).toFixed(1)} s; ` +
      `import end → re-analysis done ${(r.reanalysisMs / 1000).toFixed(1)} s, → last alert seen ` +
      `${r.alertsQueuedMs === null ? 'none' : `${(r.alertsQueuedMs / 1000).toFixed(1)} s`} (${r.alerts} finding.new, ${r.outbox} outbox rows); ` +
      `${r.images} images, ${r.packagesMatched} distinct packages matched; findings: ${r.newFindings} new, ` +
      `${r.retracted} retracted, ${r.reopened} reopened; peak RSS server ${mib(r.serverPeakRss)}, ` +
      `PostgreSQL ${mib(r.postgresPeakPss)}\n    steps: ${r.steps}\n`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      'data-dir': { type: 'string' },
      study: { type: 'string', default: new URL('../../examples/study', import.meta.url).pathname },
      delta: { type: 'string', default: '500' },
      'pg-data': { type: 'string' },
      work: { type: 'string', default: '/tmp/rebench' },
      'no-full': { type: 'boolean', default: false },
    },
  });
  if (!values.database || !values['data-dir']) {
    process.stderr.write(
      'usage: reanalysis.ts --database URL --data-dir DIR [--study DIR] [--delta 500] [--pg-data DIR] [--work DIR] [--no-full]\n',
    );
    process.exit(2);
  }
  const deltaSize = Number(values.delta);
  const work = values.work as string;
  const records = jessieRecords(values.study as string);
  if (records.length <= deltaSize) throw new Error(`only ${records.length} jessie advisories`);
  const baseline = records.slice(0, records.length - deltaSize);
  const window = records.slice(records.length - deltaSize);
  // a day's delta: the advisories announced on the window's first day (real, new), and, as the rest of the day's
  // ≈500 changed records, the most recent baseline advisories published again that day with the same content (an
  // edit that changes no affected range: derived). The rest of the window is the heavy delta: 13 months at once.
  const firstDay = window[0]?.published ?? '';
  const dayNew = window.filter((r) => r.published === firstDay);
  const republished = baseline.slice(-(deltaSize - dayNew.length)).map((r) => ({ ...r, modified: firstDay }));
  const day = [...republished, ...dayNew];
  const heavy = window.filter((r) => r.published !== firstDay);

  // the mirror's files
  const mirror = join(work, 'mirror');
  const staging = join(work, 'staging');
  rmSync(mirror, { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(mirror, 'Debian'), { recursive: true });
  mkdirSync(staging, { recursive: true });
  for (const r of baseline) writeFileSync(join(staging, `${r.id}.json`), JSON.stringify(r, null, 2));
  execFileSync(
    'python3',
    ['-m', 'zipfile', '-c', join(mirror, 'Debian', 'all.zip'), ...baseline.map((r) => `${r.id}.json`)],
    {
      cwd: staging,
    },
  );
  // what the feed says after each phase: modified_id.csv (newest first) and one file per record in it
  const publish = (list: OsvRecord[]) => {
    for (const r of list) writeFileSync(join(mirror, 'Debian', `${r.id}.json`), JSON.stringify(r, null, 2));
    const newestFirst = [...list].sort((a, b) => b.modified.localeCompare(a.modified) || b.id.localeCompare(a.id));
    writeFileSync(
      join(mirror, 'Debian', 'modified_id.csv'),
      newestFirst.map((r) => `${r.modified},${r.id}\n`).join(''),
    );
  };
  const names = (list: OsvRecord[]) => new Set(list.flatMap((r) => r.affected.map((a) => a.package.name))).size;
  const span = (list: OsvRecord[]) => `${list[0]?.published.slice(0, 10)} → ${list.at(-1)?.published.slice(0, 10)}`;
  process.stdout.write(
    `data: ${records.length} real jessie advisories: baseline ${baseline.length} (${span(baseline)}, ` +
      `${names(baseline)} source packages); day ${firstDay.slice(0, 10)}: ${dayNew.length} new + ${republished.length} ` +
      `published again (${names(day)} source packages); heavy ${heavy.length} (${span(heavy)}, ${names(heavy)} source packages)\n`,
  );
  const osv = await serveOsv(mirror);

  // the server, at the fleet's time
  const dbDir = join(work, 'vulndb');
  rmSync(dbDir, { recursive: true, force: true });
  const config = resolveConfig(
    { database: values.database, dataDir: values['data-dir'] as string, listen: '127.0.0.1:0' },
    { LADING_LOG_LEVEL: 'silent' },
    process.cwd(),
  );
  const probe = await createContext(config, { log: silentLogger });
  await migrateToLatest(probe.db, probe.dialect);
  const last = await probe.db
    .selectFrom('images')
    .select((eb) => eb.fn.max('last_ingested_at').as('at'))
    .executeTakeFirstOrThrow();
  const counts = await sql<{ images: string; packages: string; findings: string }>`
    select (select count(*) from images) as images, (select count(*) from packages) as packages,
           (select count(*) from findings) as findings`.execute(probe.db);
  await probe.close();
  const fleetNow = Number(last.at) + 86_400_000;
  const offset = Date.now() - fleetNow;
  const ctx = await createContext(config, { log: silentLogger, now: () => Date.now() - offset });
  process.stdout.write(
    `fleet: ${counts.rows[0]?.images} images, ${counts.rows[0]?.packages} packages, ${counts.rows[0]?.findings} findings; ` +
      `server time ${new Date(ctx.now()).toISOString()}\n`,
  );
  const key = integrationKey(ctx.secrets.key);
  await ctx.db
    .insertInto('notification_rules')
    .values({
      name: 'bench: new findings',
      channel: 'webhook',
      target_enc: seal(key, TARGET_PURPOSE, 'https://hooks.bench.example/lading'),
      secret_enc: null,
      // no severity floor: Debian's DSA/DLA records carry none, so their findings are UNKNOWN
      filter: encodeJson({ eventTypes: ['finding.new'] }),
      enabled: 1,
      created_by: null,
      updated_at: ctx.now(),
      created_at: ctx.now(),
    })
    .execute();
  const runner = new JobRunner(ctx, { concurrency: 1 });
  const sources = { osvBase: osv.base, kev: `${osv.base}/kev.json`, epss: `${osv.base}/epss.csv.gz` };
  registerVulndataJobs(runner, ctx, { dbDir, sources });
  registerReanalysisJobs(runner, ctx, { dbDir });
  runner.start();

  const postmaster = values['pg-data']
    ? Number(readFileSync(join(values['pg-data'], 'postmaster.pid'), 'utf8').split('\n')[0])
    : undefined;
  const memory = new MemorySampler(postmaster);
  try {
    publish([]);
    show('baseline (all.zip, first load)', await runUpdate(ctx, memory));
    publish(day);
    show(`day (${day.length} changed advisories, ${dayNew.length} new; modified_id.csv)`, await runUpdate(ctx, memory));
    // (the day's rows left out: at the watermark's own time the update would fetch them again, by design)
    publish(heavy);
    show(`heavy (${heavy.length} new advisories, 13 months; modified_id.csv)`, await runUpdate(ctx, memory));
    if (!values['no-full']) {
      // the matcher changed since the last generation: every package of every retained image is matched again
      const lastGeneration = await ctx.db
        .selectFrom('db_generations')
        .select('id')
        .where('state', '=', 'done')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      await ctx.db
        .updateTable('db_generations')
        .set({ matcher_version: '0.0.0-bench' })
        .where('id', '=', lastGeneration.id)
        .execute();
      show('full re-match (matcher version changed)', await runUpdate(ctx, memory));
    }
    process.stdout.write(`mirror: ${osv.requests()} requests served\n`);
  } finally {
    await runner.stop();
    await ctx.close();
    osv.server.close();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`reanalysis: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
