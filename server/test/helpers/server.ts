// The server test harness: a real lading-server (Fastify on 127.0.0.1:0, a temp data dir, a fresh SQLite file or
// PostgreSQL database, every migration) with an administrator token, and `api`, a small fetch client that checks
// EVERY response against server/openapi/lading.yaml. Every server test runs on both engines (forEachDatabase).
// Jobs run as in production: on SQLite the in-process table runner, on PostgreSQL graphile-worker (jobs/graphile.ts,
// as node.ts starts it), both with the handlers registered on `runner` and a short poll interval.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type BuildAppOptions, buildApp } from '../../src/app.js';
import { createApiToken } from '../../src/auth/index.js';
import { insertUser } from '../../src/auth/store.js';
import { resolveConfig, type ServerConfig } from '../../src/config.js';
import { createContext, type ServerContext } from '../../src/context.js';
import { openDatabase } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { type GraphileRunner, startGraphileRunner } from '../../src/jobs/graphile.js';
import { JobRunner, type RunnerOptions } from '../../src/jobs/runner.js';
import { silentLogger } from '../../src/log.js';
import { createTestDatabaseTarget, type TestDatabaseKind } from './database.js';
import { OpenApiValidator } from './openapi.js';

export { DATABASE_KINDS, forEachDatabase, openTestDatabase, type TestDatabaseKind } from './database.js';

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public ms: number = Date.UTC(2026, 10, 23, 12, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON for JSON media types, else the text. */
  readonly body: T;
  readonly text: string;
}

export interface RequestOptions {
  /** A JSON body (sent with Content-Type: application/json) … */
  readonly json?: unknown;
  /** … or raw bytes / text with the headers the caller sets. */
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  /** The bearer token: the admin's by default; null sends none. */
  readonly token?: string | null;
}

export interface ApiClient {
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  get<T = unknown>(path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  post<T = unknown>(path: string, json?: unknown, options?: RequestOptions): Promise<ApiResponse<T>>;
}

export function createApiClient(
  baseUrl: string,
  defaultToken: string | undefined,
  validator: OpenApiValidator,
): ApiClient {
  const request = async <T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? defaultToken : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Uint8Array | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(new URL(path, baseUrl), { method, headers, body: body as BodyInit | undefined });
    const text = await response.text();
    const contentType = response.headers.get('content-type');
    const isJson = /^application\/(?:[a-z.+-]*\+)?json/i.test(contentType ?? '');
    let parsed: unknown = text;
    if (isJson && text !== '') parsed = JSON.parse(text);
    validator.check({ method, path, status: response.status, contentType, body: text === '' ? undefined : parsed });
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  };
  return {
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, json, options) => request('POST', path, { ...options, json }),
  };
}

export interface TestServerOptions {
  readonly database: TestDatabaseKind;
  readonly clock?: TestClock;
  /** Overrides of the resolved configuration. */
  readonly config?: Partial<ServerConfig>;
  /**
   * Run jobs (default true): the table runner on SQLite, graphile-worker on PostgreSQL. With false nothing runs
   * them; `runner` is returned either way (handler registration, and `runOnce` for table-queue tests).
   */
  readonly runJobs?: boolean;
  /** Options of the table runner; on PostgreSQL graphile takes `concurrency` and `pollMs` (its backoff is its own). */
  readonly runner?: RunnerOptions;
  /** Registers job handlers before the jobs start running. */
  readonly jobHandlers?: (runner: JobRunner, ctx: ServerContext) => void;
  readonly routes?: BuildAppOptions['routes'];
  /** Test-only operations added to the OpenAPI document the client validates against. */
  readonly extraPaths?: Record<string, unknown>;
}

export interface TestServer {
  readonly url: string;
  readonly ctx: ServerContext;
  readonly app: FastifyInstance;
  /** The handler registry; on SQLite also the table runner that runs the jobs. */
  readonly runner: JobRunner;
  /** The running graphile-worker (PostgreSQL with runJobs), else undefined. */
  readonly graphile: GraphileRunner | undefined;
  /** Stops running jobs as a node's shutdown does (running handlers are aborted and retried later). */
  stopJobs(): Promise<void>;
  /** Starts running jobs again (a restarted worker): the table runner, or a new graphile-worker. */
  startJobs(): Promise<void>;
  readonly admin: { readonly token: string; readonly userId: number };
  readonly api: ApiClient;
  readonly validator: OpenApiValidator;
  readonly dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lading-server-test-'));
  const made = await createTestDatabaseTarget(options.database, dataDir);
  const base = resolveConfig({ dataDir, listen: '127.0.0.1:0' }, {}, dataDir);
  const config: ServerConfig = {
    ...base,
    database: made.target,
    logLevel: 'silent',
    jobs: { ...base.jobs, pollMs: 50 },
    ...options.config,
  };
  const handle = await openDatabase(config.database, { poolSize: 8 });
  await migrateToLatest(handle.db, handle.dialect);
  const clock = options.clock;
  const ctx = await createContext(config, {
    database: handle,
    log: silentLogger,
    ...(clock ? { now: clock.now } : {}),
  });
  const admin = await insertUser(ctx.db, { login: 'admin', isAdmin: true }, ctx.now());
  const { token } = await createApiToken(ctx, {
    name: 'test admin',
    scopes: ['ingest', 'read', 'triage', 'admin'],
    repositoryPattern: '*',
    expiresAt: ctx.now() + 30 * 86_400_000,
    ownerUserId: admin.id,
  });
  const app = await buildApp(ctx, options.routes ? { routes: options.routes } : {});
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the test server has no TCP address');
  const url = `http://127.0.0.1:${address.port}`;
  const runner = new JobRunner(ctx, options.runner);
  options.jobHandlers?.(runner, ctx);
  let graphile: GraphileRunner | undefined;
  const startJobs = async (): Promise<void> => {
    if (ctx.dialect !== 'postgres') return runner.start();
    if (graphile) return;
    const { concurrency, pollMs } = options.runner ?? {};
    graphile = await startGraphileRunner(ctx, runner, {
      ...(concurrency === undefined ? {} : { concurrency }),
      pollMs: pollMs ?? config.jobs.pollMs,
    });
  };
  const stopJobs = async (): Promise<void> => {
    if (ctx.dialect !== 'postgres') return runner.stop();
    const running = graphile;
    graphile = undefined;
    await running?.stop();
  };
  try {
    if (options.runJobs !== false) await startJobs();
  } catch (error) {
    await app.close();
    await ctx.close();
    await made.dispose();
    throw error;
  }
  const validator = new OpenApiValidator((options.extraPaths ?? {}) as Record<string, unknown>);
  return {
    url,
    ctx,
    app,
    runner,
    get graphile() {
      return graphile;
    },
    stopJobs,
    startJobs,
    admin: { token, userId: admin.id },
    api: createApiClient(url, token, validator),
    validator,
    dataDir,
    close: async () => {
      await stopJobs();
      await runner.stop();
      await app.close();
      await ctx.close();
      await made.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
