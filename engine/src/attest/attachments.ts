import { LadingError } from '../errors/lading-error.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { RepositoryRef } from '../registry/reference.js';
import {
  type AttachmentKind,
  appendLayer,
  attachmentConfig,
  attachmentManifest,
  attachmentTag,
  type Descriptor,
  parseAttachmentManifest,
  sha256,
} from './cosign-layout.js';
import type { AttachmentRegistry } from './registry-port.js';

/** Signatures and envelopes are small; a layer claiming more is refused before download. */
export const MAX_ATTACHMENT_LAYER_BYTES = 64 * 1024 * 1024;
const MAX_LAYERS = 1000;

export interface AppendResult {
  tag: string;
  added: boolean;
  layers: number;
}

/**
 * Adds one layer to the image's `.sig`/`.att` manifest: fetch (none yet ⇒ empty), append unless identical, re-push.
 * Other signers' layers are kept; `replace` drops layers it matches (cosign's `attest --replace`).
 */
export async function appendAttachment(
  registry: AttachmentRegistry,
  repo: RepositoryRef,
  imageDigest: string,
  kind: AttachmentKind,
  layerBytes: Buffer,
  layer: Descriptor,
  replace?: (existing: Descriptor) => boolean,
): Promise<AppendResult> {
  const tag = attachmentTag(imageDigest, kind);
  const existing = await registry.fetchManifest(repo, tag);
  const before = existing ? parseAttachmentManifest(existing.bytes, tag) : [];
  const kept = replace ? before.filter((l) => !replace(l)) : before;
  const appended = appendLayer(kept, layer);
  if (!appended.added && kept.length === before.length) return { tag, added: false, layers: before.length };
  const config = attachmentConfig(appended.layers);
  await registry.pushBlob(repo, layerBytes);
  await registry.pushBlob(repo, config);
  await registry.pushManifest(repo, tag, attachmentManifest(config, appended.layers), MEDIA_TYPES.ociManifest);
  return { tag, added: appended.added, layers: appended.layers.length };
}

/** One layer and either its verified bytes or why they could not be had (reported, not fatal: others may verify). */
export interface AttachmentLayer {
  descriptor: Descriptor;
  bytes?: Buffer;
  problem?: string;
}

/** Layers of the image's attachment manifest with the given media type; an empty list when there is none. */
export async function readAttachmentLayers(
  registry: AttachmentRegistry,
  repo: RepositoryRef,
  imageDigest: string,
  kind: AttachmentKind,
  mediaType: string,
): Promise<AttachmentLayer[]> {
  const tag = attachmentTag(imageDigest, kind);
  const manifest = await registry.fetchManifest(repo, tag);
  if (!manifest) return [];
  let layers: Descriptor[];
  try {
    layers = parseAttachmentManifest(manifest.bytes, tag).filter((l) => l.mediaType === mediaType);
  } catch (err) {
    // Whoever can write the tag can write garbage there: for a verifier that is a "no", not an outage.
    if (err instanceof LadingError) throw new LadingError('VERIFY_FAILED', err.message, { cause: err });
    throw err;
  }
  if (layers.length > MAX_LAYERS) throw new LadingError('LIMIT', `${tag}: more than ${MAX_LAYERS} layers`);
  const out: AttachmentLayer[] = [];
  for (const descriptor of layers) {
    if (descriptor.size > MAX_ATTACHMENT_LAYER_BYTES) {
      out.push({
        descriptor,
        problem: `layer ${descriptor.digest} is larger than ${MAX_ATTACHMENT_LAYER_BYTES} bytes`,
      });
      continue;
    }
    try {
      const bytes = await registry.fetchBlob(repo, descriptor.digest, MAX_ATTACHMENT_LAYER_BYTES);
      // Checked here too, whatever the client does: the signed bytes must be the ones the descriptor names.
      if (sha256(bytes) !== descriptor.digest) {
        out.push({ descriptor, problem: `layer ${descriptor.digest} does not match its content` });
      } else out.push({ descriptor, bytes });
    } catch (err) {
      if (!(err instanceof LadingError) || err.code === 'NETWORK' || err.code === 'AUTH') throw err;
      out.push({ descriptor, problem: `layer ${descriptor.digest}: ${err.message}` });
    }
  }
  return out;
}
