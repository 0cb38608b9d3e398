import { DIGEST_PATTERN, type IngestMetadata } from './metadata.js';
import { refuse } from './refusal.js';

/** The evidence parts a bundle may carry, besides its metadata. */
export const PART_NAMES = ['sbom', 'report', 'attestation', 'signature'] as const;
export type PartName = (typeof PART_NAMES)[number];

export type ArtifactKind =
  | 'sbom-cyclonedx'
  | 'sbom-spdx'
  | 'report-lading'
  | 'attestation-dsse'
  | 'attestation-sigstore-bundle'
  | 'signature-cosign';

/** What a part turned out to be: its kind and the media type the artifact is served with. */
export interface Classified {
  kind: ArtifactKind;
  mediaType: string;
}

/** Parts that may appear more than once (every other part at most once). */
const REPEATABLE = new Set<PartName>(['attestation', 'signature']);

export function isPartName(name: string): name is PartName {
  return (PART_NAMES as readonly string[]).includes(name);
}

export function isRepeatable(name: PartName): boolean {
  return REPEATABLE.has(name);
}

/**
 * The declared media type of a part must say JSON (`application/json`, `application/*+json`) or say nothing
 * useful (`application/octet-stream`, what `curl -F` sends for a file): anything else is refused with 415
 * before a byte of it is stored.
 */
export function acceptsMediaType(mimetype: string): boolean {
  const base = mimetype.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    base === 'application/json' || /^application\/[\w.+-]+\+json$/.test(base) || base === 'application/octet-stream'
  );
}

/**
 * Reads a stored part's JSON and says what it is, or refuses it (422, naming the part): an SBOM must be CycloneDX or
 * SPDX JSON; a report a Lading JSON report for the metadata's digest; an attestation a DSSE envelope or a Sigstore
 * bundle; a signature cosign's simple-signing pair.
 */
export function classifyPart(name: PartName, bytes: Uint8Array, metadata: IngestMetadata): Classified {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw refuse(422, `${name}: not JSON`, name);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw refuse(422, `${name}: not a JSON object`, name);
  const o = doc as Record<string, unknown>;
  switch (name) {
    case 'sbom':
      if (o['bomFormat'] === 'CycloneDX')
        return { kind: 'sbom-cyclonedx', mediaType: 'application/vnd.cyclonedx+json' };
      if (typeof o['spdxVersion'] === 'string' && o['spdxVersion'].startsWith('SPDX-')) {
        return { kind: 'sbom-spdx', mediaType: 'application/spdx+json' };
      }
      throw refuse(422, 'sbom: neither a CycloneDX nor an SPDX JSON document', name);
    case 'report':
      checkReport(o, metadata);
      return { kind: 'report-lading', mediaType: 'application/vnd.lading.report+json' };
    case 'attestation':
      if (isDsseEnvelope(o)) return { kind: 'attestation-dsse', mediaType: 'application/vnd.dsse.envelope.v1+json' };
      if (typeof o['mediaType'] === 'string' && o['mediaType'].startsWith('application/vnd.dev.sigstore.bundle')) {
        return { kind: 'attestation-sigstore-bundle', mediaType: o['mediaType'].split(';')[0] ?? 'application/json' };
      }
      throw refuse(422, 'attestation: neither a DSSE envelope nor a Sigstore bundle', name);
    case 'signature':
      if (typeof o['payload'] === 'string' && typeof o['signature'] === 'string') {
        return { kind: 'signature-cosign', mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json' };
      }
      throw refuse(422, 'signature: not a cosign simple-signing signature {payload, signature}', name);
  }
}

function isDsseEnvelope(o: Record<string, unknown>): boolean {
  return typeof o['payloadType'] === 'string' && typeof o['payload'] === 'string' && Array.isArray(o['signatures']);
}

/**
 * A Lading report is evidence for the image it names: its `target.digest`, or a `name@sha256:…` among its
 * `target.repoTags` (as `lading attest` decides it), must be the metadata's digest.
 */
function checkReport(o: Record<string, unknown>, metadata: IngestMetadata): void {
  const tool = o['tool'] as { name?: unknown } | undefined;
  const target = o['target'] as { digest?: unknown; repoTags?: unknown } | undefined;
  if (
    tool?.name !== 'lading' ||
    typeof o['schemaVersion'] !== 'number' ||
    typeof target !== 'object' ||
    target === null
  ) {
    throw refuse(422, 'report: not a Lading JSON report (lading scan -o json)', 'report');
  }
  const named = new Set<string>();
  if (typeof target.digest === 'string') named.add(target.digest);
  if (Array.isArray(target.repoTags)) {
    for (const t of target.repoTags) {
      const at = typeof t === 'string' ? t.lastIndexOf('@') : -1;
      if (at >= 0) named.add((t as string).slice(at + 1));
    }
  }
  const digests = [...named].filter((d) => DIGEST_PATTERN.test(d));
  if (digests.length === 0) throw refuse(422, 'report: names no image digest (target.digest)', 'report');
  if (!named.has(metadata.digest)) {
    throw refuse(422, `report: target digest ${digests[0]} differs from metadata.digest ${metadata.digest}`, 'report');
  }
}
