import {
  type Cmp,
  checkBasic,
  compareDigitStrings,
  compareStrings,
  invalidVersion,
  isAlphaCode,
  isAsciiDigits,
  isDigitCode,
  type VersionScheme,
} from './scheme.js';

/** A SemVer 2.0.0 version; numbers are kept as digit strings so no size limit loses precision. */
export interface SemVer2 {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string[];
}

function isIdentChar(c: number): boolean {
  return isDigitCode(c) || isAlphaCode(c) || c === 45;
}

function isNumericIdentifier(s: string): boolean {
  return s.length > 0 && isAsciiDigits(s) && (s.length === 1 || s.charCodeAt(0) !== 48);
}

/** Dot-separated identifiers; `numericNoLeadingZero` applies SemVer's rule for pre-release numbers. Null if bad. */
export function parseIdentifiers(s: string, numericNoLeadingZero: boolean): string[] | null {
  const parts = s.split('.');
  for (const p of parts) {
    if (p.length === 0) return null;
    for (let i = 0; i < p.length; i++) if (!isIdentChar(p.charCodeAt(i))) return null;
    if (numericNoLeadingZero && isAsciiDigits(p) && !isNumericIdentifier(p)) return null;
  }
  return parts;
}

/** Strict SemVer 2.0.0 (no 'v', no short forms, no leading zeros). Null if the string is not one. */
export function parseSemVer2(version: string): SemVer2 | null {
  let core = version;
  let build: string[] = [];
  let prerelease: string[] = [];
  const plus = core.indexOf('+');
  if (plus !== -1) {
    const b = parseIdentifiers(core.slice(plus + 1), false);
    if (!b) return null;
    build = b;
    core = core.slice(0, plus);
  }
  const dash = core.indexOf('-');
  if (dash !== -1) {
    const p = parseIdentifiers(core.slice(dash + 1), true);
    if (!p) return null;
    prerelease = p;
    core = core.slice(0, dash);
  }
  const nums = core.split('.');
  if (nums.length !== 3 || !nums.every(isNumericIdentifier)) return null;
  return { major: nums[0]!, minor: nums[1]!, patch: nums[2]!, prerelease, build };
}

/** SemVer 2.0.0 §11 precedence: numeric identifiers below alphanumeric ones; a release above its pre-releases. */
export function comparePrerelease(a: readonly string[], b: readonly string[]): Cmp {
  if (a.length === 0 || b.length === 0) {
    if (a.length === b.length) return 0;
    return a.length === 0 ? 1 : -1;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = isAsciiDigits(x);
    const yn = isAsciiDigits(y);
    let c: Cmp;
    if (xn && yn) c = compareDigitStrings(x, y);
    else if (xn) c = -1;
    else if (yn) c = 1;
    else c = compareStrings(x, y);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareSemVer2(a: SemVer2, b: SemVer2): Cmp {
  return (
    compareDigitStrings(a.major, b.major) ||
    compareDigitStrings(a.minor, b.minor) ||
    compareDigitStrings(a.patch, b.patch) ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

/** SemVer 2.0.0 as the spec writes it: OSV `SEMVER` ranges, crates.io, Hex, Pub. Build metadata does not order. */
export const semver2Scheme: VersionScheme<SemVer2> = {
  name: 'SemVer 2.0',
  parse(version) {
    checkBasic('SemVer', version);
    const parsed = parseSemVer2(version);
    if (!parsed) throw invalidVersion('SemVer', version, 'not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]');
    return parsed;
  },
  compareParsed: compareSemVer2,
  isValid: (version) => version.length > 0 && parseSemVer2(version) !== null,
};
