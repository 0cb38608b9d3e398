import type { KeyObject } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { decodeBase64, signBytes, verifyBytes } from './signature.js';

/** Signature over a blob's raw bytes, as `cosign sign-blob` and `openssl dgst -sha256 -sign` produce it. */
export function signBlob(key: KeyObject, blob: Buffer): Buffer {
  return signBytes(key, blob);
}

/**
 * Reads a signature as it is found in the wild: base64 text (cosign, with or without newline) or raw DER bytes
 * (`openssl dgst -sign -out`).
 */
export function parseSignatureText(content: Buffer, source: string): Buffer {
  if (content.length > 64 * 1024) throw new LadingError('BAD_INPUT', `${source}: too large to be a signature`);
  const decoded = decodeBase64(content.toString('latin1'));
  if (decoded && decoded.length > 0) return decoded;
  // DER always holds control bytes (INTEGER tag 0x02), so it never passes as base64 text.
  if (content[0] === 0x30 && content.length >= 8) return content;
  throw new LadingError('BAD_INPUT', `${source}: the signature is neither base64 text nor DER`);
}

export function verifyBlob(key: KeyObject, blob: Buffer, signature: Buffer, what: string): void {
  if (!verifyBytes(key, blob, signature)) throw invalidSignature(what);
}

export function invalidSignature(what: string): LadingError {
  return new LadingError(
    'VERIFY_FAILED',
    `${what}: invalid signature (the file or signature was changed, or another key signed it)`,
  );
}
