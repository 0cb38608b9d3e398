import { debianLicenseToSpdx } from './license-names.js';

export const COPYRIGHT_PREFIX = '/usr/share/doc/';

/** Is `path` a `/usr/share/doc/<pkg>/copyright` file? */
export function isCopyrightPath(path: string): boolean {
  if (!path.startsWith(COPYRIGHT_PREFIX) || !path.endsWith('/copyright')) return false;
  const pkg = path.slice(COPYRIGHT_PREFIX.length, -'/copyright'.length);
  return pkg.length > 0 && !pkg.includes('/');
}

const COMMON_LICENSES = /\/usr\/share\/common-licenses\/([A-Za-z0-9][A-Za-z0-9_.+-]*)/g;

/**
 * Keeps only the lines licenses are read from (DEP-5 `Format:`/`License:` fields and common-licenses references),
 * so thousands of copyright files cost a few bytes each during the walk.
 */
export function condenseCopyright(content: Buffer): Buffer {
  const kept: string[] = [];
  for (const line of content.toString('utf8').split('\n')) {
    if (/^(format|license):/i.test(line) || line.includes('/usr/share/common-licenses/')) kept.push(line.trimEnd());
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
      for (const name of splitExpression(m[1] ?? '')) found.add(debianLicenseToSpdx(name) ?? name);
    }
  } else {
    for (const m of text.matchAll(COMMON_LICENSES)) {
      const spdx = debianLicenseToSpdx((m[1] ?? '').replace(/\.$/, ''));
      if (spdx) found.add(spdx);
    }
  }
  return [...found];
}

function splitExpression(expression: string): string[] {
  return expression
    .replace(/\bwith\b.*?exception\b/gi, '')
    .split(/\s+or\s+|\s+and\s+|,/i)
    .map((s) => s.trim().replace(/[()]/g, ''))
    .filter((s) => s !== '' && !/\s/.test(s));
}
