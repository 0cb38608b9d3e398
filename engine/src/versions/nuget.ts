import {
  type Cmp,
  checkBasic,
  compareDigitStrings,
  invalidVersion,
  isAsciiDigits,
  type VersionScheme,
  validBy,
} from './scheme.js';
import { parseIdentifiers } from './semver2.js';

/*
 * NuGet (NuGet.Versioning's NuGetVersion): 1 to 4 numeric parts (missing ones are 0, so 1.0 == 1.0.0.0; leading
 * zeros are allowed as in legacy System.Version strings), an optional SemVer 2 pre-release whose labels compare
 * case-insensitively, and build metadata that does not order.
 */

export interface NuGetVersion {
  parts: [string, string, string, string];
  release: string[];
}

const INT32_MAX = '2147483647';

export function parseNuGetVersion(version: string): NuGetVersion {
  checkBasic('NuGet', version);
  let rest = version;
  const plus = rest.indexOf('+');
  if (plus !== -1) {
    if (!parseIdentifiers(rest.slice(plus + 1), false)) throw invalidVersion('NuGet', version, 'bad build metadata');
    rest = rest.slice(0, plus);
  }
  let release: string[] = [];
  const dash = rest.indexOf('-');
  if (dash !== -1) {
    const labels = parseIdentifiers(rest.slice(dash + 1), false);
    if (!labels) throw invalidVersion('NuGet', version, 'bad pre-release label');
    release = labels;
    rest = rest.slice(0, dash);
  }
  const nums = rest.split('.');
  if (nums.length > 4 || !nums.every(isAsciiDigits)) {
    throw invalidVersion('NuGet', version, 'expected 1 to 4 numeric parts');
  }
  if (nums.some((n) => compareDigitStrings(n, INT32_MAX) > 0)) throw invalidVersion('NuGet', version, 'part too large');
  const parts: [string, string, string, string] = [nums[0]!, nums[1] ?? '0', nums[2] ?? '0', nums[3] ?? '0'];
  return { parts, release };
}

function compareLabels(a: readonly string[], b: readonly string[]): Cmp {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = isAsciiDigits(x);
    const yn = isAsciiDigits(y);
    let c: Cmp;
    if (xn && yn) c = compareDigitStrings(x, y);
    else if (xn !== yn) c = xn ? -1 : 1;
    else {
      const xu = x.toUpperCase();
      const yu = y.toUpperCase();
      c = xu < yu ? -1 : xu > yu ? 1 : 0;
    }
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compareNuGetParsed(a: NuGetVersion, b: NuGetVersion): Cmp {
  for (let i = 0; i < 4; i++) {
    const c = compareDigitStrings(a.parts[i]!, b.parts[i]!);
    if (c !== 0) return c;
  }
  return compareLabels(a.release, b.release);
}

export const nugetScheme: VersionScheme<NuGetVersion> = {
  name: 'NuGet',
  parse: parseNuGetVersion,
  compareParsed: compareNuGetParsed,
  isValid: validBy(parseNuGetVersion),
};
