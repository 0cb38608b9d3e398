import { LadingError } from '../errors/lading-error.js';
import { formatRepository, parseReference } from '../registry/reference.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional: Record<string, unknown> | null;
}

/**
 * The exact bytes that get signed and uploaded. Field order follows Go's struct order (what cosign writes);
 * `optional` is always present because containers/image rejects payloads without it.
 */
export function simpleSigningPayload(
  dockerReference: string,
  manifestDigest: string,
  annotations: Record<string, string> | null,
): Buffer {
  const payload: SimpleSigningPayload = {
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: annotations && Object.keys(annotations).length > 0 ? annotations : null,
  };
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** Parses signed payload bytes with the strictness of containers/image: exactly the known keys in `critical`. */
export function parseSimpleSigning(bytes: Buffer, what: string): SimpleSigningPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(what, 'not JSON');
  }
  const p = raw as Record<string, unknown> | null;
  if (!isObject(p)) throw invalid(what, 'not an object');
  const critical = p['critical'];
  if (!isObject(critical)) throw invalid(what, 'missing "critical"');
  if (!exactKeys(critical, ['identity', 'image', 'type']))
    throw invalid(what, '"critical" must hold exactly identity, image, type');
  if (critical['type'] !== COSIGN_SIGNATURE_TYPE)
    throw invalid(what, `unexpected type ${JSON.stringify(critical['type'])}`);
  const image = critical['image'];
  const identity = critical['identity'];
  if (
    !isObject(image) ||
    !exactKeys(image, ['docker-manifest-digest']) ||
    typeof image['docker-manifest-digest'] !== 'string'
  ) {
    throw invalid(what, 'critical.image must hold a docker-manifest-digest string');
  }
  if (
    !isObject(identity) ||
    !exactKeys(identity, ['docker-reference']) ||
    typeof identity['docker-reference'] !== 'string'
  ) {
    throw invalid(what, 'critical.identity must hold a docker-reference string');
  }
  const optional = p['optional'];
  if (optional !== undefined && optional !== null && !isObject(optional))
    throw invalid(what, '"optional" must be an object');
  return raw as SimpleSigningPayload;
}

/** Normalized repository of a docker-reference (`host/repo[:tag][@digest]` → `host/repo`, Docker Hub names expanded). */
export function repositoryOf(dockerReference: string): string {
  try {
    return formatRepository(parseReference(dockerReference));
  } catch {
    // not a valid reference: compare it as written, which then simply will not match
  }
  const noDigest = dockerReference.split('@')[0] ?? '';
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactKeys(o: Record<string, unknown>, keys: string[]): boolean {
  const have = Object.keys(o);
  return have.length === keys.length && keys.every((k) => have.includes(k));
}

function invalid(what: string, why: string): LadingError {
  return new LadingError('VERIFY_FAILED', `${what}: invalid simple-signing payload: ${why}`);
}
