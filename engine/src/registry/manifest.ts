import { LadingError } from '../errors/lading-error.js';
import { isDigest } from './reference.js';

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

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${what} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LadingError('BAD_INPUT', `${what} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** The `schemaVersion` and `mediaType` fields, read before deciding what a document is. */
export function sniffManifest(bytes: Buffer, what: string): { schemaVersion: unknown; mediaType?: string } {
  const doc = parseJson(bytes, what);
  const out: { schemaVersion: unknown; mediaType?: string } = { schemaVersion: doc['schemaVersion'] };
  if (typeof doc['mediaType'] === 'string') out.mediaType = doc['mediaType'];
  if (out.mediaType === undefined && Array.isArray(doc['manifests'])) out.mediaType = 'index';
  return out;
}

export function parseDescriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null) throw new LadingError('BAD_INPUT', `${what}: descriptor is not an object`);
  const d = v as Record<string, unknown>;
  if (typeof d['mediaType'] !== 'string') throw new LadingError('BAD_INPUT', `${what}: descriptor has no mediaType`);
  if (typeof d['digest'] !== 'string' || !isDigest(d['digest'])) {
    throw new LadingError('BAD_INPUT', `${what}: descriptor has an invalid digest`);
  }
  if (typeof d['size'] !== 'number' || !Number.isSafeInteger(d['size']) || d['size'] < 0) {
    throw new LadingError('BAD_INPUT', `${what}: descriptor has an invalid size`);
  }
  const out: Descriptor = { mediaType: d['mediaType'], digest: d['digest'], size: d['size'] };
  if (Array.isArray(d['urls'])) out.urls = d['urls'].filter((u): u is string => typeof u === 'string');
  if (isStringRecord(d['annotations'])) out.annotations = d['annotations'];
  if (typeof d['artifactType'] === 'string') out.artifactType = d['artifactType'];
  const p = d['platform'];
  if (typeof p === 'object' && p !== null) {
    const pr = p as Record<string, unknown>;
    if (typeof pr['os'] === 'string' && typeof pr['architecture'] === 'string') {
      const platform: Platform = { os: pr['os'], architecture: pr['architecture'] };
      if (typeof pr['variant'] === 'string') platform.variant = pr['variant'];
      if (typeof pr['os.version'] === 'string') platform['os.version'] = pr['os.version'];
      out.platform = platform;
    }
  }
  return out;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
  );
}

function copyCommon(doc: Record<string, unknown>, out: ImageManifest | ImageIndex, what: string): void {
  if (typeof doc['mediaType'] === 'string') out.mediaType = doc['mediaType'];
  if (typeof doc['artifactType'] === 'string') out.artifactType = doc['artifactType'];
  if (doc['subject'] !== undefined) out.subject = parseDescriptor(doc['subject'], `${what} subject`);
  if (isStringRecord(doc['annotations'])) out.annotations = doc['annotations'];
}

export function parseImageManifest(bytes: Buffer, what: string): ImageManifest {
  const doc = parseJson(bytes, what);
  if (doc['schemaVersion'] !== 2) throw new LadingError('BAD_INPUT', `${what}: schemaVersion is not 2`);
  if (!Array.isArray(doc['layers'])) throw new LadingError('BAD_INPUT', `${what}: no layers list`);
  const out: ImageManifest = {
    schemaVersion: 2,
    config: parseDescriptor(doc['config'], `${what} config`),
    layers: doc['layers'].map((l, i) => parseDescriptor(l, `${what} layer ${i}`)),
  };
  copyCommon(doc, out, what);
  return out;
}

export function parseImageIndex(bytes: Buffer, what: string): ImageIndex {
  const doc = parseJson(bytes, what);
  if (doc['schemaVersion'] !== 2) throw new LadingError('BAD_INPUT', `${what}: schemaVersion is not 2`);
  if (!Array.isArray(doc['manifests'])) throw new LadingError('BAD_INPUT', `${what}: no manifests list`);
  const out: ImageIndex = {
    schemaVersion: 2,
    manifests: doc['manifests'].map((m, i) => parseDescriptor(m, `${what} entry ${i}`)),
  };
  copyCommon(doc, out, what);
  return out;
}
