import {
  type Cmp,
  checkBasic,
  invalidVersion,
  isAlphaCode,
  isDigitCode,
  MAX_VERSION_LENGTH,
  type VersionScheme,
} from './scheme.js';

/** A Debian version split the way dpkg's parseversion() splits it. */
export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

export interface DpkgParseResult {
  version?: DpkgVersion;
  /** dpkg refuses the string ("error") or accepts it with a complaint ("warning"). */
  problem?: { severity: 'error' | 'warning'; message: string };
}

const EPOCH_MAX = 2147483647;

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** dpkg's own parse rules: blanks trimmed, first ':' ends the epoch, last '-' starts the revision. */
export function parseDpkgVersion(input: string): DpkgParseResult {
  if (input.length > MAX_VERSION_LENGTH) return fail(`longer than ${MAX_VERSION_LENGTH} characters`);
  let start = 0;
  let end = input.length;
  while (start < end && isBlank(input[start])) start++;
  while (end > start && isBlank(input[end - 1])) end--;
  const s = input.slice(start, end);
  if (s === '') return fail('version string is empty');
  for (let i = 0; i < s.length; i++) if (isBlank(s[i])) return fail('version string has embedded spaces');

  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon !== -1) {
    const digits = s.slice(0, colon);
    if (digits === '') return fail('epoch in version is empty');
    if (digits.startsWith('-')) return fail('epoch in version is negative');
    for (let i = 0; i < digits.length; i++) {
      if (!isDigitCode(digits.charCodeAt(i))) return fail('epoch in version is not number');
    }
    const n = Number(digits);
    if (n > EPOCH_MAX) return fail('epoch in version is too big');
    epoch = n;
    rest = s.slice(colon + 1);
    if (rest === '') return fail('nothing after colon in version number');
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen === -1 ? rest : rest.slice(0, hyphen);
  const revision = hyphen === -1 ? '' : rest.slice(hyphen + 1);
  if (hyphen !== -1 && revision === '') return fail('revision number is empty');
  if (upstream === '') return fail('version number is empty');

  const version = { epoch, upstream, revision };
  // dpkg reports the first of these warnings only: a version not starting with a digit is not checked further
  if (!isDigitCode(upstream.charCodeAt(0))) return warn(version, 'version number does not start with digit');
  const outside = outsideAlphabet(version);
  return outside ? warn(version, outside) : { version };
}

/** Which part of the version has a character outside dpkg's alphabet, as dpkg words it; undefined if none. */
function outsideAlphabet({ upstream, revision }: DpkgVersion): string | undefined {
  for (let i = 0; i < upstream.length; i++) {
    const c = upstream.charCodeAt(i);
    if (!isDigitCode(c) && !isAlphaCode(c) && !'.-+~:'.includes(upstream[i]!)) {
      return 'invalid character in version number';
    }
  }
  for (let i = 0; i < revision.length; i++) {
    const c = revision.charCodeAt(i);
    if (!isDigitCode(c) && !isAlphaCode(c) && !'.+~'.includes(revision[i]!)) {
      return 'invalid character in revision number';
    }
  }
  return undefined;
}

function fail(message: string): DpkgParseResult {
  return { problem: { severity: 'error', message } };
}

function warn(version: DpkgVersion, message: string): DpkgParseResult {
  return { version, problem: { severity: 'warning', message } };
}

/** dpkg's character weight: '~' before the end of a part, the end before letters, letters before the rest. */
function order(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (isDigitCode(c)) return 0;
  if (isAlphaCode(c)) return c;
  if (c === 126) return -1;
  return c + 256;
}

/** dpkg's verrevcmp on one fragment (upstream or revision): alternating non-digit and digit runs. Linear time. */
export function compareDpkgFragment(a: string, b: string): Cmp {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigitCode(a.charCodeAt(i))) || (j < b.length && !isDigitCode(b.charCodeAt(j)))) {
      const ac = order(a, i);
      const bc = order(b, j);
      if (ac !== bc) return ac < bc ? -1 : 1;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    let firstDiff = 0;
    while (isDigitCode(a.charCodeAt(i)) && isDigitCode(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigitCode(a.charCodeAt(i))) return 1;
    if (isDigitCode(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

export function compareDpkgParsed(a: DpkgVersion, b: DpkgVersion): Cmp {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  return compareDpkgFragment(a.upstream, b.upstream) || compareDpkgFragment(a.revision, b.revision);
}

/**
 * Orders like `dpkg --compare-versions`: an upstream not starting with a digit (a dpkg warning) is still ordered, as
 * dpkg does; hard errors are refused, and so are characters outside dpkg's alphabet (dpkg only warns about those and
 * orders them anyway: Lading refuses them on purpose, whether or not dpkg's first warning was another one, so
 * `abc!!` is refused like `0:0!-0`).
 */
export const dpkgScheme: VersionScheme<DpkgVersion> = {
  name: 'dpkg',
  parse(version) {
    const { version: parsed, problem } = parseDpkgVersion(version);
    if (!parsed) throw invalidVersion('dpkg', version, problem?.message ?? 'unparseable');
    const outside = outsideAlphabet(parsed);
    if (outside) throw invalidVersion('dpkg', version, outside);
    checkBasic('dpkg', version.trim());
    return parsed;
  },
  compareParsed: compareDpkgParsed,
  isValid(version) {
    const r = parseDpkgVersion(version);
    return r.version !== undefined && r.problem === undefined;
  },
};
