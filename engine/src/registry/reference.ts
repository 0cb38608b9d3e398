import { LadingError } from '../errors/lading-error.js';

/** An image reference, normalized: `docker.io/library/alpine:latest`, `127.0.0.1:5000/team/app@sha256:…`. */
export interface Reference {
  /** host[:port] as written by the user (`docker.io` for Docker Hub, never `index.docker.io`). */
  registry: string;
  /** Path inside the registry (`library/alpine`). */
  repository: string;
  /** `latest` when neither tag nor digest was given. */
  tag?: string;
  digest?: string;
}

/** Where a repository lives; every client call needs only this much. */
export interface RepositoryRef {
  registry: string;
  repository: string;
}

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's registry API answers on a different host than its name. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const MAX_NAME_LENGTH = 255;

// The grammar of distribution/reference (regexp.go), written out once.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const KNOWN_DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha512: 128 };

/** Parses a Docker-style image reference; throws LadingError('USAGE') naming what is wrong. */
export function parseReference(input: string): Reference {
  const s = input.trim();
  const fail = (why: string): never => {
    throw new LadingError('USAGE', `invalid image reference "${input}": ${why}`);
  };
  if (s === '') fail('empty');

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    validateDigest(digest, fail);
  }

  let tag: string | undefined;
  // A tag follows the last ':' only if no '/' comes after it (otherwise the ':' belonged to a port).
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`invalid tag "${tag}"`);
  }

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // Same rule as Docker: the first component is a host if it looks like one.
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!DOMAIN.test(registry)) fail(`invalid registry host "${registry}"`);
    }
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API_HOST) registry = DOCKER_HUB;
  if (repository === '') fail('missing repository name');
  if (repository.toLowerCase() !== repository) fail('repository name must be lowercase');
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) fail(`invalid repository name component "${component}"`);
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) fail(`name longer than ${MAX_NAME_LENGTH} characters`);

  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

function validateDigest(digest: string, fail: (why: string) => never): void {
  if (!DIGEST.test(digest)) fail(`invalid digest "${digest}"`);
  const [algorithm = '', hex = ''] = digest.split(':');
  const expected = KNOWN_DIGEST_LENGTHS[algorithm];
  if (expected === undefined) fail(`unsupported digest algorithm "${algorithm}"`);
  if (hex.length !== expected || hex !== hex.toLowerCase()) {
    fail(`${algorithm} digest must be ${expected} lowercase hex characters`);
  }
}

/** `registry/repository[:tag][@digest]`: the normalized form, which `parseReference` reads back unchanged. */
export function formatReference(ref: Reference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** `registry/repository`, for messages and repoTags. */
export function formatRepository(repo: RepositoryRef): string {
  return `${repo.registry}/${repo.repository}`;
}

/** The host the registry API is served from. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** Accepts a parsed reference or its string form. */
export function toReference(ref: Reference | string): Reference {
  if (typeof ref === 'string') return parseReference(ref);
  // Objects built by callers are checked by the same grammar, since their parts end up in URL paths.
  parseReference(formatReference(ref));
  return ref;
}

/** Accepts `host/repo` strings (tag/digest ignored) or anything carrying registry + repository. */
export function toRepository(repo: RepositoryRef | string): RepositoryRef {
  const r = toReference(typeof repo === 'string' ? repo : { registry: repo.registry, repository: repo.repository });
  return { registry: r.registry, repository: r.repository };
}

/** Whether `s` can name a manifest in a URL: a tag by the reference grammar, or a digest. */
export function isTagOrDigest(s: string): boolean {
  return TAG.test(s) || isDigest(s);
}

/** Whether `s` is a valid `algorithm:hex` digest (sha256/sha512). */
export function isDigest(s: string): boolean {
  try {
    validateDigest(s, (why) => {
      throw new Error(why);
    });
    return true;
  } catch {
    return false;
  }
}
