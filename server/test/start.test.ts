// `lading-server` as users run it: the bin from a fresh working directory. `start` with no configuration creates
// ./lading-data (SQLite database, secret key 0600), prints a one-time admin password and token, serves /healthz,
// and on a second start prints no credentials; `--database postgres://…` serves from PostgreSQL; `migrate` applies
// once; `backup --to` copies the database, the key and the blobs.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openBlobStore } from '../src/blobs/index.js';
import { OpenApiValidator } from './helpers/openapi.js';
import { createTestPostgresDatabase } from './helpers/postgres.js';
import { forEachDatabase } from './helpers/server.js';

const BIN = new URL('../bin/lading-server.mjs', import.meta.url).pathname;
const validator = new OpenApiValidator();
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The environment without any LADING_* setting: "no configuration". */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LADING_')));
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  stop(): Promise<number | null>;
}

async function startBin(cwd: string, args: string[]): Promise<Started> {
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
  const deadline = Date.now() + 90_000;
  let url: string | undefined;
  while (!url) {
    url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
    if (url) break;
    if (child.exitCode !== null) throw new Error(`lading-server exited ${child.exitCode}: ${err.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`lading-server did not start: ${out} ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    stdout: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function getChecked(url: string, path: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  validator.check({ method: 'GET', path, status: res.status, contentType: res.headers.get('content-type'), body });
  return { status: res.status, body };
}

forEachDatabase((database) => {
  test('start from an empty directory: data dir, one-time credentials, /healthz, /readyz; a restart prints none', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'lading-start-'));
    dirs.push(cwd);
    const args: string[] = [];
    let dropDatabase: (() => Promise<void>) | undefined;
    if (database === 'postgres') {
      const pgdb = await createTestPostgresDatabase();
      args.push('--database', pgdb.url);
      dropDatabase = pgdb.drop;
    }
    try {
      const first = await startBin(cwd, args);
      try {
        const password = /password:\s+(\S+)/.exec(first.stdout())?.[1];
        const token = /(lading_[0-9A-Za-z]+_[0-9A-Za-z]+)/.exec(first.stdout())?.[1];
        assert.ok(password && password.length >= 20, 'a one-time admin password is printed');
        assert.ok(token, 'a one-time admin API token is printed');
        assert.deepEqual(await getChecked(first.url, '/healthz'), { status: 200, body: { status: 'ok' } });
        assert.equal((await getChecked(first.url, '/readyz')).status, 200);
        // the token works (an authenticated 404, not a 401)
        assert.equal((await getChecked(first.url, `/api/v1/jobs/job_${'0'.repeat(26)}`, token)).status, 404);
        assert.equal((await getChecked(first.url, `/api/v1/jobs/job_${'0'.repeat(26)}`)).status, 401);
      } finally {
        assert.equal(await first.stop(), 0, 'SIGTERM stops it cleanly');
      }
      const data = join(cwd, 'lading-data');
      assert.equal(statSync(join(data, 'secret.key')).mode & 0o777, 0o600);
      assert.equal(existsSync(join(data, 'lading.db')), database === 'sqlite');
      const second = await startBin(cwd, args);
      try {
        assert.doesNotMatch(second.stdout(), /password:|lading_[0-9A-Za-z]{10}_/);
        assert.equal((await getChecked(second.url, '/healthz')).status, 200);
      } finally {
        await second.stop();
      }
    } finally {
      await dropDatabase?.();
    }
  });
});

test('migrate applies once; backup copies a consistent database, the key and the blobs; the copy is a data dir', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'lading-migrate-'));
  dirs.push(cwd);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), encoding: 'utf8' });
  const first = run('migrate', '--data-dir', 'd');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /0001_initial/);
  const again = run('migrate', '--data-dir', 'd');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /up to date/);
  const source = openBlobStore({ blobs: `file://${join(cwd, 'd', 'blobs')}` });
  const blob = await source.put(new TextEncoder().encode('{"bomFormat":"CycloneDX"}'), { maxBytes: 1024 });
  const backup = run('backup', '--data-dir', 'd', '--to', 'copy');
  assert.equal(backup.status, 0, backup.stderr);
  const copy = new BetterSqlite3(join(cwd, 'copy', 'lading.db'), { readonly: true });
  try {
    assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
    const names = (copy.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map(
      (r) => r.name,
    );
    assert.ok(names.includes('0001_initial'));
  } finally {
    copy.close();
  }
  assert.equal(statSync(join(cwd, 'copy', 'secret.key')).mode & 0o777, 0o600);
  const copied = openBlobStore({ blobs: `file://${join(cwd, 'copy', 'blobs')}` });
  assert.equal(await copied.has(blob.sha256), true);
  // restore = use the copy as the data dir
  const restored = run('migrate', '--data-dir', 'copy');
  assert.equal(restored.status, 0, restored.stderr);
  assert.match(restored.stdout, /up to date/);
  assert.deepEqual(readFileSync(join(cwd, 'copy', 'secret.key')), readFileSync(join(cwd, 'd', 'secret.key')));
  const usage = run('backup', '--data-dir', 'd');
  assert.equal(usage.status, 2);
  const unknown = run('frobnicate');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command/);
});
