import {
  type Cmp,
  checkBasic,
  compareDigitStrings,
  compareStrings,
  invalidVersion,
  isAsciiDigits,
  MAX_VERSION_LENGTH,
  type VersionScheme,
  validBy,
} from './scheme.js';

/*
 * RubyGems' Gem::Version: dot-separated numbers and letter runs; any letter makes a pre-release ("1.0.a" < "1.0");
 * '-' reads as ".pre." (so "1.0.0-rc1" < "1.0.0"); trailing zeros of the release part and of the pre-release
 * part are dropped before comparing ("1.0" == "1.0.0"). Gem::Version reads a blank string as "0"; Lading's
 * compareVersions refuses blank versions instead (a missing version is not version 0), see `gemCompare` for the
 * exact Gem::Version behaviour.
 */

const GEM_VERSION = /^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
/** Ruby's String#strip: ASCII whitespace and NUL. */
const RUBY_STRIP = /^[\t\n\v\f\r \0]+|[\t\n\v\f\r \0]+$/g;

/** Canonical segments: numbers as digit strings without leading zeros, letter runs as strings. */
export interface GemVersion {
  segments: { num: boolean; value: string }[];
}

export function parseGemVersion(version: string): GemVersion {
  if (version.length > MAX_VERSION_LENGTH) throw invalidVersion('RubyGems', version, 'too long');
  let v = version.replace(RUBY_STRIP, '');
  if (v === '') v = '0';
  if (!GEM_VERSION.test(v)) throw invalidVersion('RubyGems', version, 'malformed version number string');
  const raw = v.replaceAll('-', '.pre.').match(/[0-9]+|[a-z]+/gi) ?? [];
  const all = raw.map((s) =>
    isAsciiDigits(s) ? { num: true, value: s.replace(/^0+(?=.)/, '') } : { num: false, value: s },
  );
  const firstString = all.findIndex((s) => !s.num);
  const release = firstString === -1 ? all : all.slice(0, firstString);
  const pre = firstString === -1 ? [] : all.slice(firstString);
  const trim = (xs: typeof all) => {
    let end = xs.length;
    while (end > 0 && xs[end - 1]!.num && xs[end - 1]!.value === '0') end--;
    return xs.slice(0, end);
  };
  return { segments: [...trim(release), ...trim(pre)] };
}

const ZERO = { num: true, value: '0' };

export function compareGemParsed(a: GemVersion, b: GemVersion): Cmp {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const l = a.segments[i] ?? ZERO;
    const r = b.segments[i] ?? ZERO;
    if (l.num && r.num) {
      const c = compareDigitStrings(l.value, r.value);
      if (c !== 0) return c;
    } else if (l.num !== r.num) {
      return l.num ? 1 : -1;
    } else {
      const c = compareStrings(l.value, r.value);
      if (c !== 0) return c;
    }
  }
  return 0;
}

/** Gem::Version#<=> exactly, blank strings included. */
export function gemCompare(a: string, b: string): Cmp {
  return compareGemParsed(parseGemVersion(a), parseGemVersion(b));
}

export const rubygemsScheme: VersionScheme<GemVersion> = {
  name: 'RubyGems',
  parse(version) {
    // the length check comes before any regular expression sees the string
    if (version.length > MAX_VERSION_LENGTH) throw invalidVersion('RubyGems', version, 'too long');
    checkBasic('RubyGems', version.replace(RUBY_STRIP, ''));
    return parseGemVersion(version);
  },
  compareParsed: compareGemParsed,
  isValid: (version) => validBy(rubygemsScheme.parse)(version),
};
