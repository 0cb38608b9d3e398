import { LadingError } from '../../errors/lading-error.js';
import type { LayerInfo, TargetInfo } from '../../model/target.js';
import { checkContainerImage } from '../../oci/manifest.js';
import { checkImagePlatform } from '../../oci/platform.js';
import { RegistryClient } from '../../registry/client.js';
import { formatReference, formatRepository, parseReference } from '../../registry/reference.js';
import { type ResolvedImage, resolveImage } from '../../registry/resolve.js';
import { layerInfos as describeWithBlobs, type ParsedImageConfig, parseImageConfig } from '../config.js';
import type { Image, ImageLayer } from '../image.js';
import type { OpenOptions } from '../open.js';

/**
 * Opens an image in a registry: resolves the reference (index → platform) to one manifest, reads the config,
 * and describes everything up front; layers stream from the registry on demand, digest-verified.
 * `client` lets callers share one client (and its tokens) across several opens.
 */
export async function openRegistryImage(
  reference: string,
  options: OpenOptions,
  client: RegistryClient = new RegistryClient({
    insecureRegistries: options.insecureRegistries ?? [],
    ...(options.dockerConfigPath ? { dockerConfigPath: options.dockerConfigPath } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  }),
): Promise<Image> {
  const ref = parseReference(reference);
  const resolved = await resolveImage(client, ref, options.platform);
  const name = formatReference(ref);
  checkContainerImage(resolved.manifest, name);
  const config = parseImageConfig(resolved.config, `config of ${name}`);
  checkImagePlatform(options.platform, config.platform, name);
  const layerInfos = describeLayers(resolved, config, name);
  const layers: ImageLayer[] = layerInfos.map((info) => ({
    info,
    open: () => client.getBlob(ref, info.digest!, info.size),
    verifiedBlob: true,
    remote: true,
  }));
  const target: TargetInfo = {
    kind: 'image',
    ref: name,
    digest: resolved.manifestDigest,
    imageId: resolved.manifest.config.digest,
    repoTags: repoTagsOf(resolved),
    layers: layerInfos,
    config: config.summary,
  };
  const platform = config.platform ?? resolved.platform;
  if (platform) target.platform = platform;
  return { target, layers, rawConfig: resolved.config, close: async () => {} };
}

function repoTagsOf(resolved: ResolvedImage): string[] {
  const repo = formatRepository(resolved.ref);
  const tags: string[] = [];
  // With name:tag@digest the digest decides and the tag is not checked: it would claim what nobody verified.
  if (resolved.ref.tag && !resolved.ref.digest) tags.push(`${repo}:${resolved.ref.tag}`);
  tags.push(`${repo}@${resolved.indexDigest ?? resolved.manifestDigest}`);
  return tags;
}

/** Pairs manifest layers with the config's diff-ids (shared mapping in ../config.ts). */
function describeLayers(resolved: ResolvedImage, config: ParsedImageConfig, name: string): LayerInfo[] {
  const manifestLayers = resolved.manifest.layers;
  if (config.diffIds.length !== manifestLayers.length) {
    throw new LadingError(
      'BAD_INPUT',
      `${name}: the manifest lists ${manifestLayers.length} layers but the config ${config.diffIds.length} diff-ids`,
    );
  }
  return describeWithBlobs(config, manifestLayers);
}
