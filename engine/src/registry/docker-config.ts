import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { runCredentialHelper } from './cred-helper.js';
import type { Credentials } from './credentials.js';
import { DOCKER_HUB } from './reference.js';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfig {
  auths: Record<string, AuthEntry>;
  credHelpers: Record<string, string>;
  credsStore?: string;
}

/** The key docker login uses for Docker Hub, which helpers also expect as the server URL. */
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

/**
 * `~/.docker/config.json`, where a client looks when not told (`RegistryClientOptions.dockerConfigPath`). The
 * engine reads no environment: the CLI passes `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set.
 */
export function defaultDockerConfigPath(): string {
  return join(homedir(), '.docker', 'config.json');
}

/** Reads a docker config file; a missing file is an empty config, a broken one a CONFIG error. */
export async function loadDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { auths: {}, credHelpers: {} };
    throw new LadingError('CONFIG', `cannot read ${path}: ${thrownValueText(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LadingError('CONFIG', `${path} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LadingError('CONFIG', `${path} is not a JSON object`);
  }
  const raw = parsed as Record<string, unknown>;
  const config: DockerConfig = {
    auths: objectOf(raw['auths'], path, 'auths') as Record<string, AuthEntry>,
    credHelpers: {},
  };
  for (const [host, helper] of Object.entries(objectOf(raw['credHelpers'], path, 'credHelpers'))) {
    if (typeof helper === 'string' && helper !== '') config.credHelpers[host] = helper;
  }
  if (typeof raw['credsStore'] === 'string' && raw['credsStore'] !== '') config.credsStore = raw['credsStore'];
  return config;
}

function objectOf(v: unknown, path: string, field: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new LadingError('CONFIG', `${path}: "${field}" is not an object`);
  return v as Record<string, unknown>;
}

/**
 * Credentials for a registry (as named in references, `docker.io` for Docker Hub), in docker's order:
 * a per-registry helper, then the default store, then inline `auths` entries.
 */
export async function credentialsFor(config: DockerConfig, registry: string): Promise<Credentials | undefined> {
  const server = registry === DOCKER_HUB ? DOCKER_HUB_SERVER : registry;
  const helper = config.credHelpers[registry] ?? (registry === DOCKER_HUB ? config.credHelpers[server] : undefined);
  if (helper) return runCredentialHelper(helper, server);
  const entry = findAuthEntry(config.auths, registry);
  const inline = entry ? decodeEntry(entry, registry) : undefined;
  if (config.credsStore) {
    const stored = await runCredentialHelper(config.credsStore, server);
    if (stored) return stored;
  }
  return inline;
}

function findAuthEntry(auths: Record<string, AuthEntry>, registry: string): AuthEntry | undefined {
  for (const [key, entry] of Object.entries(auths)) {
    if (typeof entry !== 'object' || entry === null) continue;
    if (normalizeAuthKey(key) === registry) return entry;
  }
  return undefined;
}

/** `https://index.docker.io/v1/` → docker.io, `http://host:5000/v2/` → host:5000. */
function normalizeAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '';
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') return DOCKER_HUB;
  return host;
}

function decodeEntry(entry: AuthEntry, registry: string): Credentials | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return { identityToken: entry.identitytoken };
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new LadingError('CONFIG', `docker config: the auth entry for ${registry} is not user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}
