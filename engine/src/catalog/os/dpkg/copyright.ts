import { debianLicenseToSpdx } from './license-names.js';

export const COPYRIGHT_PREFIX = '/usr/share/doc/';

/** Is `path` a `/usr/share/doc/<pkg>/copyright` file? */
export function isCopyrightPath(path: string): boolean {
  if (!path.startsWith(COPYRIGHT_PREFIX) || !path.endsWith('/copyright')) return false;
  const pkg = path.slice(COPYRIGHT_PREFIX.length, -'/copyright'.length);
  return pkg.length > 0 && !pkg.includes('/');
}

const COMMON_LICENSES = /\/usr\/share\/common-licenses\/([A-Za-z0-9][A-Za-z0-9_.+-]*)/g;

const COMMON_LICENSES_DIR = Buffer.from('/usr/share/common-licenses/');
const FORMAT_FIELD = Buffer.from('format:');
const LICENSE_FIELD = Buffer.from('license:');
const NEWLINE = 0x0a;

/** Does the line at `at` start with `field` (lower-case ASCII), in any letter case? */
function startsWithField(content: Buffer, at: number, end: number, field: Buffer): boolean {
  if (end - at < field.length) return false;
  for (let i = 0; i < field.length; i++) {
    // Setting 0x20 folds ASCII upper case onto lower case; ':' has it set already.
    if (((content[at + i] as number) | 0x20) !== field[i]) return false;
  }
  return true;
}

/**
 * Keeps only the lines licenses are read from (DEP-5 `Format:`/`License:` fields and common-licenses references),
 * so thousands of copyright files cost a few bytes each during the walk. Works on bytes: copyright files are most
 * of the content an image walk reads, and decoding them whole to find a few lines was the walk's largest cost.
 */
export function condenseCopyright(content: Buffer): Buffer {
  const kept: string[] = [];
  let nextReference = content.indexOf(COMMON_LICENSES_DIR);
  let start = 0;
  while (start <= content.length) {
    let end = content.indexOf(NEWLINE, start);
    if (end < 0) end = content.length;
    const first = (content[start] ?? 0) | 0x20;
    let keep =
      (first === 0x66 && startsWithField(content, start, end, FORMAT_FIELD)) ||
      (first === 0x6c && startsWithField(content, start, end, LICENSE_FIELD));
    if (nextReference >= 0 && nextReference < start) nextReference = content.indexOf(COMMON_LICENSES_DIR, start);
    if (!keep && nextReference >= 0 && nextReference + COMMON_LICENSES_DIR.length <= end) keep = true;
    // Line by line decoding equals decoding the whole: a newline byte ends any UTF-8 sequence.
    if (keep) kept.push(content.toString('utf8', start, end).trimEnd());
    start = end + 1;
  }
  return Buffer.from(kept.join('\n'));
}

/**
 * License ids of a Debian copyright file. DEP-5 (machine-readable) files: every `License:` field's short name,
 * split on `or`/`and`/`,`, mapped to SPDX where known, else kept as written. Other files: only what a
 * `/usr/share/common-licenses/<name>` reference names, mapped to SPDX; free text is not guessed at.
 */
export function licensesFromCopyright(text: string): string[] {
  const found = new Set<string>();
  const machineReadable = /^format:\s*\S*(copyright-format|dep5|dep-5)/im.test(text);
  if (machineReadable) {
    for (const m of text.matchAll(/^license:[ \t]*([^\n]*)$/gim)) {
      for (const id of licenseIdsOf(m[1] ?? '')) found.add(id);
    }
  } else {
    for (const m of text.matchAll(COMMON_LICENSES)) {
      const spdx = debianLicenseToSpdx((m[1] ?? '').replace(/\.$/, ''));
      if (spdx) found.add(spdx);
    }
  }
  return [...found];
}

/**
 * A few dozen distinct `License:` values recur across thousands of paragraphs of an image's copyright files; each
 * is split and mapped once per process. Bounded, as a hostile file can hold any number of distinct values.
 */
const idsByExpression = new Map<string, readonly string[]>();
const MAX_CACHED_EXPRESSIONS = 4096;

function licenseIdsOf(expression: string): readonly string[] {
  const cached = idsByExpression.get(expression);
  if (cached) return cached;
  const ids = splitExpression(expression).map((name) => debianLicenseToSpdx(name) ?? name);
  if (idsByExpression.size < MAX_CACHED_EXPRESSIONS) idsByExpression.set(expression, ids);
  return ids;
}

function splitExpression(expression: string): string[] {
  return expression
    .replace(/\bwith\b.*?exception\b/gi, '')
    .split(/\s+or\s+|\s+and\s+|,/i)
    .map((s) => s.trim().replace(/[()]/g, ''))
    .filter((s) => s !== '' && !/\s/.test(s));
}
