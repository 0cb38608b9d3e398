// The server's configuration: command-line flags over environment variables over defaults, resolved once into a
// plain ServerConfig. This is the ONLY file of the server that reads process.env (configFromEnvironment); every
// other module receives the values it needs.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { S3Options } from '@lading/engine/objects';
import { type CallerRateLimits, DEFAULT_RATE_LIMITS, type RateLimits } from './auth/rate-limits.js';
import { type DatabaseTarget, databaseTarget } from './db/connection.js';

export type ServerRole = 'api' | 'worker' | 'all';
export const SERVER_ROLES: readonly ServerRole[] = ['api', 'worker', 'all'];

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ServerConfig {
  /** The data directory: the SQLite database, the filesystem blob store and the secret key file live here. */
  readonly dataDir: string;
  readonly database: DatabaseTarget;
  readonly listen: ListenAddress;
  /** api: serves HTTP only; worker: runs jobs only; all: both (the embedded default). */
  readonly role: ServerRole;
  /**
   * Where blobs go: `file://<dir>` (default `<dataDir>/blobs`) or an `s3://bucket/prefix?endpoint=…` URL, read by
   * the blob store.
   */
  readonly blobs: string;
  /** Credentials for an s3:// blob store (LADING_S3_ACCESS_KEY_ID, …); endpoint and region may also be in the URL. */
  readonly blobsS3: S3Options | undefined;
  /** The server secret (32+ bytes) when given in the environment; else it lives in `<dataDir>/secret.key`. */
  readonly secretKey: Uint8Array | undefined;
  /** Largest JSON request body, in bytes. */
  readonly jsonBodyLimit: number;
  readonly logLevel: LogLevel;
  /**
   * Job runner: concurrent jobs per node, how long a claimed job's lease lasts before another node may take it, and
   * how many days a finished job is kept before the daily `jobs.prune` deletes it (LADING_JOB_RETENTION_DAYS).
   */
  readonly jobs: {
    readonly concurrency: number;
    readonly leaseMs: number;
    readonly pollMs: number;
    readonly retentionDays: number;
  };
  /**
   * Outbound targets (webhooks, Slack/Teams, rebuild webhooks, SMTP relays): the private, loopback or link-local
   * hosts, addresses or CIDR ranges they may reach (LADING_OUTBOUND_ALLOW_PRIVATE, comma-separated; none by
   * default), and the CA certificates (PEM file) SMTP over TLS trusts instead of the system's (LADING_SMTP_CA_FILE).
   */
  readonly outbound: { readonly allowPrivate: readonly string[]; readonly smtpCaFile: string | undefined };
  /** Request rate limits per class and per caller (`--rate-limits` / LADING_RATE_LIMITS; auth reads them). */
  readonly rateLimits: RateLimits;
  /**
   * The origins browsers reach this server at (`--public-origin` / LADING_PUBLIC_ORIGINS), for the CSRF Origin
   * check of cookie requests and logins; empty: the request's own Host (right unless a proxy rewrites it).
   */
  readonly publicOrigins: readonly string[];
}

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';
const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];

/** Values given on the command line; each overrides its environment variable. */
export interface ConfigFlags {
  readonly database?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly listen?: string | undefined;
  readonly role?: string | undefined;
  /** `ingest=N,read=N,login=N,token:<id>.ingest=N,user:<login>.read=N` (per minute), over LADING_RATE_LIMITS. */
  readonly rateLimits?: string | undefined;
  /** Comma-separated origins (`https://lading.acme.dev`), over LADING_PUBLIC_ORIGINS. */
  readonly publicOrigins?: string | undefined;
}

