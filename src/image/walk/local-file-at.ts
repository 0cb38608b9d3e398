import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { LadingError } from '../../errors/lading-error.js';
import type { RandomAccessFile } from '../file.js';

/** Positional reads, retried until complete; undefined when the file ends first (it shrank under us). */
function readExactly(fd: number, offset: number, length: number): Buffer | undefined {
  const buf = Buffer.allocUnsafe(length);
  let have = 0;
  while (have < length) {
    const got = readSync(fd, buf, have, length - have, offset + have);
    if (got === 0) return undefined;
    have += got;
  }
  return buf;
}

/**
 * A regular file opened for reads at offsets, without following a symlink at the last step (the walk resolves
 * links itself). Reads are synchronous: a condense asks for a few small ranges, and one thread-pool round trip
 * each would cost more than the reads. `whole()` reads at most `limit` bytes.
 */
export async function openLocalFileAt(
  full: string,
  limit: number,
): Promise<{ file: RandomAccessFile; close(): Promise<void> }> {
  const fh = await open(full, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new LadingError('BAD_INPUT', `${full} is no longer a regular file`);
    const size = st.size;
    const file: RandomAccessFile = {
      length: size,
      at: (offset, length) =>
        Number.isSafeInteger(offset) &&
        Number.isSafeInteger(length) &&
        offset >= 0 &&
        length >= 0 &&
        offset + length <= size
          ? readExactly(fh.fd, offset, length)
          : undefined,
      whole: () => {
        const want = Math.min(size, limit);
        const buf = Buffer.allocUnsafe(want);
        let have = 0;
        while (have < want) {
          const got = readSync(fh.fd, buf, have, want - have, have);
          if (got === 0) break;
          have += got;
        }
        return buf.subarray(0, have);
      },
    };
    return { file, close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
