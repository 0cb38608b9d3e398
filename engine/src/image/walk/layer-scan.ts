import { type ScanWarning, scanWarning } from '../../model/warning.js';
import type { FileMeta, RandomAccessFile } from '../file.js';
import type { FileSelector, InflateAccount } from '../open.js';
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
  | { kind: 'entry'; entry: ScannedEntry }
  /** What the selector's inspector kept of the file this layer holds at `path` (the squash ignores it). */
  | { kind: 'inspected'; path: string; result: unknown };

export const DEFAULT_MAX_CONDENSE_BYTES = 512 * 1024 ** 2;

export interface ScanContext {
  selector: FileSelector;
  maxFileBytes: number;
  /** Cap for oversized files the selector condenses (`WalkOptions.maxCondenseBytes`). */
  maxCondenseBytes?: number;
  /** Shared by all layers of one walk: oversized reads take turns, so at most one large buffer is alive. */
  oversized?: OneAtATime;
  /** A second pass for link targets: exactly these paths, raw, whatever the selector says. */
  pick?: ReadonlySet<string>;
  /** The image's inflate account: what condensing inflates (archives nested in a file) is charged to it. */
  inflate?: InflateAccount;
  warnings: ScanWarning[];
  /** Called once per tar entry; throws when the image holds more entries than the walk will track. */
  countEntry?: () => void;
  /**
   * The walk's abort signal. A layer read in place never waits, so without it a scan would not yield to the event
   * loop (where the abort is delivered) until the layer ends: with a signal it yields every few thousand entries.
   */
  signal?: AbortSignal;
}

/** Entries between two yields to the event loop when a signal may abort the walk (a few ms of work). */
const ENTRIES_PER_YIELD = 2048;

export function tooLargeWarning(path: string, size: number, max: number): ScanWarning {
  return scanWarning('image', `skipped: ${size} bytes is over the ${max}-byte file limit`, path);
}

/** Runs tasks one after another (a mutex for the rare large read). */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => {});
    return result;
  }
}

/**
 * The most bytes to read of a wanted file, or undefined (with a warning) when it is too large. Files a condensing
 * cataloger alone wants may be larger than `maxFileBytes`: only their condensed bytes are kept.
 */
export function readLimit(
  path: string,
  meta: FileMeta,
  ctx: Pick<ScanContext, 'selector' | 'maxFileBytes' | 'maxCondenseBytes' | 'warnings'>,
): number | undefined {
  if (meta.size <= ctx.maxFileBytes) return ctx.maxFileBytes;
  const condenseCap = ctx.maxCondenseBytes ?? DEFAULT_MAX_CONDENSE_BYTES;
  if (meta.size <= condenseCap && ctx.selector.condenses?.(path, meta)) return condenseCap;
  ctx.warnings.push(tooLargeWarning(path, meta.size, ctx.maxFileBytes));
  return undefined;
}

/** Opens a local file for reads at offsets (`whole()` reads up to `limit` bytes); closed after the condense. */
export type OpenAt = (limit: number) => Promise<{ file: RandomAccessFile; close(): Promise<void> }>;

/** Whether this pass wants a regular file's content at all: `keepContent` has nothing to do for the rest. */
export function contentWanted(entry: ScannedEntry, ctx: Pick<ScanContext, 'selector' | 'pick'>): boolean {
  if (ctx.pick) return ctx.pick.has(entry.path);
  return ctx.selector.wants(entry.path, { size: entry.size, mode: entry.mode, type: 'file' });
}

/**
 * Decides whether to keep a regular file's content, reads it if so, and applies the selector's condense. Given
 * `openAt`, a file whose condensing cataloger reads at offsets is condensed from those reads alone.
 */
