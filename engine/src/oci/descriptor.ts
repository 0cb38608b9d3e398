import { LadingError } from '../errors/lading-error.js';
import { isStringRecord } from './json.js';
import type { Platform } from './platform.js';

/** An OCI content descriptor (also the shape of Docker v2 schema 2 entries). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
}

/** The annotation an OCI layout's index.json names its images by. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

const DIGEST_HEX_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** Whether `s` is an `algorithm:hex` digest of a known algorithm (sha256, sha384, sha512), lowercase. */
export function isDigest(s: string): boolean {
  const m = /^(sha256|sha384|sha512):([a-f0-9]+)$/.exec(s);
  return m !== null && m[2]!.length === DIGEST_HEX_LENGTHS[m[1]!];
}

function malformed(what: string, why: string): LadingError {
  return new LadingError('BAD_INPUT', `${what}: descriptor is malformed (${why})`);
}

/**
 * A descriptor as the specs require it: a media type, a valid digest (it also names files and URLs, so it must
 * not be able to walk) and a size. Optional fields are kept when well-formed; annotations must be strings.
 */
export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(what, 'not an object');
  const d = v as Record<string, unknown>;
  if (d['annotations'] !== undefined && !isStringRecord(d['annotations'])) {
    throw new LadingError('BAD_INPUT', `${what}: descriptor annotations must be an object of strings`);
  }
  if (typeof d['mediaType'] !== 'string') throw malformed(what, 'no mediaType');
  const digest = d['digest'];
  if (typeof digest !== 'string' || !isDigest(digest)) {
    throw malformed(what, `invalid digest ${JSON.stringify(digest ?? null).slice(0, 80)}`);
  }
  const size = d['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed(what, 'invalid size');
  const out: Descriptor = { mediaType: d['mediaType'], digest, size };
  if (Array.isArray(d['urls'])) out.urls = d['urls'].filter((u): u is string => typeof u === 'string');
  if (d['annotations'] !== undefined) out.annotations = d['annotations'] as Record<string, string>;
  if (typeof d['artifactType'] === 'string') out.artifactType = d['artifactType'];
  const platform = descriptorPlatform(d['platform']);
  if (platform) out.platform = platform;
  return out;
}

/** An entry's platform, when it names at least an OS and an architecture (others cannot be matched). */
function descriptorPlatform(v: unknown): Platform | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const p = v as Record<string, unknown>;
  if (typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') return undefined;
  const platform: Platform = { os: p['os'], architecture: p['architecture'] };
  if (typeof p['variant'] === 'string' && p['variant'] !== '') platform.variant = p['variant'];
  if (typeof p['os.version'] === 'string') platform['os.version'] = p['os.version'];
  if (Array.isArray(p['os.features'])) {
    platform['os.features'] = p['os.features'].filter((f): f is string => typeof f === 'string');
  }
  return platform;
}