/** A configuration value that cannot be used: main prints it as one line and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 8080 };
export const DEFAULT_DATA_DIR = 'lading-data';
export const JSON_BODY_LIMIT = 1024 * 1024;

export function parseListen(value: string): ListenAddress {
  // host:port, [v6]:port, or a bare port
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`listen address "${value}" is not HOST:PORT`);
  }
  return { host: match[1] || match[2] || DEFAULT_LISTEN.host, port };
}

/** Reads LADING_SECRET_KEY: 64 hex digits or base64/base64url of at least 32 bytes. */
export function parseSecretKey(value: string): Uint8Array {
  const text = value.trim();
  const bytes =
    /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (bytes.length < 32) {
    throw new ConfigError('LADING_SECRET_KEY must hold at least 32 bytes (64 hex digits, or base64)');
  }
  return new Uint8Array(bytes);
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, not "${value}"`);
  return n;
}

/** The most requests per minute a limit may allow: beyond it a limit is no limit and a typo is more likely. */
const MAX_PER_MINUTE = 10_000_000;

function perMinute(name: string, value: string): number {
  const n = /^[0-9]{1,8}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n > MAX_PER_MINUTE) {
    throw new ConfigError(
      `rate limit ${name} must be a whole number of requests per minute from 1 to ${MAX_PER_MINUTE}, not "${value}"`,
    );
  }
  return n;
}

/**
 * Reads `ingest=120,read=1200,login=5,token:<public id>.ingest=600,user:<login>.read=5000`: the per-minute limits of
 * each class, and a caller's own limits for ingest or the rest of the API. Unnamed classes keep their defaults.
 */
export function parseRateLimits(text: string): RateLimits {
  const limits: RateLimits = { ...DEFAULT_RATE_LIMITS };
  const callers: Record<string, CallerRateLimits> = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (name === 'ingest') limits.ingestPerMinute = perMinute(name, value);
    else if (name === 'read') limits.readsPerMinute = perMinute(name, value);
    else if (name === 'login') limits.loginPerMinute = perMinute(name, value);
    else {
      const m = /^((?:token|user):[A-Za-z0-9._@-]{1,200})\.(ingest|read)$/.exec(name);
      if (!m?.[1] || !m[2]) {
        throw new ConfigError(
          `rate limit "${name}" is not ingest, read, login, token:<public id>.ingest|read or user:<login>.ingest|read`,
        );
      }
      const own = callers[m[1]] ?? {};
      if (m[2] === 'ingest') own.ingestPerMinute = perMinute(name, value);
      else own.readsPerMinute = perMinute(name, value);
      callers[m[1]] = own;
    }
  }
  if (Object.keys(callers).length > 0) limits.callers = callers;
  return limits;
}

/** Reads comma-separated public origins (`https://host[:port]`, no path), each normalised as a browser sends it. */
export function parsePublicOrigins(text: string): string[] {
  const origins: string[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    let url: URL | undefined;
    try {
      url = new URL(part);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.username !== '' ||
      url.password !== '' ||
      url.search !== '' ||
      url.hash !== '' ||
      part.replace(/^https?:\/\//i, '').includes('/')
    ) {
      throw new ConfigError(`public origin "${part}" is not http(s)://HOST[:PORT] (no path, query or credentials)`);
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return origins;
}

/**
 * Resolves the configuration from flags and an environment (passed in, so tests give their own). Relative paths
 * resolve against `cwd`.
 */
/**
 * Jobs run at once per process unless LADING_JOB_CONCURRENCY says otherwise: 4 on a worker node; on a node that also
 * answers the API (role `all`), one core fewer than it has (1 to 4), because every job competes with the
 * acknowledgements CI waits for. On 2 cores, 4 concurrent ingest jobs held the PostgreSQL 202's p95 at 106 ms, one
 * at 81 ms, still processing 41 bundles a second (docs/performance.md, "Server: ingest").
 */
export function defaultJobConcurrency(role: ServerRole, cores: number): number {
  if (role !== 'all') return 4;
  return Math.min(4, Math.max(1, Math.floor(cores) - 1));
}

export function resolveConfig(
  flags: ConfigFlags,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  /** The cores this process may use (the default job concurrency of role `all` follows them). */
  cores: number = availableParallelism(),
): ServerConfig {
  const dataDir = resolve(cwd, flags.dataDir ?? env.LADING_DATA_DIR ?? DEFAULT_DATA_DIR);
  const databaseValue = flags.database ?? env.LADING_DATABASE_URL;
  let database: DatabaseTarget;
  if (databaseValue === undefined || databaseValue === '') {
    database = { kind: 'sqlite', path: join(dataDir, 'lading.db') };
  } else {
    const target = databaseTarget(databaseValue);
    database =
      target.kind === 'sqlite' && !isAbsolute(target.path)
        ? { kind: 'sqlite', path: resolve(cwd, target.path) }
        : target;
  }
  const role = flags.role ?? env.LADING_ROLE ?? 'all';
  if (!SERVER_ROLES.includes(role as ServerRole)) {
    throw new ConfigError(`role "${role}" is not one of ${SERVER_ROLES.join(', ')}`);
  }
  const logLevel = env.LADING_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`LADING_LOG_LEVEL "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const listenValue = flags.listen ?? env.LADING_LISTEN;
  return {
    dataDir,
    database,
    listen: listenValue ? parseListen(listenValue) : DEFAULT_LISTEN,
    role: role as ServerRole,
    blobs: env.LADING_BLOBS || `file://${join(dataDir, 'blobs')}`,
    blobsS3:
      env.LADING_S3_ACCESS_KEY_ID && env.LADING_S3_SECRET_ACCESS_KEY
        ? {
            accessKeyId: env.LADING_S3_ACCESS_KEY_ID,
            secretAccessKey: env.LADING_S3_SECRET_ACCESS_KEY,
            ...(env.LADING_S3_SESSION_TOKEN ? { sessionToken: env.LADING_S3_SESSION_TOKEN } : {}),
            region: env.LADING_S3_REGION || 'us-east-1',
            ...(env.LADING_S3_ENDPOINT ? { endpoint: env.LADING_S3_ENDPOINT, forcePathStyle: true } : {}),
          }
        : undefined,
    secretKey: env.LADING_SECRET_KEY ? parseSecretKey(env.LADING_SECRET_KEY) : undefined,
    jsonBodyLimit: JSON_BODY_LIMIT,
    logLevel: logLevel as LogLevel,
    jobs: {
      concurrency: positiveInteger(
        'LADING_JOB_CONCURRENCY',
        env.LADING_JOB_CONCURRENCY,
        defaultJobConcurrency(role as ServerRole, cores),
      ),
      leaseMs: positiveInteger('LADING_JOB_LEASE_MS', env.LADING_JOB_LEASE_MS, 60_000),
      pollMs: 2_000,
      retentionDays: positiveInteger('LADING_JOB_RETENTION_DAYS', env.LADING_JOB_RETENTION_DAYS, 30),
    },
    outbound: {
      allowPrivate: allowPrivateList(env.LADING_OUTBOUND_ALLOW_PRIVATE),
      smtpCaFile: env.LADING_SMTP_CA_FILE ? resolve(cwd, env.LADING_SMTP_CA_FILE) : undefined,
    },
    rateLimits: parseRateLimits(flags.rateLimits ?? env.LADING_RATE_LIMITS ?? ''),
    publicOrigins: parsePublicOrigins(flags.publicOrigins ?? env.LADING_PUBLIC_ORIGINS ?? ''),
  };
}

/** Reads one outbound allowlist entry: a host name, an IPv4/IPv6 address, or a CIDR range; undefined if neither. */
export function parseAllowEntry(entry: string): { kind: 'host' | 'address' | 'subnet'; value: string } | undefined {
  const text = entry
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  const cidr = /^([0-9a-f:.]+)\/(\d{1,3})$/.exec(text);
  if (cidr) {
    const family = isIP(cidr[1] ?? '');
    if (family === 0 || Number(cidr[2]) > (family === 4 ? 32 : 128)) return undefined;
    return { kind: 'subnet', value: text };
  }
  if (isIP(text)) return { kind: 'address', value: text };
  if (text.length <= 253 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(text)) {
    return { kind: 'host', value: text };
  }
  return undefined;
}

function allowPrivateList(value: string | undefined): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  for (const entry of entries) {
    if (!parseAllowEntry(entry)) {
      throw new ConfigError(`LADING_OUTBOUND_ALLOW_PRIVATE entry "${entry}" is not a host name, address or CIDR range`);
    }
  }
  return entries;
}

/** The configuration of this process: its flags, its environment, its working directory. */
export function configFromEnvironment(flags: ConfigFlags): ServerConfig {
  return resolveConfig(flags, process.env, process.cwd());
}
