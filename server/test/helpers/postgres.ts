// PostgreSQL for the server's tests: a fresh database per call on the cluster named by LADING_TEST_POSTGRES_URL
// (.ci/run starts one with .ci/start-postgres), or, when that is unset, a throwaway cluster this process starts
// itself (initdb in a temp dir, loopback on a free port, as user `postgres` when running as root) and stops at exit.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

let clusterUrl: Promise<string> | undefined;

/** The admin URL of the test cluster (its `postgres` database). */
export function testClusterUrl(): Promise<string> {
  clusterUrl ??= process.env.LADING_TEST_POSTGRES_URL
    ? Promise.resolve(process.env.LADING_TEST_POSTGRES_URL)
    : startThrowawayCluster();
  return clusterUrl;
}

export interface TestPostgresDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a random name on the test cluster. */
export async function createTestPostgresDatabase(): Promise<TestPostgresDatabase> {
  const admin = await testClusterUrl();
  const name = `lading_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(admin, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdminClient(admin, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdminClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const found = versions.map((v) => join(base, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (!found)
    throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt install postgresql-15)');
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function startThrowawayCluster(): Promise<string> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'lading-pg-'));
  // initdb refuses to run as root: run the cluster as the `postgres` system user then.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
    const result = spawnSync(file, argv, { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`${command} failed (${result.status}): ${(result.stderr || result.stdout).trim()}`);
    }
  };
  const data = join(dir, 'data');
  run(join(bin, 'initdb'), [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  const port = await freePort();
  // Durability is irrelevant for a throwaway test cluster: fsync off keeps the 2-core machine free for the tests.
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200`;
  run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  process.once('exit', () => {
    const stop = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
    if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', ...stop]);
    else spawnSync(stop[0]!, stop.slice(1));
    rmSync(dir, { recursive: true, force: true });
  });
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}
