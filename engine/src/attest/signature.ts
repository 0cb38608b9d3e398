import { type KeyObject, sign, verify } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';

/**
 * Digests to sign with, preferred first. cosign signs ECDSA P-256 and RSA with SHA-256 and Ed25519 purely; for
 * P-384/P-521 current cosign (sigstore LoadDefaultSignerVerifier) hashes with SHA-384/SHA-512 while older cosign and
 * containers/image use SHA-256, so verification accepts both.
 */
export function digestsFor(key: KeyObject): (string | null)[] {
  if (key.asymmetricKeyType === 'ed25519') return [null];
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'secp384r1') return ['sha384', 'sha256'];
  if (curve === 'secp521r1') return ['sha512', 'sha256'];
  return ['sha256'];
}

export function signBytes(key: KeyObject, data: Buffer): Buffer {
  if (key.type !== 'private') throw new LadingError('USAGE', 'signing needs a private key');
  return sign(digestsFor(key)[0] ?? null, data, key);
}

/**
 * True when `sig` is a valid signature of `data`. ECDSA accepts DER (what cosign writes) and, failing that, raw
 * r‖s (IEEE P1363, used by the DSSE specification's own test vector and WebCrypto).
 */
export function verifyBytes(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  const encodings = key.asymmetricKeyType === 'ec' ? (['der', 'ieee-p1363'] as const) : (['der'] as const);
  for (const digest of digestsFor(key)) {
    for (const dsaEncoding of encodings) {
      try {
        if (verify(digest, data, { key, dsaEncoding }, sig)) return true;
      } catch {
        // malformed signature encoding: try the next form, else reject
      }
    }
  }
  return false;
}

const STD_B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_B64 = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes standard or URL-safe base64 strictly (Buffer.from silently skips junk); null when it is not base64. */
export function decodeBase64(text: string): Buffer | null {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 4 === 1) return null;
  if (STD_B64.test(clean)) return Buffer.from(clean, 'base64');
  if (URL_B64.test(clean)) return Buffer.from(clean, 'base64url');
  return null;
}
