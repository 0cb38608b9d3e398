// The vulnerability database kept between runs in the GitHub Actions cache, without @actions/cache: the runner's
// cache service (protocol v2, the Twirp API at ACTIONS_RESULTS_URL that actions/cache 4 uses) hands out signed blob
// URLs; the database goes up and down as one gzipped SQLite file. Restored in `main:`, saved in `post:` — which the
// runner runs even when the job failed (post-if: always()), so a failed gate never loses the cache (trivy-action#500).
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LadingError } from '@lading/engine/errors';
import type { Environment } from '../environment.js';
import type { GithubContext } from './environment.js';

/** Bump when the archive's form changes: the service scopes entries by this version as well as by key. */
const ARCHIVE_FORM = 'lading-db gzip sqlite 1';
/** A cached database larger than this is not one Lading wrote (the full OSV store is a few hundred MB). */
const MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024;
/** The `GITHUB_STATE` entry telling `post:` which key was restored (state is per step, per action). */
export const STATE_RESTORED_KEY = 'db-cache-restored-key';

/**
 * `lading-db-v{schema}-{YYYY-MM-DD}`, restored by prefix from the newest entry of any day: one entry per day, as
 * trivy-action keys its cache. The schema is in the key, so a store of another layout is never restored. (The
 * design's ecosystem-set hash is left out: a store holding other ecosystems is still a valid starting point, the
 * scan downloads what it lacks.)
 */
export async function cacheKeys(now: Date): Promise<{ key: string; prefix: string }> {
  const { SCHEMA_VERSION } = await import('@lading/engine/vulndb');
  const prefix = `lading-db-v${SCHEMA_VERSION}-`;
  return { key: `${prefix}${now.toISOString().slice(0, 10)}`, prefix };
}

function version(): string {
  return createHash('sha256').update(ARCHIVE_FORM).digest('hex');
}

async function twirp<T>(service: { url: string; token: string }, method: string, body: object): Promise<T> {
  const response = await fetch(`${service.url}/twirp/github.actions.results.api.v1.CacheService/${method}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${service.token}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new LadingError('NETWORK', `cache service ${method}: HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
  return JSON.parse(text) as T;
}

/**
 * Restores the newest cached database into `dbDir` unless one is already there (a self-hosted runner keeps its
 * own). Returns the key restored, or undefined on a miss; notes it in GITHUB_STATE for `post:`.
 */
export async function restoreDbCache(github: GithubContext, now: Date): Promise<string | undefined> {
  if (!github.cacheService) return undefined;
  const { DB_FILE } = await import('@lading/engine/vulndb');
  const file = join(github.dbDir, DB_FILE);
  if (existsSync(file)) return undefined;
  const { key, prefix } = await cacheKeys(now);
  const found = await twirp<{ ok?: boolean; signed_download_url?: string; matched_key?: string }>(
    github.cacheService,
    'GetCacheEntryDownloadURL',
    { key, restore_keys: [prefix], version: version() },
  );
  if (!found.ok || !found.signed_download_url || !found.matched_key) return undefined;
  const response = await fetch(found.signed_download_url, { signal: AbortSignal.timeout(600_000) });
  if (!response.ok) throw new LadingError('NETWORK', `cache download: HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_ARCHIVE_BYTES) throw new LadingError('LIMIT', `cache entry of ${declared} bytes refused`);
  const archive = Buffer.from(await response.arrayBuffer());
  const database = gunzipSync(archive, { maxOutputLength: MAX_ARCHIVE_BYTES });
  mkdirSync(github.dbDir, { recursive: true });
  // 0644, not 0600: a cache saved by another user of a self-hosted runner must stay readable (trivy-action PR #397)
  writeFileSync(`${file}.restoring`, database, { mode: 0o644 });
  renameSync(`${file}.restoring`, file);
  saveState(github, STATE_RESTORED_KEY, found.matched_key);
  return found.matched_key;
}

function saveState(github: GithubContext, name: string, value: string): void {
  if (!github.stateFile) return;
  appendFileSync(github.stateFile, `${name}<<lading_state_eof\n${value}\nlading_state_eof\n`);
}

export type SaveOutcome = 'saved' | 'exists' | 'no-database' | 'no-service';

/**
 * Saves the database under today's key, unless today's entry is the one restored (nothing new to keep). The copy
 * is SQLite's own consistent one (`VACUUM INTO`): compact, and never a file caught mid-write.
 */
export async function saveDbCache(github: GithubContext, env: Environment, now: Date): Promise<SaveOutcome> {
  if (!github.cacheService) return 'no-service';
  const vulndb = await import('@lading/engine/vulndb');
  const store = vulndb.VulnStoreReader.open(github.dbDir);
  if (!store) return 'no-database';
  const { key } = await cacheKeys(now);
  if (env[`STATE_${STATE_RESTORED_KEY}`] === key) {
    store.close();
    return 'exists';
  }
  const scratch = mkdtempSync(join(tmpdir(), 'lading-cache-'));
  try {
    const copy = join(scratch, 'vulndb.sqlite');
    try {
      store.exportTo(copy);
    } finally {
      store.close();
    }
    const archive = gzipSync(readFileSync(copy), { level: 6 });
    const created = await twirp<{ ok?: boolean; signed_upload_url?: string }>(github.cacheService, 'CreateCacheEntry', {
      key,
      version: version(),
    });
    // not ok: another job of this run saved today's key first (entries are immutable)
    if (!created.ok || !created.signed_upload_url) return 'exists';
    const put = await fetch(created.signed_upload_url, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/octet-stream' },
      body: archive,
      signal: AbortSignal.timeout(600_000),
    });
    if (!put.ok) throw new LadingError('NETWORK', `cache upload: HTTP ${put.status}`);
    const finalized = await twirp<{ ok?: boolean }>(github.cacheService, 'FinalizeCacheEntryUpload', {
      key,
      version: version(),
      size_bytes: String(archive.length),
    });
    if (!finalized.ok) throw new LadingError('NETWORK', 'cache service did not accept the upload');
    return 'saved';
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
