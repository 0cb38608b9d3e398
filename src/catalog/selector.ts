import type { FileMeta } from '../image/file.js';
import type { FileSelector } from '../image/open.js';
import type { Cataloger } from './cataloger.js';

const DATA_FILE: FileMeta = { size: 0, mode: 0o644, type: 'file' };
const EXECUTABLE: FileMeta = { size: 0, mode: 0o755, type: 'file' };

/** The walk's file test: a file is kept when any cataloger wants it; condensed only when one cataloger alone wants it. */
export function selectorFor(catalogers: readonly Cataloger[]): FileSelector {
  return {
    wants: (path, meta) => catalogers.some((c) => c.wants(path, meta)),
    condense: (path, content) => {
      // `condense` gets no meta, and the binary cataloger wants any executable: asked as an executable, every
      // extensionless file (`copyright`, `METADATA`) would look wanted twice and be kept whole. So the owner is
      // the one cataloger that wants the path as a data file; only paths no one wants that way are executables.
      const asData = wantingWith(catalogers, path, { ...DATA_FILE, size: content.length });
      const wanting =
        asData.length > 0 ? asData : wantingWith(catalogers, path, { ...EXECUTABLE, size: content.length });
      const only = wanting.length === 1 ? wanting[0] : undefined;
      if (!only?.condense) return { content };
      const kept = only.condense(path, content);
      return kept ? { content: kept, condensedBy: only.id } : null;
    },
    wantsHistory: (path) => catalogers.some((c) => c.wantsHistory?.(path) ?? false),
  };
}

function wantingWith(catalogers: readonly Cataloger[], path: string, meta: FileMeta): Cataloger[] {
  return catalogers.filter((c) => c.wants(path, meta));
}
