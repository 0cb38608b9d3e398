import { LadingError } from '../errors/lading-error.js';
import {
  documentKind,
  type ImageManifest,
  MAX_INDEX_DEPTH,
  parseImageIndex,
  parseImageManifest,
} from '../oci/manifest.js';
import { MANIFEST_ACCEPT } from '../oci/media-types.js';
import { choosePlatform, DEFAULT_PLATFORM, formatPlatform, parsePlatform } from '../oci/platform.js';
import type { RegistryClient } from './client.js';
import { formatReference, type Reference } from './reference.js';

export interface ResolvedImage {
  ref: Reference;
  /** Digest of the single-platform image manifest. */
  manifestDigest: string;
  manifestMediaType: string;
  manifest: ImageManifest;
  /** Digest of the index the reference pointed at, when it pointed at one. */
  indexDigest?: string;
  /** The platform chosen from an index (or undefined for a single manifest: the config says). */
  platform?: string;
  /** The config blob's bytes (verified against its digest). */
  config: Buffer;
}

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/**
 * Resolves a reference to one image manifest and its config: follows indexes and manifest lists (nested ones
 * too) to the wanted platform (by oci/'s one rule, as OCI layouts do), rejects Docker schema 1 with a clear message.
 */
export async function resolveImage(client: RegistryClient, ref: Reference, platform?: string): Promise<ResolvedImage> {
  parsePlatform(platform ?? DEFAULT_PLATFORM); // a malformed --platform is a usage error before any request
  const name = formatReference(ref);
  let current = await client.getManifest(ref, MANIFEST_ACCEPT);
  let indexDigest: string | undefined;
  let chosen: string | undefined;
  for (let depth = 0; documentKind(current.bytes, name, current.mediaType) === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH)
      throw new LadingError('BAD_INPUT', `${name}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
    const index = parseImageIndex(current.bytes, `index of ${name}`);
    indexDigest ??= current.digest;
    const pick = choosePlatform(index.manifests, platform, name);
    chosen = formatPlatform(pick.platform!);
    current = await client.getManifest({ ...ref, digest: pick.digest }, MANIFEST_ACCEPT);
  }
  const manifest = parseImageManifest(current.bytes, `manifest of ${name}`);
  const config = await client.getBlobBytes(ref, manifest.config.digest, MAX_CONFIG_BYTES);
  const out: ResolvedImage = {
    ref,
    manifestDigest: current.digest,
    manifestMediaType: current.mediaType,
    manifest,
    config,
  };
  if (indexDigest) out.indexDigest = indexDigest;
  if (chosen) out.platform = chosen;
  return out;
}
