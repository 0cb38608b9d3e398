import { LadingError } from '../errors/lading-error.js';
import type { RegistryClient } from './client.js';
import { type Descriptor, type ImageManifest, parseImageIndex, parseImageManifest, sniffManifest } from './manifest.js';
import { isImageManifestType, isIndexType, isSchema1Type, MANIFEST_ACCEPT } from './media-types.js';
import { DEFAULT_PLATFORM, formatPlatform, parsePlatform, rankByPlatform } from './platform.js';
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

const MAX_INDEX_DEPTH = 4;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/**
 * Resolves a reference to one image manifest and its config: follows indexes and manifest lists (nested ones
 * too) to the wanted platform, rejects Docker schema 1 with a clear message.
 */
export async function resolveImage(client: RegistryClient, ref: Reference, platform?: string): Promise<ResolvedImage> {
  const wanted = parsePlatform(platform ?? DEFAULT_PLATFORM);
  const name = formatReference(ref);
  let current = await client.getManifest(ref, MANIFEST_ACCEPT);
  let indexDigest: string | undefined;
  let chosen: string | undefined;
  for (let depth = 0; ; depth++) {
    const kind = kindOf(current.mediaType, current.bytes, name);
    if (kind === 'manifest') break;
    if (depth >= MAX_INDEX_DEPTH)
      throw new LadingError('BAD_INPUT', `${name}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
    const index = parseImageIndex(current.bytes, `index of ${name}`);
    indexDigest ??= current.digest;
    const pick = rankByPlatform(wanted, index.manifests)[0];
    if (!pick) {
      throw new LadingError(
        'NOT_FOUND',
        `${name} has no image for ${formatPlatform(wanted)}; it has: ${availablePlatforms(index.manifests)}`,
      );
    }
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

function kindOf(mediaType: string, bytes: Buffer, name: string): 'index' | 'manifest' {
  const sniffed = sniffManifest(bytes, `manifest of ${name}`);
  if (isSchema1Type(mediaType) || sniffed.schemaVersion === 1) {
    throw new LadingError(
      'BAD_INPUT',
      `${name} is a Docker schema 1 manifest, which Lading does not read (deprecated since 2017; re-push the image with a current tool)`,
    );
  }
  if (isIndexType(mediaType) || (sniffed.mediaType !== undefined && isIndexType(sniffed.mediaType))) return 'index';
  if (sniffed.mediaType === 'index') return 'index';
  if (isImageManifestType(mediaType) || isImageManifestType(sniffed.mediaType)) return 'manifest';
  throw new LadingError('BAD_INPUT', `${name}: unsupported manifest media type "${mediaType}"`);
}

function availablePlatforms(entries: Descriptor[]): string {
  const names = entries
    .filter((e) => e.platform && e.platform.os !== 'unknown')
    .map((e) => formatPlatform(e.platform!));
  return names.length ? [...new Set(names)].join(', ') : 'no platforms listed';
}
