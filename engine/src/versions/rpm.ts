import {
  type Cmp,
  checkOrderable,
  compareDigitStrings,
  isAlphaCode,
  isDigitCode,
  type VersionScheme,
  validBy,
} from './scheme.js';

function isAlnum(c: number): boolean {
  return isDigitCode(c) || isAlphaCode(c);
}

/**
 * rpmvercmp (rpm 4.x): alternating digit and letter segments, other characters only separate, '~' sorts before
 * anything (even the end), '^' after the end but before anything else. Digit segments beat letter segments.
 */
export function rpmvercmp(a: string, b: string): Cmp {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a.charCodeAt(i)) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b.charCodeAt(j)) && b[j] !== '~' && b[j] !== '^') j++;

    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;

    let ei = i;
    let ej = j;
    const isNum = isDigitCode(a.charCodeAt(i));
    const inSegment = isNum ? isDigitCode : isAlphaCode;
    while (ei < a.length && inSegment(a.charCodeAt(ei))) ei++;
    while (ej < b.length && inSegment(b.charCodeAt(ej))) ej++;
    // a segment of the other kind on the right: numbers are newer than letters
    if (ej === j) return isNum ? 1 : -1;
    const sa = a.slice(i, ei);
    const sb = b.slice(j, ej);
    const rc = isNum ? compareDigitStrings(sa, sb) : sa < sb ? -1 : sa > sb ? 1 : 0;
    if (rc !== 0) return rc;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export interface RpmEvr {
  /** Missing epoch is 0, as rpm itself orders (grype's "ignore epoch if one side lacks it" is not followed). */
  epoch: string;
  version: string;
  /** Absent without a '-'; present but empty for `1.0-` (rpm keeps the two apart). */
  release?: string;
}

/**
 * rpm's parseEVR (lib/rpmver.c, used by rpmverParse): `[epoch:]version[-release]`. The epoch is the leading digits
 * when a ':' follows them (`:1.0` has epoch 0); anything else before a ':' (`a:1.0`, `1a:2`) is no epoch at all, and
 * the ':' stays in the version, where rpmvercmp treats it as a separator. The release follows the last '-'. Empty
 * parts are kept (rpm accepts `1:`, `-1`, `1.0-`): only an empty string is refused, as rpmverParse refuses it.
 */
export function parseRpmEvr(evr: string): RpmEvr {
  checkOrderable('rpm', evr);
  let s = 0;
  while (s < evr.length && isDigitCode(evr.charCodeAt(s))) s++;
  let epoch = '0';
  let rest = evr;
  if (evr[s] === ':') {
    if (s > 0) epoch = evr.slice(0, s);
    rest = evr.slice(s + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash === -1) return { epoch, version: rest };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

/**
 * rpmverCmp (lib/rpmver.c): epoch (missing = "0"), version, release, each with rpmvercmp; through its
 * compare_values a missing release sorts before any release, even an empty one (`1.0` < `1.0-1`).
 */
export function compareRpmEvr(a: RpmEvr, b: RpmEvr): Cmp {
  const e = rpmvercmp(a.epoch, b.epoch);
  if (e !== 0) return e;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === undefined || b.release === undefined) {
    return a.release === b.release ? 0 : a.release === undefined ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

export const rpmScheme: VersionScheme<RpmEvr> = {
  name: 'rpm',
  parse: parseRpmEvr,
  compareParsed: compareRpmEvr,
  isValid: validBy(parseRpmEvr),
};
