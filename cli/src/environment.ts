// The CLI's reading of the environment. The engine reads none (engine/test/library-manners.test.ts holds it): every
// LADING_* variable and the few foreign ones (XDG_CACHE_HOME, DOCKER_CONFIG, COSIGN_PASSWORD) are turned into plain
// option values here, at the edge, and passed down.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LadingError } from '@lading/engine/errors';

export type Environment = Readonly<Record<string, string | undefined>>;

/** `--db-dir`, else `LADING_DB_DIR`, else `$XDG_CACHE_HOME/lading`, else `~/.cache/lading`. */
export function dbDirFrom(flag: string | undefined, env: Environment): string {
  if (flag) return flag;
  if (env['LADING_DB_DIR']) return env['LADING_DB_DIR'];
  const cache = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cache, 'lading');
}

/** `--offline`, or `LADING_OFFLINE=1`. */
export function offlineFrom(flag: boolean | undefined, env: Environment): boolean {
  return !!flag || env['LADING_OFFLINE'] === '1';
}

/** `--allow-missing-data`, or `LADING_ALLOW_MISSING_DATA=1`: match what there is data for, report the rest unchecked. */
export function allowMissingDataFrom(flag: boolean | undefined, env: Environment): boolean {
  return !!flag || env['LADING_ALLOW_MISSING_DATA'] === '1';
}

/** `--skip-db-update`, or `LADING_SKIP_DB_UPDATE=1`: a scan uses the data there is, without fetching any. */
export function skipDbUpdateFrom(flag: boolean | undefined, env: Environment): boolean {
  return !!flag || env['LADING_SKIP_DB_UPDATE'] === '1';
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: where registry credentials are looked up. */
export function dockerConfigPathFrom(env: Environment): string {
  return join(env['DOCKER_CONFIG'] || join(homedir(), '.docker'), 'config.json');
}

/** `LADING_SBOM_MAX_BYTES`: a positive byte count raises or lowers the SBOM file cap; anything else keeps the default. */
export function sbomMaxBytesFrom(env: Environment): { maxSbomBytes?: number } {
  const configured = Number(env['LADING_SBOM_MAX_BYTES']);
  return Number.isFinite(configured) && configured > 0 ? { maxSbomBytes: configured } : {};
}

/** `LADING_INFLATE_THREADS=1`: inflate and hash gzip layers on worker threads (off by default; see docs/performance.md). */
export function inflateThreadsFrom(env: Environment): boolean {
  return env['LADING_INFLATE_THREADS'] === '1';
}

/** Where `db update` downloads from: `--source`, else `LADING_DB_SOURCE`; `LADING_KEV_URL`/`LADING_EPSS_URL` for the feeds. */
export function dbSourcesFrom(
  flag: string | undefined,
  env: Environment,
): { mirrorBase: string | undefined; feeds: { kev: string | undefined; epss: string | undefined } } {
  return {
    mirrorBase: flag || env['LADING_DB_SOURCE'] || undefined,
    feeds: { kev: env['LADING_KEV_URL'], epss: env['LADING_EPSS_URL'] },
  };
}

/** A scan's image limits and platform: each flag, else its `LADING_*` variable (the naming rule), as written. */
export function imageOptionsFrom(
  flags: { maxFileSize?: string; maxImageSize?: string; platform?: string },
  env: Environment,
): { maxFileSize?: string; maxImageSize?: string; platform?: string } {
  const out: { maxFileSize?: string; maxImageSize?: string; platform?: string } = {};
  const maxFileSize = flags.maxFileSize ?? env['LADING_MAX_FILE_SIZE'];
  const maxImageSize = flags.maxImageSize ?? env['LADING_MAX_IMAGE_SIZE'];
  const platform = flags.platform ?? env['LADING_PLATFORM'];
  if (maxFileSize !== undefined) out.maxFileSize = maxFileSize;
  if (maxImageSize !== undefined) out.maxImageSize = maxImageSize;
  if (platform !== undefined) out.platform = platform;
  return out;
}

/** `--timeout`, else `LADING_TIMEOUT`: the whole command's deadline as the user wrote it (deadline.ts parses it). */
export function timeoutFrom(flag: string | undefined, env: Environment): string | undefined {
  return flag || env['LADING_TIMEOUT'] || undefined;
}

/**
 * `SOURCE_DATE_EPOCH` (whole seconds) as a time, for output that must be reproducible; undefined when unset.
 * Anything else is a usage error: a silently ignored value would make "reproducible" output vary.
 */
export function sourceDateEpochFrom(env: Environment): Date | undefined {
  const epoch = env['SOURCE_DATE_EPOCH'];
  if (epoch === undefined) return undefined;
  if (!/^\d+$/.test(epoch)) throw new LadingError('USAGE', `SOURCE_DATE_EPOCH must be whole seconds, got "${epoch}"`);
  return new Date(Number(epoch) * 1000);
}

/** `--server`, else `LADING_SERVER`: the lading-server `lading push` reports to. */
export function serverFrom(flag: string | undefined, env: Environment): string | undefined {
  return flag || env['LADING_SERVER'] || undefined;
}

/** `LADING_SERVER_TOKEN`: the lading-server API token (never a flag, so it stays out of shell history and `ps`). */
export function serverTokenFrom(env: Environment): string | undefined {
  return env['LADING_SERVER_TOKEN'] || undefined;
}

/** `lading pipeline`'s settings that have a `LADING_<FLAG>` variable besides the flag (docs/ci.md, "Environment"). */
export function pipelineSettingsFrom(
  flags: { key?: string; store?: string; notify?: string },
  env: Environment,
): { key?: string; store?: string; notify?: string } {
  const key = flags.key || env['LADING_KEY'];
  const store = flags.store || env['LADING_STORE'];
  const notify = flags.notify || env['LADING_SERVER'];
  return { ...(key ? { key } : {}), ...(store ? { store } : {}), ...(notify ? { notify } : {}) };
}

/**
 * The standard AWS variables for an `s3://` store (MinIO, Ceph and GCS interop through `AWS_ENDPOINT_URL`); undefined
 * without an access key, so the store names what is missing.
 */
export function s3SettingsFrom(
  env: Environment,
):
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string; endpoint?: string }
  | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'];
  const endpoint = env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'];
  return {
    accessKeyId,
    secretAccessKey,
    region: env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1',
    ...(sessionToken ? { sessionToken } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}
