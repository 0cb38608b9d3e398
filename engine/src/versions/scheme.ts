import { LadingError } from '../errors/lading-error.js';

export type Cmp = -1 | 0 | 1;

/**
 * One ecosystem's version scheme. `parse` throws LadingError('INVALID_VERSION') for strings the scheme cannot order;
 * `compareParsed` never throws, so a caller can parse an installed version once and compare it many times.
 */
export interface VersionScheme<P = unknown> {
  readonly name: string;
  parse(version: string): P;
  compareParsed(a: P, b: P): Cmp;
  /** Strictly well-formed for the scheme (some schemes still order ill-formed strings, as their tools do). */
  isValid(version: string): boolean;
}

/**
 * Real versions are short; the longest seen in OSV data is well under 200 characters. The cap bounds parse cost
 * and memory for hostile input (Maven's ComparableVersion also refuses strings over 256).
 */
export const MAX_VERSION_LENGTH = 256;

export function invalidVersion(scheme: string, version: string, why: string): LadingError {
  const shown = version.length > 64 ? `${version.slice(0, 64)}…` : version;
  return new LadingError('INVALID_VERSION', `invalid ${scheme} version "${shown}": ${why}`);
}

/**
 * Rejects what no scheme accepts: empty, overlong, or anything outside printable ASCII (so Arabic-Indic or
 * full-width digits never pass for digits). `allowSpaces` is for node-semver's loose mode (`= 1.2.3`).
 */
export function checkBasic(scheme: string, version: string, allowSpaces = false): void {
  if (typeof version !== 'string' || version.length === 0) throw invalidVersion(scheme, String(version), 'empty');
  if (version.length > MAX_VERSION_LENGTH) {
    throw invalidVersion(scheme, version, `longer than ${MAX_VERSION_LENGTH} characters`);
  }
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    if ((c === 0x20 && allowSpaces) || (c > 0x20 && c < 0x7f)) continue;
    throw invalidVersion(scheme, version, 'contains a space, control or non-ASCII character');
  }
}

/**
 * For schemes whose native tool orders any string (apk's token walk, rpm's rpmvercmp): only what the C tool cannot be
 * handed is refused: a NUL (a C string ends there), overlong (the cap above), and the empty string unless the tool
 * orders it too (apk does; rpmverParse returns NULL for it). Spaces, control and non-ASCII characters are ordered as
 * the tool orders them.
 */
export function checkOrderable(scheme: string, version: string, allowEmpty = false): void {
  if (typeof version !== 'string' || (version.length === 0 && !allowEmpty)) {
    throw invalidVersion(scheme, String(version), 'empty');
  }
  if (version.length > MAX_VERSION_LENGTH) {
    throw invalidVersion(scheme, version, `longer than ${MAX_VERSION_LENGTH} characters`);
  }
  if (version.includes('\0')) throw invalidVersion(scheme, version, 'contains a NUL character');
}

export function sign(n: number): Cmp {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

export function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAlphaCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isAsciiDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigitCode(s.charCodeAt(i))) return false;
  return true;
}

/** Compares two ASCII digit strings of any length as numbers (leading zeros ignored), without precision loss. */
export function compareDigitStrings(a: string, b: string): Cmp {
  let i = 0;
  let j = 0;
  while (i < a.length - 1 && a.charCodeAt(i) === 48) i++;
  while (j < b.length - 1 && b.charCodeAt(j) === 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  for (; i < a.length; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Plain code-unit string order (C strcmp on ASCII). */
export function compareStrings(a: string, b: string): Cmp {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareWith<P>(scheme: VersionScheme<P>, a: string, b: string): Cmp {
  return scheme.compareParsed(scheme.parse(a), scheme.parse(b));
}

export function validBy<P>(parse: (v: string) => P): (v: string) => boolean {
  return (v) => {
    try {
      parse(v);
      return true;
    } catch {
      return false;
    }
  };
}
