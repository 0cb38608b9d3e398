import {
  type Cmp,
  checkBasic,
  compareDigitStrings,
  invalidVersion,
  isAsciiDigits,
  type VersionScheme,
} from './scheme.js';
import { comparePrerelease, parseIdentifiers } from './semver2.js';

/** A Go module version as golang.org/x/mod/semver parses it (`v1.2` is short for `v1.2.0`). */
export interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  /** Including the '+', e.g. "+incompatible"; ignored by ordering. */
  build: string;
}

function isGoNumber(s: string): boolean {
  return isAsciiDigits(s) && (s.length === 1 || s.charCodeAt(0) !== 48);
}

/** x/mod/semver's parse: 'v' required; `vMAJOR` and `vMAJOR.MINOR` allowed only without pre-release or build. */
export function parseGoSemver(v: string): GoVersion | null {
  if (!v.startsWith('v')) return null;
  let rest = v.slice(1);
  let build = '';
  const plus = rest.indexOf('+');
  if (plus !== -1) {
    if (!parseIdentifiers(rest.slice(plus + 1), false)) return null;
    build = rest.slice(plus);
    rest = rest.slice(0, plus);
  }
  let prerelease: string[] = [];
  const dash = rest.indexOf('-');
  if (dash !== -1) {
    const p = parseIdentifiers(rest.slice(dash + 1), true);
    if (!p) return null;
    prerelease = p;
    rest = rest.slice(0, dash);
  }
  const nums = rest.split('.');
  if (nums.length > 3 || !nums.every(isGoNumber)) return null;
  if (nums.length < 3 && (dash !== -1 || plus !== -1)) return null;
  return { major: nums[0]!, minor: nums[1] ?? '0', patch: nums[2] ?? '0', prerelease, build };
}

export function compareGoParsed(a: GoVersion, b: GoVersion): Cmp {
  return (
    compareDigitStrings(a.major, b.major) ||
    compareDigitStrings(a.minor, b.minor) ||
    compareDigitStrings(a.patch, b.patch) ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

/** semver.Compare exactly: invalid strings are equal to each other and below every valid version. */
export function goSemverCompare(a: string, b: string): Cmp {
  const pa = parseGoSemver(a);
  const pb = parseGoSemver(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  return compareGoParsed(pa, pb);
}

/** semver.Canonical: `vMAJOR.MINOR.PATCH[-pre]` with the build dropped; "" if invalid. */
export function goCanonical(v: string): string {
  const p = parseGoSemver(v);
  if (!p) return '';
  const pre = p.prerelease.length ? `-${p.prerelease.join('.')}` : '';
  return `v${p.major}.${p.minor}.${p.patch}${pre}`;
}

const PSEUDO_RE = /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** module.IsPseudoVersion: a valid version shaped like vX.0.0-TIME-REV, vX.Y.(Z+1)-0.TIME-REV or vX.Y.Z-pre.0.TIME-REV. */
export function isGoPseudoVersion(v: string): boolean {
  return v.split('-').length - 1 >= 2 && parseGoSemver(v) !== null && PSEUDO_RE.test(v);
}

/** module.PseudoVersionBase: the tag a pseudo-version was derived from ("" when none); throws if v has no base. */
export function goPseudoVersionBase(v: string): string {
  if (!isGoPseudoVersion(v)) throw invalidVersion('Go', v, 'not a pseudo-version');
  const plus = v.indexOf('+');
  const build = plus === -1 ? '' : v.slice(plus);
  let core = plus === -1 ? v : v.slice(0, plus);
  core = core.slice(0, core.lastIndexOf('-'));
  const lastDash = core.lastIndexOf('-');
  const lastDot = core.lastIndexOf('.');
  const base = lastDot > lastDash ? core.slice(0, lastDot) : core.slice(0, lastDash);
  const pre = parseGoSemver(base)!.prerelease;
  if (pre.length === 0) {
    if (build !== '') throw invalidVersion('Go', v, `lacks base version, but has build metadata "${build}"`);
    return '';
  }
  if (pre.length === 1 && pre[0] === '0') {
    const withoutPre = base.slice(0, -2);
    const dot = withoutPre.lastIndexOf('.');
    const patch = decrementDecimal(withoutPre.slice(dot + 1));
    if (patch === null) throw invalidVersion('Go', v, 'pseudo-version patch is 0: no base version');
    return withoutPre.slice(0, dot + 1) + patch + build;
  }
  return base.slice(0, -2) + build;
}

function decrementDecimal(s: string): string | null {
  if (s === '0') return null;
  const digits = s.split('');
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === '0') digits[i--] = '9';
  if (i < 0) return null;
  digits[i] = String(Number(digits[i]) - 1);
  const out = digits.join('');
  return out.length > 1 && out.startsWith('0') ? out.slice(1) : out;
}

/**
 * Go module versions. OSV's Go ecosystem writes them without the 'v' (`1.2.3`), go.mod and binaries with it, so a
 * missing 'v' is added; past that the rules are x/mod/semver's (pseudo-versions order as the pre-releases they are,
 * `+incompatible` is build metadata and does not order).
 */
export const goScheme: VersionScheme<GoVersion> = {
  name: 'Go',
  parse(version) {
    checkBasic('Go', version);
    const parsed = parseGoSemver(version.startsWith('v') ? version : `v${version}`);
    if (!parsed) throw invalidVersion('Go', version, 'not a Go module semantic version');
    return parsed;
  },
  compareParsed: compareGoParsed,
  isValid: (version) => version.length > 0 && parseGoSemver(version.startsWith('v') ? version : `v${version}`) !== null,
};
