import { createHash } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { type Descriptor, parseDescriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';

export type { Descriptor } from '../oci/descriptor.js';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
/** cosign writes the attestation's predicate type under this plain key. */
export const PREDICATE_TYPE_ANNOTATION = 'predicateType';

export type AttachmentKind = 'sig' | 'att' | 'sbom';

export interface AttachmentManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** `sha256:<hex>` → `sha256-<hex>.sig` (cosign and containers/image replace the first ':' only). */
export function attachmentTag(digest: string, kind: AttachmentKind): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new LadingError('BAD_INPUT', `not a sha256 digest: ${digest}`);
  return `${digest.replace(':', '-')}.${kind}`;
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function descriptorFor(mediaType: string, bytes: Buffer, annotations?: Record<string, string>): Descriptor {
  // Fields in go-containerregistry's order (mediaType, size, digest): cosign writes them so.
  return { mediaType, size: bytes.length, digest: sha256(bytes), ...(annotations ? { annotations } : {}) };
}

/** Adds a layer unless an identical one (type, digest, annotations) is already there, as ggcr's append does. */
export function appendLayer(layers: Descriptor[], layer: Descriptor): { layers: Descriptor[]; added: boolean } {
  const same = layers.some(
    (l) =>
      l.mediaType === layer.mediaType &&
      l.digest === layer.digest &&
      JSON.stringify(sortedEntries(l.annotations)) === JSON.stringify(sortedEntries(layer.annotations)),
  );
  return same ? { layers, added: false } : { layers: [...layers, layer], added: true };
}

function sortedEntries(o: Record<string, string> | undefined): [string, string][] {
  return Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The config blob go-containerregistry writes for cosign's empty image plus appended layers; nobody verifies it, but
 * its diff_ids must list the (uncompressed) layers to be a valid image config.
 */
export function attachmentConfig(layers: Descriptor[]): Buffer {
  const epoch = '0001-01-01T00:00:00Z';
  return Buffer.from(
    JSON.stringify({
      architecture: '',
      created: epoch,
      history: layers.map(() => ({ created: epoch })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
}

export function attachmentManifest(config: Buffer, layers: Descriptor[]): Buffer {
  const manifest: AttachmentManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: descriptorFor(MEDIA_TYPES.ociConfig, config),
    layers,
  };
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Reads an existing `.sig`/`.att` manifest's layers (written by us, cosign or anyone else). As lenient about the
 * rest of the manifest as cosign is (only `layers` is read), but every layer must be a valid descriptor (oci/).
 * Layers are returned as written, so that re-pushing the manifest keeps other signers' entries byte for byte.
 */
export function parseAttachmentManifest(bytes: Buffer, what: string): Descriptor[] {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${what}: manifest is not JSON`);
  }
  const layers = (raw as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) throw new LadingError('BAD_INPUT', `${what}: manifest has no layers array`);
  return layers.map((layer: unknown, i) => {
    parseDescriptor(layer, `${what} layer ${i}`);
    return layer as Descriptor;
  });
}
