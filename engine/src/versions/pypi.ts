import * as pep440 from '@renovatebot/pep440';
import { type Cmp, checkBasic, compareStrings, type VersionScheme } from './scheme.js';

/*
 * PyPI: PEP 440 through @renovatebot/pep440 (a port of pypa/packaging; it passes every pypa vector once the
 * surrounding whitespace PEP 440 allows is trimmed). Real advisories also list pre-PEP 440 versions
 * (`0.1-bulbasaur`); like osv-scalibr, those order as packaging's old LegacyVersion did: before every PEP 440 version.
 */

export interface PypiVersion {
  text: string;
  /** packaging's `_cmpkey` for a PEP 440 version (computed once: comparisons are hot in matching). */
  key?: SortKey;
  /** Set for a non-PEP 440 version: packaging's LegacyVersion sort key. */
  legacy?: string[];
}

/** A Python tuple-like sort key: numbers, strings, ±Infinity sentinels and nested tuples. */
type SortKey = number | string | SortKey[];

/** packaging's `_cmpkey`: trailing release zeros dropped, sentinels placing dev/pre/post/local releases. */
function pep440Key(text: string): SortKey | undefined {
  const v = pep440.parse(text);
  if (!v) return undefined;
  const release = [...v.release];
  while (release.length > 0 && release[release.length - 1] === 0) release.pop();
  // absent parts are null at run time although typed as arrays
  let pre: SortKey = (v.pre as SortKey | null) ?? Number.POSITIVE_INFINITY;
  // 1.0.dev0 sorts before 1.0a0: a dev release without pre or post borrows the lowest pre sentinel
  if (!v.pre && !v.post && v.dev) pre = Number.NEGATIVE_INFINITY;
  const post: SortKey = (v.post as SortKey | null) ?? Number.NEGATIVE_INFINITY;
  const dev: SortKey = (v.dev as SortKey | null) ?? Number.POSITIVE_INFINITY;
  // the typings say string, the parser returns the segments ("abc.5" → ["abc", 5])
  const localParts = v.local as unknown as (string | number)[] | string | null;
  const segments = typeof localParts === 'string' ? localParts.split(/[._-]/) : localParts;
  const local: SortKey = segments
    ? segments.map((part): SortKey => {
        const n = Number(part);
        return Number.isNaN(n) ? [Number.NEGATIVE_INFINITY, String(part)] : [n, ''];
      })
    : Number.NEGATIVE_INFINITY;
  return [v.epoch, release, pre, post, dev, local];
}

/** Python's tuple ordering, with a scalar compared to a tuple as a one-element tuple. */
function compareKey(a: SortKey, b: SortKey): Cmp {
  if (a === b) return 0;
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = Array.isArray(a) ? a : [a];
    const y = Array.isArray(b) ? b : [b];
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const c = compareKey(x[i]!, y[i]!);
      if (c !== 0) return c;
    }
    return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
  }
  if (a === Number.NEGATIVE_INFINITY || b === Number.POSITIVE_INFINITY) return -1;
  if (a === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY) return 1;
  return a < b ? -1 : 1;
}

const LEGACY_REPLACEMENTS: Record<string, string> = { pre: 'c', preview: 'c', '-': 'final-', rc: 'c', dev: '@' };

/** packaging's `_legacy_cmpkey` (setuptools' old parse_version): zero-padded numbers, '*'-prefixed words. */
export function legacyKey(version: string): string[] {
  const parts: string[] = [];
  const raw = version.toLowerCase().split(/(\d+|[a-z]+|\.|-)/);
  const pieces: string[] = [];
  for (const p of raw) {
    const part = LEGACY_REPLACEMENTS[p] ?? p;
    if (part === '' || part === '.') continue;
    pieces.push(part.charCodeAt(0) >= 48 && part.charCodeAt(0) <= 57 ? part.padStart(8, '0') : `*${part}`);
  }
  pieces.push('*final');
  for (const part of pieces) {
    if (part.startsWith('*')) {
      if (part < '*final') while (parts.length && parts[parts.length - 1] === '*final-') parts.pop();
      while (parts.length && parts[parts.length - 1] === '00000000') parts.pop();
    }
    parts.push(part);
  }
  return parts;
}

function compareKeys(a: readonly string[], b: readonly string[]): Cmp {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function isValidPep440(version: string): boolean {
  return pep440.valid(version.trim()) !== null;
}

export const pypiScheme: VersionScheme<PypiVersion> = {
  name: 'PyPI',
  parse(version) {
    const text = version.trim();
    checkBasic('PyPI', text);
    const key = pep440Key(text);
    return key === undefined ? { text, legacy: legacyKey(text) } : { text, key };
  },
  compareParsed(a, b) {
    if (a.legacy && b.legacy) return compareKeys(a.legacy, b.legacy);
    if (a.legacy) return -1;
    if (b.legacy) return 1;
    return compareKey(a.key!, b.key!);
  },
  isValid: isValidPep440,
};
