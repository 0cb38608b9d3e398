import { LadingError } from '../errors/lading-error.js';
import { formatRepository, parseReference, type Reference, type RepositoryRef } from '../registry/reference.js';
import type { AttachmentRegistry } from './registry-port.js';

export interface ResolvedImage {
  repo: RepositoryRef;
  /** `registry/repository`, the name cosign puts in payloads and statement subjects. */
  name: string;
  reference: Reference;
  /** Digest of the manifest (or index) bytes as served. */
  digest: string;
  /** True when the user named a tag: what it points to may change between resolution and use. */
  byTag: boolean;
}

/** Resolves IMAGE to the digest of its manifest (the thing signatures are about); a missing image is NOT_FOUND. */
export async function resolveImage(registry: AttachmentRegistry, image: string): Promise<ResolvedImage> {
  const reference = parseReference(image.replace(/^registry:/, ''));
  const repo = { registry: reference.registry, repository: reference.repository };
  const name = formatRepository(repo);
  const lookup = reference.digest ?? reference.tag ?? 'latest';
  const manifest = await registry.fetchManifest(repo, lookup);
  if (!manifest) throw new LadingError('NOT_FOUND', `${image}: image not found in the registry`);
  if (reference.digest && manifest.digest !== reference.digest) {
    throw new LadingError('DIGEST_MISMATCH', `${image}: the registry served a manifest with digest ${manifest.digest}`);
  }
  return { repo, name, reference, digest: manifest.digest, byTag: !reference.digest };
}
