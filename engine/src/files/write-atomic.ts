import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeError, LadingError } from '../errors/lading-error.js';

export interface WriteFileOptions {
  /** Mode of a new file (before the umask); a replaced file keeps its own. Default 0o644. */
  mode?: number;
  /**
   * Refuse to replace an existing file (keys: not something to lose by accident): the file appears whole or not at
   * all, and an existing one is left untouched (USAGE, naming `option` when given).
   */
  exclusive?: boolean;
  /** The caller's option that would allow replacing (for the EEXIST message): `force`. */
  option?: string;
  /** Flush the file to disk before the rename (slower; for files a crash must not lose). Default false. */
  sync?: boolean;
}

/**
 * Writes a file so that success is only reported for what was written: the content goes to a temporary file in the
 * same folder, every write and the close are checked (a full disk, a quota, a read-only folder fail here), and only
 * then is it renamed over the target, so a reader never sees half a file and a failure leaves the old one. Errors
 * are one-line `IO` LadingErrors naming the file. A target that exists and is not a regular file (`/dev/stdout`, a
 * pipe, `/dev/full`) is written directly, checked the same way: renaming over a device would replace it.
 */
export async function writeFileAtomically(
  path: string,
  content: string | Uint8Array,
  options: WriteFileOptions = {},
): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  // Through a symlink, the file it names is replaced (the link stays a link).
  const target = existing?.isSymbolicLink() ? await realpath(path).catch(() => path) : path;
  const info = existing?.isSymbolicLink() ? await stat(target).catch(() => undefined) : existing;
  if (info && options.exclusive) throw exists(path, options.option);
  if (info && !info.isFile()) return writeInPlace(path, target, content);

  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      await fh.writeFile(content);
      if (info) await chmod(temp, info.mode & 0o7777);
      if (options.sync) await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.exclusive) {
      // link() refuses an existing target, where rename() would replace one created since the check above.
      await link(temp, target);
      await unlink(temp);
    } else {
      await rename(temp, target);
    }
  } catch (err) {
    await unlink(temp).catch(() => {});
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && options.exclusive) throw exists(path, options.option);
    throw cannotWrite(path, err);
  }
}

async function writeInPlace(path: string, target: string, content: string | Uint8Array): Promise<void> {
  try {
    const fh = await open(target, 'w');
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw cannotWrite(path, err);
  }
}

function exists(path: string, option: string | undefined): LadingError {
  return option
    ? new LadingError('USAGE', `${path} already exists (use the ${option} option to overwrite)`, { option })
    : new LadingError('USAGE', `${path} already exists`);
}

/** `cannot write FILE: no space left on device`: the errno in words, without Node's own path and syscall. */
export function cannotWrite(path: string, err: unknown): LadingError {
  const sys = err as NodeJS.ErrnoException;
  const why = sys.code ? describeError(Object.assign(new Error(sys.message), { code: sys.code, path })) : '';
  const reason = why.startsWith(`${path}: `) ? why.slice(path.length + 2) : describeError(err);
  return new LadingError('IO', `cannot write ${path}: ${reason}`, { cause: err });
}
