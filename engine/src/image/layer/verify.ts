import { createHash, getHashes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LadingError } from '../../errors/lading-error.js';

const SUPPORTED = new Set(getHashes());

/** Splits `sha256:hex`, refusing algorithms we cannot check (a digest we cannot verify is not a digest). */
export function parseDigest(digest: string): { algorithm: string; hex: string } {
  const m = /^(sha256|sha384|sha512):([a-f0-9]+)$/.exec(digest);
  const expectedLength = { sha256: 64, sha384: 96, sha512: 128 } as Record<string, number>;
  const algorithm = m?.[1];
  const hex = m?.[2];
  if (!algorithm || !hex || hex.length !== expectedLength[algorithm] || !SUPPORTED.has(algorithm)) {
    throw new LadingError('BAD_INPUT', `unsupported or malformed digest ${JSON.stringify(digest)}`);
  }
  return { algorithm, hex };
}

/** The digest of a buffer in the same algorithm as `like`. */
export function digestOf(data: Buffer, like = 'sha256:'): string {
  const algorithm = like.slice(0, like.indexOf(':')) || 'sha256';
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Throws DIGEST_MISMATCH when a small blob read whole does not match. */
export function checkDigest(data: Buffer, expected: string, what: string): void {
  const { algorithm, hex } = parseDigest(expected);
  const actual = createHash(algorithm).update(data).digest('hex');
  if (actual !== hex) throw mismatch(what, expected, `${algorithm}:${actual}`);
}

function mismatch(what: string, expected: string, actual: string): LadingError {
  return new LadingError('DIGEST_MISMATCH', `${what}: digest mismatch (expected ${expected}, got ${actual})`);
}

export interface VerifyOptions {
  /** Called with each chunk's length: inflation caps and progress count here. */
  onBytes?: (n: number) => void;
}

/** Passes chunks through, telling `onChunk` of each (a throw fails the stream) and ending with `onEnd`. */
function passing(onChunk: (chunk: Buffer) => void, onEnd?: () => Error | null): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        onChunk(chunk);
      } catch (err) {
        cb(err as Error);
        return;
      }
      cb(null, chunk);
    },
    ...(onEnd ? { flush: (cb: TransformCallback) => cb(onEnd()) } : {}),
  });
}

/** Passes bytes through while hashing them; fails the stream at its end when the digest differs. */
export function verifying(expected: string, what: string, options: VerifyOptions = {}): Transform {
  const { algorithm, hex } = parseDigest(expected);
  const hash = createHash(algorithm);
  return passing(
    (chunk) => {
      hash.update(chunk);
      options.onBytes?.(chunk.length);
    },
    () => {
      const actual = hash.digest('hex');
      return actual === hex ? null : mismatch(what, expected, `${algorithm}:${actual}`);
    },
  );
}

/** Counts bytes without hashing (for layers whose digest is unknown). */
export function counting(onBytes: (n: number) => void): Transform {
  return passing((chunk) => onBytes(chunk.length));
}

/**
 * Passes bytes through while hashing them with sha256, for content whose expected digest is learnt only later (a
 * layer met in a one-pass read of an archive, before its manifest): `digest()` gives `sha256:hex` once it ended.
 */
export function measuring(onBytes: (n: number) => void): Transform & { digest(): string | undefined } {
  const hash = createHash('sha256');
  let result: string | undefined;
  const stream = passing(
    (chunk) => {
      hash.update(chunk);
      onBytes(chunk.length);
    },
    () => {
      result = `sha256:${hash.digest('hex')}`;
      return null;
    },
  );
  return Object.assign(stream, { digest: () => result });
}

/** Throws DIGEST_MISMATCH unless `actual` (computed) is `expected`. */
export function checkMeasured(actual: string | undefined, expected: string, what: string): void {
  if (actual !== expected) throw mismatch(what, expected, actual ?? 'nothing (not read to the end)');
}
