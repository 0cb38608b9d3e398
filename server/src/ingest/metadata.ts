import { refuse } from './refusal.js';

/** The metadata part of a push bundle, validated (SERVER.md section 2). */
export interface IngestMetadata {
  repository: string;
  digest: string;
  platform?: string;
  indexDigest?: string;
  tags: string[];
  track: string;
  /** Epoch ms; when the CI saw the image (default: when the server received it). */
  observedAt?: number;
  ci?: CiFacts;
}

export interface CiFacts {
  provider?: string;
  repository?: string;
  repositoryId?: string;
  workflowRef?: string;
  runId?: string;
  runAttempt?: number;
  sha?: string;
  ref?: string;
  url?: string;
}

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
// A registry repository: host[:port]/path, lower-case path components as the distribution spec names them.
const REPOSITORY_PATTERN =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;
const TRACK_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const PLATFORM_PATTERN = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
const CI_STRING_KEYS = ['provider', 'repository', 'repositoryId', 'workflowRef', 'runId', 'sha', 'ref', 'url'] as const;
const KNOWN_KEYS = new Set(['repository', 'digest', 'platform', 'indexDigest', 'tags', 'track', 'observedAt', 'ci']);
const MAX_TAGS = 64;

/** A metadata part's bytes as IngestMetadata, or a 422 refusal naming the field that is wrong. */
export function parseMetadata(bytes: Uint8Array): IngestMetadata {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw refuse(422, 'metadata: not JSON', 'metadata');
  }
  return validateMetadata(value);
}

export function validateMetadata(value: unknown): IngestMetadata {
  const bad = (why: string) => refuse(422, `metadata: ${why}`, 'metadata');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('must be a JSON object');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN_KEYS.has(key)) throw bad(`unknown field ${JSON.stringify(key)}`);
  const repository = o['repository'];
  if (typeof repository !== 'string' || repository.length > 255 || !REPOSITORY_PATTERN.test(repository)) {
    throw bad('repository must be a registry repository name such as ghcr.io/acme/api');
  }
  const digest = o['digest'];
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) throw bad('digest must be sha256:<64 hex digits>');
  const out: IngestMetadata = { repository, digest, tags: [], track: 'default' };
  const platform = o['platform'];
  if (platform !== undefined) {
    if (typeof platform !== 'string' || !PLATFORM_PATTERN.test(platform))
      throw bad('platform must be os/arch[/variant]');
    out.platform = platform;
  }
  const indexDigest = o['indexDigest'];
  if (indexDigest !== undefined) {
    if (typeof indexDigest !== 'string' || !DIGEST_PATTERN.test(indexDigest)) {
      throw bad('indexDigest must be sha256:<64 hex digits>');
    }
    out.indexDigest = indexDigest;
  }
  const tags = o['tags'];
  if (tags !== undefined) {
    if (!Array.isArray(tags) || tags.length > MAX_TAGS) throw bad(`tags must be an array of at most ${MAX_TAGS} tags`);
    for (const tag of tags) {
      if (typeof tag !== 'string' || !TAG_PATTERN.test(tag)) throw bad(`tag ${JSON.stringify(tag)} is not a valid tag`);
    }
    out.tags = [...new Set(tags as string[])];
  }
  const track = o['track'];
  if (track !== undefined) {
    if (typeof track !== 'string' || !TRACK_PATTERN.test(track)) throw bad('track must be a short lower-case name');
    out.track = track;
  }
  const observedAt = o['observedAt'];
  if (observedAt !== undefined) {
    const ms =
      typeof observedAt === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(observedAt) ? Date.parse(observedAt) : Number.NaN;
    if (!Number.isFinite(ms)) throw bad('observedAt must be an RFC 3339 time');
    out.observedAt = ms;
  }
  const ci = o['ci'];
  if (ci !== undefined) out.ci = validateCi(ci, bad);
  return out;
}

function validateCi(value: unknown, bad: (why: string) => Error): CiFacts {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('ci must be an object');
  const o = value as Record<string, unknown>;
  const out: CiFacts = {};
  for (const [key, v] of Object.entries(o)) {
    if (key === 'runAttempt') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1_000_000) {
        throw bad('ci.runAttempt must be a whole number');
      }
      out.runAttempt = v;
    } else if ((CI_STRING_KEYS as readonly string[]).includes(key)) {
      if (typeof v !== 'string' || v.length > 1024) throw bad(`ci.${key} must be a string of at most 1024 characters`);
      out[key as (typeof CI_STRING_KEYS)[number]] = v;
    } else {
      throw bad(`unknown field ci.${JSON.stringify(key).slice(1, -1)}`);
    }
  }
  return out;
}
