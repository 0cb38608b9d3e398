import { buildPurl } from '../model/purl.js';
import type { TargetInfo } from '../model/target.js';

/** What an SBOM says about the scanned thing itself: the image, root filesystem or SBOM file. */
export interface TargetDescription {
  /** CycloneDX component type of the root. */
  type: 'container' | 'file';
  name: string;
  version?: string;
  /** `sha256:…` manifest digest (images). */
  digest?: string;
  /** `pkg:oci/…` for images that have a digest. */
  purl?: string;
}

const TRANSPORTS = ['docker-archive:', 'oci-archive:', 'oci:', 'dir:', 'sbom:', 'registry:'];

/** Name/version/purl of the target per the purl spec's `oci` type (name = last path segment, version = digest). */
export function describeTarget(target: TargetInfo): TargetDescription {
  if (target.kind !== 'image') return { type: 'file', name: stripTransport(target.ref) };
  const reference = imageReference(target);
  const description: TargetDescription = { type: 'container', name: reference.repository };
  if (reference.tag) description.version = reference.tag;
  else if (target.digest) description.version = target.digest;
  if (target.digest) {
    description.digest = target.digest;
    const lastSegment = reference.repository.split('/').pop() ?? reference.repository;
    const qualifiers: Record<string, string | undefined> = {
      repository_url: reference.registryRepository,
      tag: reference.tag,
    };
    const arch = target.platform?.split('/')[1];
    if (arch) qualifiers['arch'] = arch;
    description.purl = buildPurl({ type: 'oci', name: lastSegment.toLowerCase(), version: target.digest, qualifiers });
  }
  return description;
}

interface ImageReference {
  repository: string;
  /** Only set when the repository lives in a registry (not a file path). */
  registryRepository?: string;
  tag?: string;
}

/** The best human name for an image: its registry reference, else a repo tag it carries, else the file it came from. */
function imageReference(target: TargetInfo): ImageReference {
  const ref = target.ref.startsWith('registry:') ? target.ref.slice('registry:'.length) : target.ref;
  const isFileSource = TRANSPORTS.some((t) => t !== 'registry:' && ref.startsWith(t));
  const named = isFileSource ? target.repoTags?.find((t) => !t.includes('@')) : ref;
  if (!named) return { repository: stripTransport(ref) };
  const withoutDigest = named.split('@')[0] ?? named;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const hasTag = colon > slash;
  const repository = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const reference: ImageReference = { repository, registryRepository: repository };
  if (hasTag) reference.tag = withoutDigest.slice(colon + 1);
  return reference;
}

function stripTransport(ref: string): string {
  for (const t of TRANSPORTS) if (ref.startsWith(t)) return ref.slice(t.length) || ref;
  return ref;
}
