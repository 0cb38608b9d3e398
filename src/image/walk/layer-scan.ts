import type { ScanWarning } from '../../model/warning.js';
import type { FileMeta } from '../file.js';
import type { FileSelector } from '../open.js';
import type { TarReader } from '../tar/tar-reader.js';
import { entryPath, whiteoutOf } from './paths.js';

/** One path as a layer (or a root filesystem) records it. */
export interface ScannedEntry {
  path: string;
  type: 'file' | 'symlink' | 'hardlink' | 'other';
  size: number;
  mode: number;
  /** Symlink: the target as recorded. Hard link: the target as an absolute path in the image. */
  linkTarget?: string;
  content?: Buffer;
  condensedBy?: string;
  /** `content` is the file's own bytes, so a link to it can be condensed under the link's name. */
  raw?: boolean;
}

export type LayerOp =
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; path: string }
  | { kind: 'dir'; path: string }
  | { kind: 'entry'; entry: ScannedEntry };

export interface ScanContext {
  selector: FileSelector;
  maxFileBytes: number;
  /** A second pass for link targets: exactly these paths, raw, whatever the selector says. */
  pick?: ReadonlySet<string>;
  warnings: ScanWarning[];
  /** Called once per tar entry; throws when the image holds more entries than the walk will track. */
  countEntry?: () => void;
}

export function tooLargeWarning(path: string, size: number, max: number): ScanWarning {
  return { cataloger: 'image', path, message: `skipped: ${size} bytes is over the ${max}-byte file limit` };
}

/** Decides whether to keep a regular file's content, reads it if so, and applies the selector's condense. */
export async function keepContent(
  entry: ScannedEntry,
  ctx: ScanContext,
  read: () => Promise<Buffer>,
): Promise<ScannedEntry> {
  const meta: FileMeta = { size: entry.size, mode: entry.mode, type: 'file' };
  const wanted = ctx.pick ? ctx.pick.has(entry.path) : ctx.selector.wants(entry.path, meta);
  if (!wanted) return entry;
  if (entry.size > ctx.maxFileBytes) {
    ctx.warnings.push(tooLargeWarning(entry.path, entry.size, ctx.maxFileBytes));
    return entry;
  }
  const raw = await read();
  if (ctx.pick) return { ...entry, content: raw, raw: true };
  const kept = ctx.selector.condense(entry.path, raw);
  if (!kept) return entry;
  const out: ScannedEntry = { ...entry, content: kept.content };
  if (kept.condensedBy) out.condensedBy = kept.condensedBy;
  else if (kept.content === raw) out.raw = true;
  return out;
}

/** One streaming pass over a layer's tar: every path's metadata, the wanted files' contents. */
export async function scanLayerTar(reader: TarReader, ctx: ScanContext): Promise<LayerOp[]> {
  const ops: LayerOp[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) {
    ctx.countEntry?.();
    const path = entryPath(e.name);
    if (path === '/') continue;
    const marker = whiteoutOf(path);
    if (marker) {
      ops.push(marker);
      continue;
    }
    if (e.type === 'directory') {
      ops.push({ kind: 'dir', path });
      continue;
    }
    const base: ScannedEntry = { path, type: e.type, size: e.size, mode: e.mode };
    if (e.type === 'symlink') base.linkTarget = e.linkname;
    if (e.type === 'hardlink') base.linkTarget = entryPath(e.linkname);
    const entry = e.type === 'file' ? await keepContent(base, ctx, () => reader.content(e)) : base;
    ops.push({ kind: 'entry', entry });
  }
  return ops;
}
