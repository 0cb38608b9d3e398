// Configuration, secrets and logging: flags over environment over defaults, one-line errors for bad values, the
// secret key file created 0600 and refused when others can read it, and no credential in a log line.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, parseListen, parseSecretKey, resolveConfig } from '../src/config.js';
import { describeTarget } from '../src/db/connection.js';
import { createLogger } from '../src/log.js';
import { loadOrCreateSecretKeyFile } from '../src/secrets.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('no configuration: ./lading-data, SQLite inside it, 127.0.0.1:8080, role all, filesystem blobs', () => {
  const config = resolveConfig({}, {}, '/srv/app');
  assert.equal(config.dataDir, '/srv/app/lading-data');
  assert.deepEqual(config.database, { kind: 'sqlite', path: '/srv/app/lading-data/lading.db' });
  assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8080 });
  assert.equal(config.role, 'all');
  assert.equal(config.blobs, 'file:///srv/app/lading-data/blobs');
  assert.equal(config.blobsS3, undefined);
  assert.equal(config.secretKey, undefined);
  assert.equal(config.jsonBodyLimit, 1024 * 1024);
});

test('flags beat the environment; postgres URLs and relative SQLite paths are told apart', () => {
  const env = {
    LADING_DATABASE_URL: 'postgres://u:p@db:5432/lading',
    LADING_DATA_DIR: '/var/lib/lading',
    LADING_LISTEN: '0.0.0.0:9000',
    LADING_ROLE: 'worker',
  };
  const fromEnv = resolveConfig({}, env, '/x');
  assert.deepEqual(fromEnv.database, { kind: 'postgres', url: 'postgres://u:p@db:5432/lading' });
  assert.equal(fromEnv.dataDir, '/var/lib/lading');
  assert.deepEqual(fromEnv.listen, { host: '0.0.0.0', port: 9000 });
  assert.equal(fromEnv.role, 'worker');
  const fromFlags = resolveConfig({ database: 'db/l.db', listen: '[::1]:81', role: 'api', dataDir: 'd' }, env, '/x');
  assert.deepEqual(fromFlags.database, { kind: 'sqlite', path: '/x/db/l.db' });
  assert.deepEqual(fromFlags.listen, { host: '::1', port: 81 });
  assert.equal(fromFlags.role, 'api');
  assert.equal(fromFlags.dataDir, '/x/d');
});

test('S3 credentials come from LADING_S3_*', () => {
  const config = resolveConfig(
    {},
    {
      LADING_BLOBS: 's3://bucket/lading',
      LADING_S3_ACCESS_KEY_ID: 'AKIA',
      LADING_S3_SECRET_ACCESS_KEY: 'shh',
      LADING_S3_ENDPOINT: 'http://127.0.0.1:9000',
    },
    '/x',
  );
  assert.equal(config.blobs, 's3://bucket/lading');
  assert.deepEqual(config.blobsS3, {
    accessKeyId: 'AKIA',
    secretAccessKey: 'shh',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
  });
});

test('bad values are one-line ConfigErrors', () => {
  assert.throws(
    () => resolveConfig({ role: 'boss' }, {}, '/x'),
    (e: unknown) => e instanceof ConfigError && /role "boss"/.test(e.message),
  );
  assert.throws(() => parseListen('localhost'), ConfigError);
  assert.throws(() => parseListen('h:70000'), ConfigError);
  assert.deepEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000 });
  assert.throws(() => parseSecretKey('abcd'), /at least 32 bytes/);
  assert.equal(parseSecretKey('ab'.repeat(32)).length, 32);
  assert.throws(() => resolveConfig({}, { LADING_JOB_CONCURRENCY: '0' }, '/x'), /LADING_JOB_CONCURRENCY/);
  assert.throws(() => resolveConfig({}, { LADING_LOG_LEVEL: 'loud' }, '/x'), /LADING_LOG_LEVEL/);
});

test('the secret key file is created 0600 once, then reused; a readable one is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lading-key-'));
  dirs.push(dir);
  const first = loadOrCreateSecretKeyFile(dir);
  assert.equal(first.length, 32);
  assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  assert.deepEqual(loadOrCreateSecretKeyFile(dir), first);
  assert.match(readFileSync(join(dir, 'secret.key'), 'utf8'), /^[0-9a-f]{64}\n$/);
  chmodSync(join(dir, 'secret.key'), 0o644);
  assert.throws(
    () => loadOrCreateSecretKeyFile(dir),
    (e: unknown) => e instanceof ConfigError && /chmod 600/.test(e.message),
  );
});

test('log lines are JSON with credential-like fields redacted; database URLs lose their password', () => {
  const lines: string[] = [];
  const log = createLogger(
    'info',
    (l) => lines.push(l),
    () => 0,
  );
  log.debug('hidden');
  log.info('request', { headers: { authorization: 'Bearer lading_x_y', cookie: 'a=b', accept: '*/*' }, token: 't' });
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]!);
  assert.deepEqual(record, {
    time: '1970-01-01T00:00:00.000Z',
    level: 'info',
    msg: 'request',
    headers: { authorization: '[redacted]', cookie: '[redacted]', accept: '*/*' },
    token: '[redacted]',
  });
  assert.equal(describeTarget({ kind: 'postgres', url: 'postgres://u:secret@h/db' }), 'postgres://u:***@h/db');
});

test('job concurrency: one core fewer than the node has when it also serves the API (1 to 4); 4 on a worker; the variable wins', () => {
  const concurrency = (role: string, cores: number, env: Record<string, string> = {}) =>
    resolveConfig({ role }, env, '/srv/app', cores).jobs.concurrency;
  assert.equal(concurrency('all', 1), 1);
  assert.equal(concurrency('all', 2), 1);
  assert.equal(concurrency('all', 3), 2);
  assert.equal(concurrency('all', 16), 4);
  assert.equal(concurrency('worker', 2), 4);
  assert.equal(concurrency('all', 2, { LADING_JOB_CONCURRENCY: '3' }), 3);
  assert.throws(() => concurrency('all', 2, { LADING_JOB_CONCURRENCY: '0' }), ConfigError);
});
