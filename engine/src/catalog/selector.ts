import type { FileMeta } from '../image/file.js';
import type { FileSelector } from '../image/open.js';
import type { Cataloger } from './cataloger.js';

const DATA_FILE: FileMeta = { size: 0, mode: 0o644, type: 'file' };
const EXECUTABLE: FileMeta = { size: 0, mode: 0o755, type: 'file' };

/** What a metadata-only cataloger keeps of a file: nothing but the path and meta the walk records anyway. */
const NOTHING = Buffer.alloc(0);

/**
 * The walk's file test: a file is kept when any cataloger wants it; condensed only when one cataloger alone wants
 * its bytes. Metadata-only catalogers (`Cataloger.metaOnly`) never count for that: a file only they want is kept
 * empty (and never read where it can be skipped), and a file another cataloger condenses to nothing is still kept,
 * empty, for them.
 */
export function selectorFor(catalogers: readonly Cataloger[]): FileSelector {
  const readers = catalogers.filter((c) => !c.metaOnly);
  const noters = catalogers.filter((c) => c.metaOnly);
  // The walk asks `condensesAt`, `condenses` and `condense` about the same file in a row: ask the catalogers once.
  let lastKey: string | undefined;
  let lastReaders: Cataloger[] = [];
  let lastNoter: Cataloger | undefined;
  const judge = (path: string, meta: FileMeta): void => {
    const key = `${meta.type}\0${meta.size}\0${meta.mode}\0${path}`;
    if (key === lastKey) return;
    lastReaders = wantingWith(readers, path, meta);
    lastNoter = noters.length ? noters.find((c) => c.wants(path, meta)) : undefined;
    lastKey = key;
  };
  const soleReader = (): Cataloger | undefined => (lastReaders.length === 1 ? lastReaders[0] : undefined);
  const notedOnly = (): Cataloger | undefined => (lastReaders.length === 0 ? lastNoter : undefined);
  const keptEmpty = (noter: Cataloger) => ({ content: NOTHING, condensedBy: noter.id });
  return {
    wants: (path, meta) => {
      // Asked for every path of every layer: a plain loop, no closure per call.
      for (const c of catalogers) if (c.wants(path, meta)) return true;
      return false;
    },
    condense: (path, content, meta, inflate) => {
      judge(path, meta ?? guessedMeta(catalogers, path, content.length));
      const noter = notedOnly();
      if (noter) return keptEmpty(noter);
      const only = soleReader();
      if (!only?.condense) return { content };
      const kept = only.condense(path, content, inflate);
      if (kept) return { content: kept, condensedBy: only.id };
      return lastNoter ? keptEmpty(lastNoter) : null;
    },
    condenses: (path, meta) => {
      judge(path, meta);
      const only = soleReader();
      return notedOnly() !== undefined || (only?.condense !== undefined && only.condensesOversized !== false);
    },
    condensesAt: (path, meta) => {
      judge(path, meta);
      return notedOnly() !== undefined || soleReader()?.condenseAt !== undefined;
    },
    condenseAt: (path, file, meta) => {
      judge(path, meta);
      const noter = notedOnly();
      if (noter) return keptEmpty(noter);
      const only = soleReader();
      if (!only?.condenseAt) return undefined;
      const kept = only.condenseAt(path, file);
      if (kept) return { content: kept, condensedBy: only.id };
      return lastNoter ? keptEmpty(lastNoter) : null;
    },
    wantsHistory: (path) => readers.some((c) => c.wantsHistory?.(path) ?? false),
  };
}

/** True when a file was kept only for metadata-only catalogers: the others must not read its (empty) content. */
export function keptOnlyForMeta(condensedBy: string | undefined, catalogers: readonly Cataloger[]): boolean {
  return condensedBy !== undefined && catalogers.some((c) => c.metaOnly && c.id === condensedBy);
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
