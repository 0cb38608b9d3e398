import type { FileMeta } from '../image/file.js';
import type { FileSelector } from '../image/open.js';
import type { Cataloger } from './cataloger.js';

const DATA_FILE: FileMeta = { size: 0, mode: 0o644, type: 'file' };
const EXECUTABLE: FileMeta = { size: 0, mode: 0o755, type: 'file' };

/** The walk's file test: a file is kept when any cataloger wants it; condensed only when one cataloger alone wants it. */
export function selectorFor(catalogers: readonly Cataloger[]): FileSelector {
  // The walk asks `condensesAt`, `condenses` and `condense` about the same file in a row: ask the catalogers once.
  let lastKey: string | undefined;
  let lastWanting: Cataloger[] = [];
  const soleWanting = (path: string, meta: FileMeta): Cataloger | undefined => {
    const key = `${meta.type}\0${meta.size}\0${meta.mode}\0${path}`;
    if (key !== lastKey) {
      lastWanting = wantingWith(catalogers, path, meta);
      lastKey = key;
    }
    return lastWanting.length === 1 ? lastWanting[0] : undefined;
  };
  return {
    wants: (path, meta) => {
      // Asked for every path of every layer: a plain loop, no closure per call.
      for (const c of catalogers) if (c.wants(path, meta)) return true;
      return false;
    },
    condense: (path, content, meta) => {
      const only = soleWanting(path, meta ?? guessedMeta(catalogers, path, content.length));
      if (!only?.condense) return { content };
      const kept = only.condense(path, content);
      return kept ? { content: kept, condensedBy: only.id } : null;
    },
    condenses: (path, meta) => soleWanting(path, meta)?.condense !== undefined,
    condensesAt: (path, meta) => soleWanting(path, meta)?.condenseAt !== undefined,
    condenseAt: (path, file, meta) => {
      const only = soleWanting(path, meta);
      if (!only?.condenseAt) return undefined;
      const kept = only.condenseAt(path, file);
      return kept ? { content: kept, condensedBy: only.id } : null;
    },
    wantsHistory: (path) => catalogers.some((c) => c.wantsHistory?.(path) ?? false),
  };
}

/**
 * For callers that pass no meta (the walk always does): the binary cataloger wants any executable, so asked as an
 * executable every extensionless file (`copyright`, `METADATA`) would look wanted twice and be kept whole. The guess
 * is a data file when any cataloger wants the path as one, else an executable.
 */
function guessedMeta(catalogers: readonly Cataloger[], path: string, size: number): FileMeta {
  const asData = { ...DATA_FILE, size };
  return wantingWith(catalogers, path, asData).length > 0 ? asData : { ...EXECUTABLE, size };
}

function wantingWith(catalogers: readonly Cataloger[], path: string, meta: FileMeta): Cataloger[] {
  return catalogers.filter((c) => c.wants(path, meta));
}
