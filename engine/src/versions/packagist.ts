import {
  type Cmp,
  checkOrderable,
  compareDigitStrings,
  invalidVersion,
  isAlphaCode,
  isDigitCode,
  sign,
  type VersionScheme,
  validBy,
} from './scheme.js';

/*
 * Packagist (Composer): a version is first normalized the way composer/semver's VersionParser::normalize does it
 * (`v1.2` → `1.2.0.0`, `1.0-b2` → `1.0.0.0-beta2`, `2.x-dev` → `2.9999999.9999999.9999999-dev`), and what it refuses
 * (`abc`, `1.2(message)`, `1.0.0.0.0`) is refused here too. Normalized versions are then ordered by PHP's
 * version_compare(), as Composer's Comparator does. version_compare's quirks are kept: special words match by
 * prefix ("patch" reads as "p"), and unknown words sort before "dev"; normalization makes "1.0" equal "1.0.0".
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

/** PHP's trim() character set. */
const PHP_TRIM = /^[ \t\n\r\0\x0B]+|[ \t\n\r\0\x0B]+$/g;
/** PCRE's \s inside a character class (no Unicode spaces: PHP's preg without the u flag). */
const WS = ' \\t\\n\\r\\x0B\\f';
/**
 * VersionParser's $modifierRegex: an optional stability word and number, then an optional dev marker. Its number
 * part is possessive in PCRE (`*+`): without that, a long digit run before a mismatch backtracks exponentially, so
 * it is made atomic here the JavaScript way, a lookahead capture consumed by a backreference.
 */
const MODIFIER = '[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)(?=(?<n>(?:[.-]?\\d+)*))\\k<n>)?([.-]?dev)?';
const ALIAS = new RegExp(`^([^,${WS}]+) +as +([^,${WS}]+)$`);
const STABILITY_FLAG = /@(?:stable|RC|beta|alpha|dev)$/i;
const BUILD_METADATA = new RegExp(`^([^,${WS}+]+)\\+[^${WS}]+$`);
// PCRE's other possessive quantifiers (`\d++`) are plain ones here: no string matches one way and not the other,
// and the backtracking they allow stays polynomial on the 256 characters a version may have.
const CLASSICAL = new RegExp(`^v?(\\d{1,5})(\\.\\d+)?(\\.\\d+)?(\\.\\d+)?${MODIFIER}$`, 'i');
const DATE_BASED = new RegExp(`^v?(\\d{4}(?:[.:-]?\\d{2}){1,6}(?:[.:-]?\\d{1,3}){0,2})${MODIFIER}$`, 'i');
const DEV_SUFFIX = /^(.*?)[.-]?dev$/i;
const NUMERIC_BRANCH = /^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$/i;

function expandStability(word: string): string {
  const lower = word.toLowerCase();
  if (lower === 'a') return 'alpha';
  if (lower === 'b') return 'beta';
  if (lower === 'p' || lower === 'pl') return 'patch';
  if (lower === 'rc') return 'RC';
  return lower;
}

/** VersionParser::normalizeBranch: `2.1.x` → `2.1.9999999.9999999-dev`; a named branch → `dev-name`. */
function normalizeBranch(name: string): string {
  const m = NUMERIC_BRANCH.exec(name.replace(PHP_TRIM, ''));
  if (!m) return `dev-${name.replace(PHP_TRIM, '')}`;
  let version = m[1]!;
  for (let i = 2; i < 5; i++) version += m[i] !== undefined ? m[i]!.replace(/[*X]/g, 'x') : '.x';
  return `${version.replace(/x/g, '9999999')}-dev`;
}

/**
 * composer/semver VersionParser::normalize: the form Composer compares versions in. Throws INVALID_VERSION where
 * it throws UnexpectedValueException ("Invalid version string").
 */
export function normalizeComposerVersion(input: string): string {
  checkOrderable('Packagist', input);
  let version = input.replace(PHP_TRIM, '');
  const alias = ALIAS.exec(version);
  if (alias) version = alias[1]!;
  const flag = STABILITY_FLAG.exec(version);
  if (flag) version = version.slice(0, version.length - flag[0].length);
  if (version === 'master' || version === 'trunk' || version === 'default') version = `dev-${version}`;
  if (version.slice(0, 4).toLowerCase() === 'dev-') return `dev-${version.slice(4)}`;
  const build = BUILD_METADATA.exec(version);
  if (build) version = build[1]!;

  let m = CLASSICAL.exec(version);
  let index = 5;
  if (m) {
    version = m[1]! + (m[2] || '.0') + (m[3] || '.0') + (m[4] || '.0');
  } else {
    m = DATE_BASED.exec(version);
    index = 2;
    if (m) version = m[1]!.replace(/\D/g, '.');
  }
  if (m) {
    const stability = m[index];
    if (stability) {
      if (stability === 'stable') return version;
      version += `-${expandStability(stability)}${(m[index + 1] ?? '').replace(/^[.-]+/, '')}`;
    }
    if (m[index + 2]) version += '-dev';
    return version;
  }

  const dev = DEV_SUFFIX.exec(version);
  if (dev) {
    // a branch ending in -dev is only a version when it is numeric (`2.1.x-dev`)
    const normalized = normalizeBranch(dev[1]!);
    if (!normalized.includes('dev-')) return normalized;
  }
  throw invalidVersion('Packagist', input, 'not a version Composer accepts');
}

/**
 * Composer's Comparator on normalized versions: version_compare, except that two different `dev-` branches have no
 * order in Composer (neither is smaller); they are ordered by version_compare here too, so the order stays total.
 */
export const packagistScheme: VersionScheme<string> = {
  name: 'Packagist',
  parse: normalizeComposerVersion,
  compareParsed: phpVersionCompare,
  isValid: validBy(normalizeComposerVersion),
};
