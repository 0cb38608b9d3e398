import { uniq } from '../common.js';

/** Core metadata headers (METADATA, PKG-INFO): RFC 822 style, repeated keys kept in order, body ignored. */
export type Headers = Map<string, string[]>;

/** Header blocks are a few KiB; the description after them can be megabytes and is never read. */
export const MAX_HEADER_BYTES = 256 * 1024;

export function headerBlock(content: Buffer): Buffer {
  const limit = Math.min(content.length, MAX_HEADER_BYTES);
  for (const sep of ['\n\n', '\r\n\r\n']) {
    const end = content.indexOf(sep);
    if (end >= 0 && end < limit) return content.subarray(0, end);
  }
  return content.subarray(0, limit);
}

export function parseHeaders(content: Buffer): Headers {
  const headers: Headers = new Map();
  let last: string[] | undefined;
  for (const line of headerBlock(content).toString('utf8').split(/\r?\n/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && last) {
      // Folded continuation: belongs to the previous header's last value.
      last[last.length - 1] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(key, values);
    last = values;
  }
  return headers;
}

export function first(headers: Headers, key: string): string | undefined {
  const value = headers.get(key.toLowerCase())?.[0]?.trim();
  return value ? value : undefined;
}

/** PEP 503: lowercase, runs of `-`, `_`, `.` become one `-` (what purls and indexes use). */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const CLASSIFIER_SPDX: Record<string, string> = {
  'MIT License': 'MIT',
  'Apache Software License': 'Apache-2.0',
  'BSD License': 'BSD',
  'ISC License (ISCL)': 'ISC',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'Python Software Foundation License': 'PSF-2.0',
  'The Unlicense (Unlicense)': 'Unlicense',
  'zlib/libpng License': 'Zlib',
};

/**
 * License-Expression (PEP 639) when given; else the License field when it is a name rather than a pasted
 * license text; else the license classifiers (SPDX ids where the mapping is unambiguous).
 */
export function pythonLicenses(headers: Headers): string[] {
  const expression = first(headers, 'License-Expression');
  if (expression) return [expression];
  const field = first(headers, 'License');
  if (field && field !== 'UNKNOWN' && !field.includes('\n') && field.length <= 100) return [field];
  const fromClassifiers = (headers.get('classifier') ?? [])
    .filter((c) => c.startsWith('License ::'))
    .map((c) => c.split('::').pop()?.trim())
    .filter((c): c is string => !!c && c !== 'OSI Approved')
    .map((c) => CLASSIFIER_SPDX[c] ?? c);
  return uniq(fromClassifiers);
}

/** Names of the unconditional requirements (`Requires-Dist` without an `extra ==` marker), as written. */
export function pythonDependencies(headers: Headers): string[] {
  const names = (headers.get('requires-dist') ?? [])
    .filter((req) => !/\bextra\s*==/.test(req.split(';').slice(1).join(';')))
    .map((req) => /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req)?.[1]);
  return uniq(names);
}
