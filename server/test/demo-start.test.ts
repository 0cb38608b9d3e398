// `lading-server start --demo`: the bin from a fresh working directory fills its embedded database with the demo fleet
// (the code `npm run demo` runs: seedDemoOnFirstStart) on its first start only, labels it as demo data (a settings
// row and a `demo.seeded` event beside the demo.lading.local/ names), and a second start adds nothing. --demo with
// PostgreSQL or another command is a usage error. seedDemoOnFirstStart itself runs on both engines.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { DEMO_DOMAIN, DEMO_FLEET, DEMO_SETTING, seedDemoOnFirstStart } from '../src/demo.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { OpenApiValidator } from './helpers/openapi.js';
import { forEachDatabase, startTestServer } from './helpers/server.js';

const BIN = new URL('../bin/lading-server.mjs', import.meta.url).pathname;
const validator = new OpenApiValidator();
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LADING_')));
}

/** Starts the bin and waits until stdout matches `until`; answers its output so far and a stop function. */
async function startUntil(
  cwd: string,
  args: string[],
  until: RegExp,
): Promise<{ child: ChildProcess; out: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'start', '--listen', '127.0.0.1:0', ...args], {
    cwd,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // six builds, each built, scanned and catalogued by the CLI, on a shared machine
  const deadline = Date.now() + 300_000;
  while (!until.test(out)) {
    if (child.exitCode !== null) throw new Error(`lading-server exited ${child.exitCode}: ${err.trim()} ${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`lading-server did not get to ${until}: ${out} ${err}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    out: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function getChecked<T>(url: string, path: string, token: string): Promise<T> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body = JSON.parse(await res.text());
  validator.check({ method: 'GET', path, status: res.status, contentType: res.headers.get('content-type'), body });
  assert.equal(res.status, 200, JSON.stringify(body));
  return body as T;
}

describe('lading-server start --demo', () => {
  it('fills the embedded database with the demo fleet on the first start only, labelled as demo data', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lading-demo-start-'));
    dirs.push(cwd);
    const first = await startUntil(cwd, ['--demo'], /Demo data ready: .*\n/);
    const out = first.out();
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)![0];
    const token = /token:\s+(lading_\S+)/.exec(out)![1]!;
    assert.match(out, new RegExp(`Demo data ready: ${DEMO_FLEET.length} builds under ${DEMO_DOMAIN}/`));
    const images = await getChecked<{ items: { repository: string }[] }>(url, '/api/v1/images?limit=50', token);
    assert.equal(images.items.length, DEMO_FLEET.length);
    assert.ok(images.items.every((i) => i.repository.startsWith(`${DEMO_DOMAIN}/`)));
    assert.equal(await first.stop(), 0);

    const db = new BetterSqlite3(join(cwd, 'lading-data', 'lading.db'), { readonly: true });
    try {
      const label = db.prepare('select value from settings where key = ?').get(DEMO_SETTING) as { value: string };
      const { seededAt, ...rest } = JSON.parse(label.value) as { seededAt: string };
      assert.deepEqual(rest, { domain: DEMO_DOMAIN, builds: DEMO_FLEET.length });
      assert.ok(Number.isFinite(Date.parse(seededAt)));
      const seeded = db.prepare("select count(*) as n from events where type = 'demo.seeded'").get() as { n: number };
      assert.equal(seeded.n, 1);
    } finally {
      db.close();
    }

    const second = await startUntil(cwd, ['--demo'], /Demo: not a first start, nothing added\n/);
    assert.doesNotMatch(second.out(), /Filling the demo fleet|password:/);
    const url2 = /http:\/\/127\.0\.0\.1:\d+/.exec(second.out())![0];
    const again = await getChecked<{ items: unknown[] }>(url2, '/api/v1/images?limit=50', token);
    assert.equal(again.items.length, DEMO_FLEET.length);
    assert.equal(await second.stop(), 0);
  });

  it('is a usage error with PostgreSQL or with another command', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lading-demo-start-'));
    dirs.push(cwd);
    const run = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    const pg = run(['start', '--demo', '--database', 'postgres://lading@127.0.0.1:1/lading']);
    assert.equal(pg.status, 2, pg.stderr);
    assert.match(pg.stderr, /--demo fills the embedded database only/);
    const migrate = run(['migrate', '--demo']);
    assert.equal(migrate.status, 2, migrate.stderr);
    assert.match(migrate.stderr, /--demo goes with start/);
  });
});

forEachDatabase((database) => {
  describe('seedDemoOnFirstStart', () => {
    it('seeds an empty server once, labels it, and never again', async () => {
      const server = await startTestServer({
        database,
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx)),
      });
      try {
        const fleet = DEMO_FLEET.slice(0, 2);
        const lines: string[] = [];
        assert.equal(await seedDemoOnFirstStart(server, (l) => lines.push(l), fleet), 2);
        assert.match(lines[0] ?? '', /Filling the demo fleet \(2 builds/);
        assert.equal(await seedDemoOnFirstStart(server, (l) => lines.push(l), fleet), 0);
        const events = await server.ctx.db
          .selectFrom('events')
          .select('type')
          .where('type', '=', 'demo.seeded')
          .execute();
        assert.equal(events.length, 1);
        const label = await server.ctx.db
          .selectFrom('settings')
          .select('value')
          .where('key', '=', DEMO_SETTING)
          .executeTakeFirstOrThrow();
        assert.equal(JSON.parse(String(label.value)).builds, 2);
        const images = await server.api.get<{ items: unknown[] }>('/api/v1/images?limit=50');
        assert.equal(images.body.items.length, 2);
      } finally {
        await server.close();
      }
    });
  });
});
