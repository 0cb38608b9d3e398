import {
  type Cmp,
  checkBasic,
  compareDigitStrings,
  invalidVersion,
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
  release?: string;
}

/** `[epoch:]version[-release]`: the epoch is leading digits before ':', the release follows the last '-'. */
export function parseRpmEvr(evr: string): RpmEvr {
  checkBasic('rpm', evr);
  let s = 0;
  while (s < evr.length && isDigitCode(evr.charCodeAt(s))) s++;
  let epoch = '0';
  let rest = evr;
  if (evr[s] === ':') {
    epoch = s === 0 ? '0' : evr.slice(0, s);
    rest = evr.slice(s + 1);
  } else if (evr.indexOf(':') !== -1) {
    throw invalidVersion('rpm', evr, 'epoch is not a number');
  }
  const dash = rest.lastIndexOf('-');
  const version = dash === -1 ? rest : rest.slice(0, dash);
  if (version === '') throw invalidVersion('rpm', evr, 'version is empty');
  if (dash === -1) return { epoch, version };
  const release = rest.slice(dash + 1);
  if (release === '') throw invalidVersion('rpm', evr, 'release is empty');
  return { epoch, version, release };
}

/** rpmverCmp: epoch, version, then release only when both sides have one. */
export function compareRpmEvr(a: RpmEvr, b: RpmEvr): Cmp {
  const e = rpmvercmp(a.epoch, b.epoch);
  if (e !== 0) return e;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release !== undefined && b.release !== undefined) return rpmvercmp(a.release, b.release);
  return 0;
}

export const rpmScheme: VersionScheme<RpmEvr> = {
  name: 'rpm',
  parse: parseRpmEvr,
  compareParsed: compareRpmEvr,
  isValid: validBy(parseRpmEvr),
};
