import { LadingError } from '../errors/lading-error.js';

/** The filesystem store's partial writes end so; they are never listed, so no key may end so either. */
export const TEMPORARY_SUFFIX = '.lading-tmp';

/** S3's own limit on a key's length, applied to both backends so a key that works on one works on the other. */
export const MAX_KEY_BYTES = 1024;

/**
 * Refuses a key that is not a plain relative path: empty, too long, absolute, with `\`, an empty, `.` or `..`
 * segment, NUL or another control character. The filesystem store would otherwise write outside its folder, and a
 * key S3 accepts but a folder cannot hold (`a//b`) would make the two backends disagree.
 */
export function checkObjectKey(key: string, what = 'object key'): void {
  const problem = keyProblem(key);
  if (problem) throw new LadingError('USAGE', `${what} ${JSON.stringify(key)} refused: ${problem}`);
}

/** A list prefix: '' (everything), or a key's beginning (the same rules; a trailing `/` is allowed). */
export function checkObjectPrefix(prefix: string): void {
  if (prefix === '') return;
  checkObjectKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, 'object prefix');
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'it contains a control character';
  if (key.startsWith('/')) return 'it is absolute';
  if (key.includes('\\')) return 'it contains a backslash';
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty path segment';
    if (segment === '.' || segment === '..') return `it has a "${segment}" path segment`;
    if (segment.endsWith(TEMPORARY_SUFFIX))
      return `names ending in ${TEMPORARY_SUFFIX} are reserved for partial writes`;
  }
  return undefined;
}
