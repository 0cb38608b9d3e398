import { readFile, stat } from 'node:fs/promises';
import { LadingError } from '../errors/lading-error.js';
import { writeFileAtomically } from '../files/write-atomic.js';

/**
 * Writes a file whole or not at all (`writeFileAtomically`), refusing to replace an existing one unless `force`
 * (keys are not something to lose by accident).
 */
export async function writeNewFile(
  path: string,
  content: string | Buffer,
  options: { force?: boolean; mode?: number } = {},
) {
  await writeFileAtomically(path, content, {
    mode: options.mode ?? 0o644,
    exclusive: !options.force,
    option: 'force',
  });
}

/** Reads an input file with a size cap, turning system errors into one-line LadingErrors. */
export async function readInputFile(path: string, what: string, maxBytes = 1024 * 1024 * 1024): Promise<Buffer> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new LadingError('IO', `cannot read ${what} ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code}`);
  });
  if (!info.isFile()) throw new LadingError('IO', `cannot read ${what} ${path}: not a regular file`);
  if (info.size > maxBytes) throw new LadingError('LIMIT', `${what} ${path} is larger than ${maxBytes} bytes`);
  return readFile(path);
}
