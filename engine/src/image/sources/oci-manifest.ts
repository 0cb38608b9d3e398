import { LadingError } from '../../errors/lading-error.js';
import { parseJson } from '../config.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export const REF_NAME = 'org.opencontainers.image.ref.name';

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPES.ociManifest || mediaType === MEDIA_TYPES.dockerManifest;
}

function descriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null) throw new LadingError('BAD_INPUT', `${what}: malformed descriptor`);
  const d = v as Record<string, unknown>;
  if (typeof d['digest'] !== 'string') throw new LadingError('BAD_INPUT', `${what}: descriptor without a digest`);
  const out: Descriptor = { digest: d['digest'] };
  if (typeof d['mediaType'] === 'string') out.mediaType = d['mediaType'];
  if (typeof d['size'] === 'number' && Number.isSafeInteger(d['size']) && d['size'] >= 0) out.size = d['size'];
  if (typeof d['platform'] === 'object' && d['platform'] !== null)
    out.platform = d['platform'] as Descriptor['platform'];
  if (typeof d['annotations'] === 'object' && d['annotations'] !== null) {
    out.annotations = d['annotations'] as Record<string, string>;
  }
  return out;
}

/** The media type a document declares, or the one its descriptor gave, or what its shape says. */
export function documentType(doc: Record<string, unknown>, declared?: string): string | undefined {
  if (typeof doc['mediaType'] === 'string') return doc['mediaType'];
  if (declared) return declared;
  if (Array.isArray(doc['manifests'])) return MEDIA_TYPES.ociIndex;
  if (Array.isArray(doc['layers']) && doc['config']) return MEDIA_TYPES.ociManifest;
  if (doc['schemaVersion'] === 1) return MEDIA_TYPES.dockerSchema1;
  return undefined;
}

export function parseIndex(raw: Buffer, what: string): Descriptor[] {
  const doc = parseJson(raw, what);
  if (!Array.isArray(doc['manifests'])) throw new LadingError('BAD_INPUT', `${what} has no manifests list`);
  return doc['manifests'].map((m, i) => descriptor(m, `${what} manifests[${i}]`));
}

export interface ParsedManifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export function parseManifest(raw: Buffer, what: string, declared?: string): ParsedManifest {
  const doc = parseJson(raw, what);
  const mediaType = documentType(doc, declared);
  if (mediaType === MEDIA_TYPES.dockerSchema1 || mediaType === MEDIA_TYPES.dockerSchema1Signed) {
    throw new LadingError('BAD_INPUT', `${what}: Docker schema 1 manifests are not supported (deprecated format)`);
  }
  if (!isManifestType(mediaType)) {
    throw new LadingError('BAD_INPUT', `${what}: unknown manifest media type ${mediaType ?? '(none)'}`);
  }
  if (!Array.isArray(doc['layers'])) throw new LadingError('BAD_INPUT', `${what} has no layers list`);
  return {
    mediaType: mediaType as string,
    config: descriptor(doc['config'], `${what} config`),
    layers: doc['layers'].map((l, i) => descriptor(l, `${what} layers[${i}]`)),
  };
}

export function platformOf(d: Descriptor): string | undefined {
  const p = d.platform;
  if (!p?.os || !p.architecture) return undefined;
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** arm64 images are often published without the (implied) v8 variant, and asked for with it or without. */
function sameVariant(want: string | undefined, have: string | undefined, arch: string): boolean {
  if (want === undefined) return true;
  if (arch === 'arm64') return (want || 'v8') === (have || 'v8');
  return want === have;
}

/** Whether a platform is the wanted os/arch, with the wanted variant when one is asked for. */
function fits(os: string, arch: string, variant: string | undefined, p: Descriptor['platform']): boolean {
  return p?.os === os && p.architecture === arch && sameVariant(variant, p.variant, arch);
}

/** Picks the manifest for `platform` (`os/arch[/variant]`, default linux/amd64) from an index. */
export function choosePlatform(manifests: Descriptor[], platform: string | undefined, what: string): Descriptor {
  const wanted = platform ?? 'linux/amd64';
  const [os, arch, variant] = wanted.split('/');
  if (!os || !arch) throw new LadingError('USAGE', `--platform ${wanted}: expected OS/ARCH[/VARIANT]`);
  const candidates = manifests.filter((m) => fits(os, arch, variant, m.platform));
  const best = candidates.find((m) => !variant || m.platform?.variant === variant) ?? candidates[0];
  if (best) return best;
  const available = manifests
    .map(platformOf)
    .filter((p): p is string => p !== undefined && !p.startsWith('unknown/'))
    .join(', ');
  throw new LadingError('NOT_FOUND', `${what} has no image for ${wanted} (available: ${available || 'none'})`);
}

/**
 * A single-platform image asked for with an explicit `--platform` it does not have is refused, as `docker pull
 * --platform` does, rather than scanned as another platform. An image that does not say its platform passes.
 */
export function checkImagePlatform(asked: string | undefined, has: string | undefined, what: string): void {
  if (asked === undefined || has === undefined) return;
  const [os = '', arch = '', variant] = asked.toLowerCase().split('/');
  const [hasOs, hasArch, hasVariant] = has.split('/');
  const platform = { os: hasOs ?? '', architecture: hasArch ?? '', ...(hasVariant ? { variant: hasVariant } : {}) };
  if (fits(os, arch, variant, platform)) return;
  throw new LadingError('NOT_FOUND', `${what} is an image for ${has} only, not ${asked}`);
}
