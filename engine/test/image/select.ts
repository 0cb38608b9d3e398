import type { FileSelector } from '../../src/image/open.js';

/** The lead's cataloger-contract double: wants fixed paths (any type), keeps raw bytes, history for some. */
export function selectorFor(paths: string[], historyPaths: string[] = []): FileSelector {
  return {
    wants: (path) => paths.includes(path),
    condense: (_path, content) => ({ content }),
    wantsHistory: (path) => historyPaths.includes(path),
  };
}

export const OS_SELECTOR = selectorFor(['/etc/os-release', '/var/lib/dpkg/status'], ['/var/lib/dpkg/status']);

export const LIMITS = { maxFileBytes: 1024 * 1024 };

/** Path → text of every kept file, for comparisons that print well. */
export function textOf(files: ReadonlyMap<string, { content: Buffer }>): Record<string, string> {
  return Object.fromEntries(
    [...files].sort(([a], [b]) => a.localeCompare(b)).map(([p, f]) => [p, f.content.toString()]),
  );
}
