import { constants, createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { LadingError } from '../../errors/lading-error.js';

/**
 * O_NONBLOCK: opening a named pipe must not wait for a writer (it is refused right after, by fstat). Symlinks are
 * followed: a layout may link blobs to regular files elsewhere.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

const CHUNK = 64 * 1024;

/** What a source expects at a path: an archive gets a hint when it is a directory or a pipe. */
export type FileRole = 'archive' | 'document';

function describeLimit(max: number): string {
  return max % (1024 * 1024) === 0 ? `${max / (1024 * 1024)} MiB` : `${max}-byte`;
}

/**
 * Opens `path` for reading, refusing anything but a regular file (directories, pipes, devices, sockets) without
 * blocking on it. `label` names the file in messages (defaults to the path).
 */
export async function openRegularFile(path: string, role: FileRole, label = path): Promise<FileHandle> {
  return (await openChecked(path, role, label)).fh;
}

/** `openRegularFile`, with the size its `fstat` saw. */
async function openChecked(path: string, role: FileRole, label: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    // A socket cannot be opened at all; anything else (ENOENT, EACCES) is the caller's to describe.
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') throw notRegular(label, role, true);
    throw err;
  }
  try {
    const st = await fh.stat();
    if (st.isFile()) return { fh, size: st.size };
    if (st.isDirectory()) {
      throw role === 'archive'
        ? new LadingError('BAD_INPUT', `${label} is a directory, not an archive (use oci:PATH or dir:PATH)`)
        : new LadingError('BAD_INPUT', `${label} is a directory, not a regular file`);
    }
    throw notRegular(label, role, st.isFIFO() || st.isSocket());
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

function notRegular(label: string, role: FileRole, pipe: boolean): LadingError {
  const hint = role === 'archive' && pipe ? ' (pipes are not read; save the archive to a file)' : '';
  return new LadingError('BAD_INPUT', `${label} is not a regular file${hint}`);
}

/**
 * A small document (index.json, a manifest, a config) read whole, but never more than `max` bytes: the read stops
 * after `max + 1` bytes whatever the file's stat says, and a non-regular file is refused before any read.
 */
export async function readBoundedFile(path: string, max: number, label = path): Promise<Buffer> {
  const { fh, size } = await openChecked(path, 'document', label);
  try {
    const tooLarge = () => new LadingError('LIMIT', `${label} is larger than ${limitWords(max)}`);
    if (size > max) throw tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, max + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, total);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) throw tooLarge();
    }
    return Buffer.concat(chunks, total);
  } finally {
    await fh.close();
  }
}

/** The one name under which a user may hand a command its standard input as a file (where that makes sense). */
export const STDIN_PATH = '/dev/stdin';

/**
 * A file a user named (a policy, a VEX or SBOM document, a report, a key, a predicate, an import input): it must be
 * a regular file, opened without blocking, and is read up to `max` bytes only, so a named pipe, a device such as
 * /dev/zero or a huge file ends the command at once. `stdin: true` also accepts `/dev/stdin`, read up to `max`.
 * Errors are LadingError BAD_INPUT (not a regular file) or LIMIT (too large), naming `label`.
 */
export async function readUserFile(
  path: string,
  max: number,
  options: { label?: string; stdin?: boolean } = {},
): Promise<Buffer> {
  const label = options.label ?? path;
  if (options.stdin && path === STDIN_PATH) return readStreamBounded(createReadStream(path), max, label);
  return readBoundedFile(path, max, label);
}

async function readStreamBounded(stream: AsyncIterable<Buffer> & { destroy(): void }, max: number, label: string) {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > max) {
      stream.destroy();
      throw new LadingError('LIMIT', `${label} is larger than ${limitWords(max)}`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** The metadata size limit in words, for messages that name it. */
export function limitWords(max: number): string {
  return `the ${describeLimit(max)} limit`;
}
