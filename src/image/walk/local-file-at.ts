import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { LadingError } from '../../errors/lading-error.js';
import type { RandomAccessFile } from '../file.js';
import { fileRange } from '../random-access.js';

/**
 * A regular file opened for reads at offsets, without following a symlink at the last step (the walk resolves
 * links itself). `whole()` reads at most `limit` bytes.
 */
export async function openLocalFileAt(
  full: string,
  limit: number,
): Promise<{ file: RandomAccessFile; close(): Promise<void> }> {
  // O_NOFOLLOW: a file swapped for a symlink after the walk saw it cannot lead the read out of the root.
  const fh = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new LadingError('BAD_INPUT', `${full} is no longer a regular file`);
    return { file: fileRange(fh.fd, 0, st.size, limit), close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
