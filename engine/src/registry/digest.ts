import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { LadingError } from '../errors/lading-error.js';

const ALGORITHMS: Record<string, string> = { sha256: 'sha256', sha512: 'sha512' };

function hasherFor(digest: string): Hash {
  const algorithm = ALGORITHMS[digest.split(':')[0] ?? ''];
  if (!algorithm) throw new LadingError('BAD_INPUT', `unsupported digest algorithm in ${digest}`);
  return createHash(algorithm);
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Digest of `data` with the same algorithm as `like` (so sha512 references verify too). */
export function digestLike(like: string, data: Buffer): string {
  return `${like.split(':')[0]}:${hasherFor(like).update(data).digest('hex')}`;
}

/**
 * Passes bytes through and fails the stream at its end if they do not hash to `expected` (or their count
 * differs from `expectedSize`), so a consumer can never finish reading tampered content without an error.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private bytes = 0;

  constructor(
    private readonly expected: string,
    private readonly what: string,
    private readonly expectedSize?: number,
  ) {
    super();
    this.hash = hasherFor(expected);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expectedSize !== undefined && this.bytes > this.expectedSize) {
      done(new LadingError('DIGEST_MISMATCH', `${this.what}: more than the expected ${this.expectedSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const actual = `${this.expected.split(':')[0]}:${this.hash.digest('hex')}`;
    if (actual !== this.expected) {
      done(new LadingError('DIGEST_MISMATCH', `${this.what}: content has digest ${actual}, expected ${this.expected}`));
      return;
    }
    if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      done(new LadingError('DIGEST_MISMATCH', `${this.what}: ${this.bytes} bytes, expected ${this.expectedSize}`));
      return;
    }
    done();
  }
}
