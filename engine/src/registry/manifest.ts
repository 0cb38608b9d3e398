// Moved to oci/ (one model of OCI documents for every source); re-exported so `@lading/engine/registry` keeps its API.
import { parseJsonObject } from '../oci/json.js';

export { type Descriptor, parseDescriptor } from '../oci/descriptor.js';
export { type ImageIndex, type ImageManifest, parseImageIndex, parseImageManifest } from '../oci/manifest.js';
export type { Platform } from '../oci/platform.js';

/**
 * The `schemaVersion` and `mediaType` fields (`mediaType` is `'index'` for an index that does not say its type).
 * Kept for callers of the registry module; what a document is, is decided by `documentKind` in oci/.
 */
export function sniffManifest(bytes: Buffer, what: string): { schemaVersion: unknown; mediaType?: string } {
  const doc = parseJsonObject(bytes, what);
  const out: { schemaVersion: unknown; mediaType?: string } = { schemaVersion: doc['schemaVersion'] };
  if (typeof doc['mediaType'] === 'string') out.mediaType = doc['mediaType'];
  if (out.mediaType === undefined && Array.isArray(doc['manifests'])) out.mediaType = 'index';
  return out;
}