export async function keepContent(
  entry: ScannedEntry,
  ctx: ScanContext,
  read: (limit: number) => Promise<Buffer>,
  openAt?: OpenAt,
): Promise<ScannedEntry> {
  if (!contentWanted(entry, ctx)) return entry;
  if (ctx.pick) {
    // The second pass reads link targets the first pass already judged (wanted.ts applies readLimit to the link).
    return { ...entry, content: await read(Math.max(entry.size, ctx.maxFileBytes)), raw: true };
  }
  const meta: FileMeta = { size: entry.size, mode: entry.mode, type: 'file' };
  const limit = readLimit(entry.path, meta, ctx);
  if (limit === undefined) return entry;
  const condenseAt = ctx.selector.condenseAt;
  // Only files whose one wanting cataloger reads at offsets are opened for it: the rest are read once, below.
  if (openAt && condenseAt && ctx.selector.condensesAt?.(entry.path, meta)) {
    const viaOffsets = async () => {
      const opened = await openAt(limit);
      try {
        return condenseAt(entry.path, opened.file, meta);
      } finally {
        await opened.close();
      }
    };
    // A cataloger may still fall back to whole(): large files keep taking turns, as below.
    const big = entry.size > ctx.maxFileBytes && ctx.oversized;
    const kept = await (big ? (ctx.oversized as OneAtATime).run(viaOffsets) : viaOffsets());
    if (kept === null) return entry;
    if (kept !== undefined) {
      const out: ScannedEntry = { ...entry, content: kept.content };
      if (kept.condensedBy) out.condensedBy = kept.condensedBy;
      return out;
    }
  }
  if (entry.size > ctx.maxFileBytes) {
    const condense = async () => ctx.selector.condense(entry.path, await read(limit), meta, ctx.inflate);
    const kept = await (ctx.oversized ? ctx.oversized.run(condense) : condense());
    // Oversized content is kept only in condensed form; raw bytes that large are what the cap exists to refuse.
    if (!kept?.condensedBy) {
      if (kept) ctx.warnings.push(tooLargeWarning(entry.path, entry.size, ctx.maxFileBytes));
      return entry;
    }
    return { ...entry, content: kept.content, condensedBy: kept.condensedBy };
  }
  const raw = await read(limit);
  const kept = ctx.selector.condense(entry.path, raw, meta, ctx.inflate);
  if (!kept) return entry;
  const out: ScannedEntry = { ...entry, content: kept.content };
  if (kept.condensedBy) out.condensedBy = kept.condensedBy;
  else if (kept.content === raw) out.raw = true;
  return out;
}

/** One streaming pass over a layer's tar: every path's metadata, the wanted files' contents. */
export async function scanLayerTar(reader: TarReader, ctx: ScanContext): Promise<LayerOp[]> {
  const ops: LayerOp[] = [];
  let sinceYield = 0;
  for (;;) {
    if (ctx.signal && ++sinceYield >= ENTRIES_PER_YIELD) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    let e = reader.tryNext();
    if (e === undefined) e = await reader.next();
    if (e === null) break;
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
    // In an uncompressed local layer, executables are condensed from reads at offsets and their data skipped.
    const file = e;
    const inspector = e.type === 'file' && !ctx.pick ? ctx.selector.inspector : undefined;
    const meta: FileMeta = { size: e.size, mode: e.mode, type: 'file' };
    const sink = inspector?.wants(path, meta) ? inspector.start(path, meta) : undefined;
    let fed = false;
    const read = async () => {
      const content = await reader.content(file);
      if (sink) {
        sink.write(content);
        fed = true;
      }
      return content;
    };
    const entry =
      e.type === 'file' && contentWanted(base, ctx) ? await keepContent(base, ctx, read, reader.contentAt(file)) : base;
    ops.push({ kind: 'entry', entry });
    if (sink) {
      // Not read for a cataloger (or only at offsets): streamed past the inspector in pieces, never held whole.
      if (!fed) for await (const piece of reader.contentPieces(file)) sink.write(piece);
      const result = sink.end();
      if (result !== undefined) ops.push({ kind: 'inspected', path, result });
    }
  }
  return ops;
}
