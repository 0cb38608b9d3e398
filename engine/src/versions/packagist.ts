import {
  type Cmp,
  checkBasic,
  compareDigitStrings,
  isAlphaCode,
  isDigitCode,
  sign,
  type VersionScheme,
} from './scheme.js';

/*
 * Packagist (Composer): PHP's version_compare(), which Composer uses once versions are normalized. A leading "v"
 * before a digit is dropped first (Composer's normalization; tags are often "v1.2.3"). version_compare's quirks are
 * kept on purpose: special words match by prefix ("alpha1" reads as alpha, "patch" as "p"), unknown words sort
 * before "dev", and "1.0" < "1.0.0".
 */

/** version_compare's canonical form: '-', '_', '+' and other non-alphanumerics become '.', digit/letter runs split. */
export function canonicalizePhpVersion(version: string): string {
  let out = version[0] ?? '';
  const isDig = (c: number) => isDigitCode(c);
  const isNdig = (c: number) => !isDigitCode(c) && c !== 46;
  let lp = version.charCodeAt(0);
  for (let i = 1; i < version.length; i++) {
    const c = version.charCodeAt(i);
    const last = out[out.length - 1];
    if (c === 45 || c === 95 || c === 43) {
      if (last !== '.') out += '.';
    } else if ((isNdig(lp) && isDig(c)) || (isDig(lp) && isNdig(c))) {
      if (last !== '.') out += '.';
      out += version[i];
    } else if (!isDigitCode(c) && !isAlphaCode(c)) {
      if (last !== '.') out += '.';
    } else {
      out += version[i];
    }
    lp = c;
  }
  return out;
}

const SPECIAL_FORMS: [string, number][] = [
  ['dev', 0],
  ['alpha', 1],
  ['a', 1],
  ['beta', 2],
  ['b', 2],
  ['RC', 3],
  ['rc', 3],
  ['#', 4],
  ['pl', 5],
  ['p', 5],
];

function specialOrder(form: string): number {
  for (const [name, order] of SPECIAL_FORMS) if (form.startsWith(name)) return order;
  return -1;
}

function compareSpecial(a: string, b: string): Cmp {
  return sign(specialOrder(a) - specialOrder(b));
}

const isNumericPart = (p: string) => p.length > 0 && isDigitCode(p.charCodeAt(0));

/** PHP's version_compare() on two strings. */
export function phpVersionCompare(v1: string, v2: string): Cmp {
  if (v1 === '' || v2 === '') return v1 === v2 ? 0 : v1 === '' ? -1 : 1;
  const a = canonicalizePhpVersion(v1).split('.');
  const b = canonicalizePhpVersion(v2).split('.');
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const p1 = a[i]!;
    const p2 = b[i]!;
    let c: Cmp;
    if (isNumericPart(p1) && isNumericPart(p2)) c = compareDigitStrings(leadingDigits(p1), leadingDigits(p2));
    else if (!isNumericPart(p1) && !isNumericPart(p2)) c = compareSpecial(p1, p2);
    else if (isNumericPart(p1)) c = compareSpecial('#N#', p2);
    else c = compareSpecial(p1, '#N#');
    if (c !== 0) return c;
  }
  if (a.length > n) {
    const rest = a.slice(n);
    return isNumericPart(rest[0]!) ? 1 : phpVersionCompare(rest.join('.'), '#N#');
  }
  if (b.length > n) {
    const rest = b.slice(n);
    return isNumericPart(rest[0]!) ? -1 : phpVersionCompare('#N#', rest.join('.'));
  }
  return 0;
}

function leadingDigits(p: string): string {
  let i = 0;
  while (i < p.length && isDigitCode(p.charCodeAt(i))) i++;
  return p.slice(0, i);
}

function stripV(version: string): string {
  return /^[vV][0-9]/.test(version) ? version.slice(1) : version;
}

const COMPOSER_LIKE = /^[0-9][0-9A-Za-z.+_-]*$/;

export const packagistScheme: VersionScheme<string> = {
  name: 'Packagist',
  parse(version) {
    checkBasic('Packagist', version);
    return stripV(version);
  },
  compareParsed: phpVersionCompare,
  /** Starts with a digit (after an optional v) and uses only the characters Composer versions use. */
  isValid: (version) => version.length > 0 && COMPOSER_LIKE.test(stripV(version)),
};
