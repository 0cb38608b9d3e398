import type { FileSelector } from '../image/open.js';
import type { Cataloger } from './cataloger.js';

/** The walk's file test: a file is kept when any cataloger wants it; condensed only when one cataloger alone wants it. */
export function selectorFor(catalogers: readonly Cataloger[]): FileSelector {
  return {
    wants: (path, meta) => catalogers.some((c) => c.wants(path, meta)),
    condense: (path, content) => {
      // `wants` needs meta; the walk calls condense only on files already wanted, so size/mode no longer matter here.
      const meta = { size: content.length, mode: 0o755, type: 'file' as const };
      const wanting = catalogers.filter((c) => c.wants(path, meta));
      const only = wanting.length === 1 ? wanting[0] : undefined;
      if (!only?.condense) return { content };
      const kept = only.condense(path, content);
      return kept ? { content: kept, condensedBy: only.id } : null;
    },
    wantsHistory: (path) => catalogers.some((c) => c.wantsHistory?.(path) ?? false),
  };
}
