// The GitHub integration's settings: the REST base URL (api.github.com or a GitHub Enterprise Server's /api/v3) and
// a token, kept in `settings` under one key with the token sealed (AES-256-GCM, SERVER.md section 7) and never
// returned by the API.
import type { Kysely, Transaction } from 'kysely';
import { decodeJson, encodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { integrationKey, openSecret, sealSecret } from '../notify/index.js';

export const GITHUB_SETTINGS_KEY = 'integrations.github';
const TOKEN_PURPOSE = 'settings.integrations.github.token';

type Db = Kysely<Database> | Transaction<Database>;

interface StoredSettings {
  apiUrl: string;
  tokenSealed: string;
}

export interface GithubSettings {
  readonly apiUrl: string;
  readonly token: string;
}

export async function githubConfigured(db: Db): Promise<boolean> {
  const row = await db.selectFrom('settings').select('key').where('key', '=', GITHUB_SETTINGS_KEY).executeTakeFirst();
  return row !== undefined;
}

export async function loadGithubSettings(db: Db, root: Uint8Array): Promise<GithubSettings | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', GITHUB_SETTINGS_KEY).executeTakeFirst();
  const stored = decodeJson<StoredSettings>(row?.value);
  if (!stored) return undefined;
  return { apiUrl: stored.apiUrl, token: openSecret(integrationKey(root), TOKEN_PURPOSE, stored.tokenSealed) };
}

export async function saveGithubSettings(
  db: Db,
  root: Uint8Array,
  settings: GithubSettings,
  now: number,
): Promise<void> {
  const value = encodeJson({
    apiUrl: settings.apiUrl,
    tokenSealed: sealSecret(integrationKey(root), TOKEN_PURPOSE, settings.token),
  } satisfies StoredSettings);
  await db
    .insertInto('settings')
    .values({ key: GITHUB_SETTINGS_KEY, value, updated_at: now, created_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
    .execute();
}

export async function apiUrlOf(db: Db): Promise<string | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', GITHUB_SETTINGS_KEY).executeTakeFirst();
  return decodeJson<StoredSettings>(row?.value)?.apiUrl ?? null;
}

/** `owner/name` from a repository's source (`https://github.com/acme/api`, `github.com/acme/api.git`, `acme/api`). */
export function githubRepoOf(source: string | null): string | null {
  if (source === null) return null;
  const m = /^(?:(?:https?:\/\/|git\+https:\/\/)?[^/]+\/)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(
    source.trim(),
  );
  return m ? `${m[1]}/${m[2]}` : null;
}
