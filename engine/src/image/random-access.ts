import { readSync } from 'node:fs';
import type { RandomAccessFile } from './file.js';

/** Fills `buf` from `position` with positional reads, retried until full or the file ends; returns the bytes read. */
function readUpTo(fd: number, buf: Buffer, position: number): number {
  let have = 0;
  while (have < buf.length) {
    const got = readSync(fd, buf, have, buf.length - have, position + have);
    if (got === 0) break;
    have += got;
  }
  return have;
}

/** `length` bytes at `position`, or undefined when the file ends first (it shrank under us). */
function exactly(fd: number, position: number, length: number): Buffer | undefined {
  const buf = Buffer.allocUnsafe(length);
  return readUpTo(fd, buf, position) === length ? buf : undefined;
}

/**
 * Bytes [start, start + size) of an open file, read at offsets: a file of a root filesystem, or a file's data
 * inside an uncompressed layer tar. Reads are synchronous: a condense asks for a few small ranges, and a
 * thread-pool round trip each would cost more than the reads. `whole()` reads at most `limit` bytes.
 */
export function fileRange(fd: number, start: number, size: number, limit: number): RandomAccessFile {
  return {
    length: size,
    at: (offset, length) =>
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(length) &&
      offset >= 0 &&
      length >= 0 &&
      offset + length <= size
        ? exactly(fd, start + offset, length)
        : undefined,
    whole: () => {
      const buf = Buffer.allocUnsafe(Math.min(size, limit));
      return buf.subarray(0, readUpTo(fd, buf, start));
    },
  };
}
