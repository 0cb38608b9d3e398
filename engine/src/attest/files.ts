import { readFile, stat, writeFile } from 'node:fs/promises';
import { LadingError } from '../errors/lading-error.js';

/** Writes a file, refusing to replace an existing one unless `force` (keys are not something to lose by accident). */
export async function writeNewFile(
  path: string,
  content: string | Buffer,
  options: { force?: boolean; mode?: number } = {},
) {
  try {
    await writeFile(path, content, { flag: options.force ? 'w' : 'wx', mode: options.mode ?? 0o644 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') {
      throw new LadingError('USAGE', `${path} already exists (use the force option to overwrite)`, { option: 'force' });
    }
    throw new LadingError('IO', `cannot write ${path}: ${e.code ?? e.message}`, { cause: err });
  }
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
