import { createHash, type KeyObject } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { type DsseEnvelope, envelopeFromJson, verifyEnvelope } from './dsse.js';
import { keyHint } from './keys.js';
import { decodeBase64, verifyBytes } from './signature.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * Sigstore bundle v0.3 (protobuf-specs, proto3 JSON), key-based: no certificate, no transparency-log entry and no
 * timestamp. Consumers must accept that explicitly (cosign --insecure-ignore-tlog, sigstore-js thresholds 0).
 */
export interface KeyBundle {
  mediaType: string;
  verificationMaterial: { publicKey: { hint: string }; tlogEntries: unknown[] };
  messageSignature?: { messageDigest: { algorithm: 'SHA2_256'; digest: string }; signature: string };
  dsseEnvelope?: DsseEnvelope;
}

/** `artifact` is the signed bytes or, for streamed files, their SHA-256 digest. */
export function messageSignatureBundle(
  key: KeyObject,
  artifact: Buffer | { sha256: Buffer },
  signature: Buffer,
): KeyBundle {
  const sha256 = Buffer.isBuffer(artifact) ? createHash('sha256').update(artifact).digest() : artifact.sha256;
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: keyHint(key) }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: sha256.toString('base64') },
      signature: signature.toString('base64'),
    },
  };
}

export function dsseBundle(key: KeyObject, envelope: DsseEnvelope): KeyBundle {
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: keyHint(key) }, tlogEntries: [] },
    dsseEnvelope: envelope,
  };
}

export function parseBundle(text: Buffer, source: string): KeyBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(text.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${source}: the bundle is not JSON`);
  }
  const b = raw as Partial<KeyBundle> | null;
  if (!b || typeof b !== 'object' || typeof b.mediaType !== 'string') {
    throw new LadingError('BAD_INPUT', `${source}: not a Sigstore bundle (no mediaType)`);
  }
  if (!b.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) {
    throw new LadingError('BAD_INPUT', `${source}: unknown bundle media type ${b.mediaType}`);
  }
  if (!!b.messageSignature === !!b.dsseEnvelope) {
    throw new LadingError('BAD_INPUT', `${source}: a bundle holds exactly one of messageSignature or dsseEnvelope`);
  }
  return b as KeyBundle;
}

/** The signature of a message-signature bundle and the SHA-256 it claims (informational, but must then match). */
export function messageBundleParts(bundle: KeyBundle, what: string): { signature: Buffer; sha256: Buffer | null } {
  const ms = bundle.messageSignature;
  const signature = typeof ms?.signature === 'string' ? decodeBase64(ms.signature) : null;
  if (!ms || !signature || signature.length === 0) {
    throw new LadingError('VERIFY_FAILED', `${what}: the bundle holds no message signature`);
  }
  if (ms.messageDigest?.algorithm !== undefined && ms.messageDigest.algorithm !== 'SHA2_256') {
    throw new LadingError('VERIFY_FAILED', `${what}: unsupported bundle digest ${String(ms.messageDigest.algorithm)}`);
  }
  const sha256 = typeof ms.messageDigest?.digest === 'string' ? decodeBase64(ms.messageDigest.digest) : null;
  return { signature, sha256 };
}

/** The checks of a message-signature bundle once the signature over the artifact has been evaluated. */
export function assertMessageBundle(
  claimed: Buffer | null,
  actualSha256: Buffer,
  signatureValid: boolean,
  what: string,
): void {
  if (claimed && !claimed.equals(actualSha256)) {
    throw new LadingError('VERIFY_FAILED', `${what}: the bundle's message digest is not the file's SHA-256`);
  }
  if (!signatureValid) throw new LadingError('VERIFY_FAILED', `${what}: invalid signature in the bundle`);
}

/** Verifies a message-signature bundle over in-memory `artifact`. */
export function verifyMessageBundle(key: KeyObject, bundle: KeyBundle, artifact: Buffer, what: string): void {
  const { signature, sha256 } = messageBundleParts(bundle, what);
  const actual = createHash('sha256').update(artifact).digest();
  assertMessageBundle(sha256, actual, verifyBytes(key, artifact, signature), what);
}

/** Verifies a DSSE bundle and returns the payload bytes as signed. */
export function verifyDsseBundle(key: KeyObject, bundle: KeyBundle, what: string): Buffer {
  if (!bundle.dsseEnvelope) throw new LadingError('VERIFY_FAILED', `${what}: the bundle holds no DSSE envelope`);
  return verifyEnvelope(key, envelopeFromJson(bundle.dsseEnvelope, what), what);
}
