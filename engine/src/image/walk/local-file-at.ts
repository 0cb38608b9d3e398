import { type BigIntStats, closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import { LadingError } from '../../errors/lading-error.js';
import type { RandomAccessFile } from '../file.js';
import { fileRange } from '../random-access.js';

/**
 * O_NOFOLLOW: a file swapped for a symlink after the walk saw it is refused. O_NONBLOCK: one swapped for a FIFO
 * opens at once (and is then refused as not a regular file) instead of blocking the walk forever.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** What the walk's `lstat` saw of the file: the opened one must be the same inode. */
export type SeenFile = Pick<Stats | BigIntStats, 'dev' | 'ino'>;

/**
 * Opens a regular file of a root filesystem the walk listed, refusing anything else: not a regular file any more,
 * or another inode than the one `lstat` saw. Returns the descriptor and the size to trust, at most `limit`.
 * A tree others keep writing to is read as it is at each moment: a parent directory swapped for a symlink between
 * listing and opening is not detected (Node offers no openat2 with RESOLVE_BENEATH).
 */
export function openSeenFile(full: string, seen: SeenFile, limit: number): { fd: number; size: number } {
  const fd = openSync(full, OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new LadingError('BAD_INPUT', `${full} is no longer a regular file`);
    if (st.dev !== seen.dev || st.ino !== seen.ino) {
      throw new LadingError('BAD_INPUT', `${full} was replaced while the walk read it`);
    }
    return { fd, size: Math.min(st.size, limit) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** A file the walk listed, opened for reads at offsets: `at` and `whole()` see at most `limit` bytes of it. */
export async function openLocalFileAt(
  full: string,
  seen: SeenFile,
  limit: number,
): Promise<{ file: RandomAccessFile; close(): Promise<void> }> {
  const { fd, size } = openSeenFile(full, seen, limit);
  return { file: fileRange(fd, 0, size, limit), close: async () => closeSync(fd) };
}
