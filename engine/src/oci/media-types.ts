/** Media types of the OCI image/distribution specs and their Docker v2 schema 2 predecessors. */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Single-image manifests, best first. */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];

/** Multi-platform indexes. */
export const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];

/** What we ask a registry for when resolving an image reference: anything but schema 1, which we reject clearly. */
export const MANIFEST_ACCEPT: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];

/** Configs of runnable images (OCI and Docker share the format); anything else is an artifact. */
export const IMAGE_CONFIG_TYPES: readonly string[] = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig];

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_TYPES.includes(mediaType);
}

export function isImageManifestType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && IMAGE_MANIFEST_TYPES.includes(mediaType);
}

export function isSchema1Type(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.dockerSchema1 || mediaType === MEDIA_TYPES.dockerSchema1Signed;
}

export function isImageConfigType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && IMAGE_CONFIG_TYPES.includes(mediaType);
}

export type LayerCompression = 'none' | 'gzip' | 'zstd';

// OCI layers (the deprecated non-distributable ones too) say their compression as a `+suffix`; Docker's say it in
// the name (`diff.tar.gzip`; containers/image also writes `diff.tar` and `diff.tar.zstd`).
const OCI_LAYER = /^application\/vnd\.oci\.image\.layer\.(?:nondistributable\.)?v1\.tar(?:\+(gzip|zstd))?$/;
const DOCKER_LAYER = /^application\/vnd\.docker\.image\.rootfs\.(?:foreign\.)?diff\.tar(?:\.(gzip|zstd))?$/;
/** The family of filesystem layer types, whatever suffix follows (the bytes themselves say how to read them). */
const LAYER_FAMILY =
  /^application\/vnd\.(oci\.image\.layer\.(nondistributable\.)?v1\.tar|docker\.image\.rootfs\.(foreign\.)?diff\.tar)/;

/** How a filesystem layer of this media type is compressed; undefined when the type does not say a known way. */
export function layerCompression(mediaType: string | undefined): LayerCompression | undefined {
  if (mediaType === undefined) return undefined;
  const m = OCI_LAYER.exec(mediaType) ?? DOCKER_LAYER.exec(mediaType);
  if (!m) return undefined;
  return (m[1] as 'gzip' | 'zstd' | undefined) ?? 'none';
}

/**
 * Whether a manifest entry of this media type is a filesystem layer (a tar, maybe compressed): any OCI or Docker
 * layer type, since how a layer is compressed is read from its first bytes, not trusted from its type.
 */
export function isLayerType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && LAYER_FAMILY.test(mediaType);
}
