import { readFile, stat } from 'node:fs/promises';
import { LadingError } from '../errors/lading-error.js';
import { MAX_KEY_FILE_BYTES } from './pem.js';

/**
 * Reads a key reference: a file path, or `env://VAR` holding the PEM text (as cosign accepts), looked up in `env`
 * (the caller's environment: the CLI passes its own; a server passes what it means to expose, or nothing).
 */
export async function readKeyText(
  ref: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ text: string; source: string }> {
  if (ref.startsWith('env://')) {
    const name = ref.slice('env://'.length);
    const value = env[name];
    if (!name || value === undefined || value === '') {
      throw new LadingError('USAGE', `${ref}: environment variable ${name || '(empty name)'} is not set`);
    }
    return { text: value, source: ref };
  }
  if (/^[a-z0-9-]+:\/\//i.test(ref)) {
    throw new LadingError('USAGE', `${ref}: only file paths and env://VAR keys are supported (no KMS)`);
  }
  const info = await stat(ref).catch((err: NodeJS.ErrnoException) => {
    throw new LadingError('IO', `cannot read key ${ref}: ${err.code === 'ENOENT' ? 'no such file' : err.code}`);
  });
  if (!info.isFile()) throw new LadingError('IO', `cannot read key ${ref}: not a regular file`);
  if (info.size > MAX_KEY_FILE_BYTES) throw new LadingError('BAD_INPUT', `${ref}: too large to be a key file`);
  return { text: await readFile(ref, 'utf8'), source: ref };
}
