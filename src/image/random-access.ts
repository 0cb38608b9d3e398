import { readSync } from 'node:fs';
import type { RandomAccessFile } from './file.js';

/** Positional reads, retried until complete; undefined when the file ends first (it shrank under us). */
function readExactly(fd: number, position: number, length: number): Buffer | undefined {
  const buf = Buffer.allocUnsafe(length);
  let have = 0;
  while (have < length) {
    const got = readSync(fd, buf, have, length - have, position + have);
    if (got === 0) return undefined;
    have += got;
  }
  return buf;
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
        ? readExactly(fd, start + offset, length)
        : undefined,
    whole: () => {
      const want = Math.min(size, limit);
      const buf = Buffer.allocUnsafe(want);
      let have = 0;
      while (have < want) {
        const got = readSync(fd, buf, have, want - have, start + have);
        if (got === 0) break;
        have += got;
      }
      return buf.subarray(0, have);
    },
  };
}
