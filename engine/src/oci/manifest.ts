import { LadingError } from '../errors/lading-error.js';
import { type Descriptor, parseDescriptor } from './descriptor.js';
import { isStringRecord, parseJsonObject } from './json.js';
import {
  isImageConfigType,
  isImageManifestType,
  isIndexType,
  isLayerType,
  isSchema1Type,
  MEDIA_TYPES,
} from './media-types.js';

/** The largest manifest or index read (containerd's limit; registries must take at least this much). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** How deep indexes may point at indexes before the image is refused (real ones nest at most once). */
export const MAX_INDEX_DEPTH = 4;

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

/** A manifest-sized JSON object: anything bigger is refused before it is parsed. */
function parseDocument(bytes: Buffer, what: string): Record<string, unknown> {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new LadingError('LIMIT', `${what} is ${bytes.length} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`);
  }
  return parseJsonObject(bytes, what);
}

/**
 * What a fetched document is: an index (or Docker manifest list) to choose from, or one image's manifest. Its own
 * `mediaType` field wins (it is in the digested bytes); else `declared` (the descriptor's or the registry's
 * Content-Type); else its shape. Docker schema 1 and unknown types are refused here, with what to do about them.
 */
export function documentKind(bytes: Buffer, what: string, declared?: string): 'index' | 'manifest' {
  const doc = parseDocument(bytes, what);
  const own = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  if (doc['schemaVersion'] === 1 || isSchema1Type(own) || (own === undefined && isSchema1Type(declared))) {
    throw new LadingError(
      'BAD_INPUT',
      `${what} is a Docker schema 1 manifest, which Lading does not read (deprecated since 2017; re-push the image with a current tool)`,
    );
  }
  const mediaType = own ?? (isIndexType(declared) || isImageManifestType(declared) ? declared : shapeType(doc));
  if (isIndexType(mediaType)) return 'index';
  if (isImageManifestType(mediaType)) return 'manifest';
  throw new LadingError('BAD_INPUT', `${what}: unknown manifest media type ${mediaType ?? declared ?? '(none)'}`);
}

function shapeType(doc: Record<string, unknown>): string | undefined {
  if (Array.isArray(doc['manifests'])) return MEDIA_TYPES.ociIndex;
  if (Array.isArray(doc['layers']) && doc['config'] !== undefined) return MEDIA_TYPES.ociManifest;
  return undefined;
}

function copyCommon(doc: Record<string, unknown>, out: ImageManifest | ImageIndex, what: string): void {
  if (typeof doc['mediaType'] === 'string') out.mediaType = doc['mediaType'];
  if (typeof doc['artifactType'] === 'string') out.artifactType = doc['artifactType'];
  if (doc['subject'] !== undefined) out.subject = parseDescriptor(doc['subject'], `${what} subject`);
  if (isStringRecord(doc['annotations'])) out.annotations = doc['annotations'];
}

/** An image manifest (OCI or Docker v2 schema 2), every descriptor checked; BAD_INPUT or LIMIT otherwise. */
export function parseImageManifest(bytes: Buffer, what: string): ImageManifest {
  const doc = parseDocument(bytes, what);
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

/** An image index (OCI or Docker manifest list), every entry checked; BAD_INPUT or LIMIT otherwise. */
export function parseImageIndex(bytes: Buffer, what: string): ImageIndex {
  const doc = parseDocument(bytes, what);
  if (doc['schemaVersion'] !== 2) throw new LadingError('BAD_INPUT', `${what}: schemaVersion is not 2`);
  if (!Array.isArray(doc['manifests'])) throw new LadingError('BAD_INPUT', `${what}: no manifests list`);
  const out: ImageIndex = {
    schemaVersion: 2,
    manifests: doc['manifests'].map((m, i) => parseDescriptor(m, `${what} entry ${i}`)),
  };
  copyCommon(doc, out, what);
  return out;
}

/**
 * Refuses a manifest that is not a container image: an artifact (a Helm chart, a signature, an SBOM) whose config
 * is not an image config, or a layer that is not a filesystem tar. The same check for every source.
 */
export function checkContainerImage(manifest: ImageManifest, what: string): void {
  if (!isImageConfigType(manifest.config.mediaType)) {
    throw new LadingError('BAD_INPUT', `${what} is not a container image (its config is ${manifest.config.mediaType})`);
  }
  for (const [i, layer] of manifest.layers.entries()) {
    if (!isLayerType(layer.mediaType)) {
      throw new LadingError('BAD_INPUT', `${what}: layer ${i} is not a filesystem layer (${layer.mediaType})`);
    }
  }
}
