import { closeSync, type Dirent, lstatSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { throwIfAborted } from '../../errors/abort.js';
import { isLadingError, thrownValueText } from '../../errors/lading-error.js';
import { type ScanWarning, scanWarning } from '../../model/warning.js';
import type { FileMeta } from '../file.js';
import type { FileSelector, WalkOptions, WalkResult } from '../open.js';
import { fileRange } from '../random-access.js';
import { DEFAULT_MAX_INFLATED_BYTES, nestedAccount } from './inflate-account.js';
import { collectInspected } from './inspected.js';
import { keepContent, type LayerOp, OneAtATime, type ScanContext, type ScannedEntry } from './layer-scan.js';
import { openLocalFileAt, openSeenFile, type SeenFile } from './local-file-at.js';
import { pseudoFsPathsHere } from './pseudo-fs.js';
import { SquashedTree } from './squash.js';
import { collectWanted } from './wanted.js';

/** Reads a file the walk listed (see `openSeenFile`), at most `max` bytes. */
async function readRegular(full: string, seen: SeenFile, max: number): Promise<Buffer> {
  const { fd, size } = openSeenFile(full, seen, max);
  try {
    return fileRange(fd, 0, size, max).whole();
  } finally {
    closeSync(fd);
  }
}

/** Bytes read at a time for a file only the inspector wants. */
const PIECE = 1 << 20;

/** Feeds a file the walk listed to an inspector's sink in pieces (never held whole). */
function feedPieces(full: string, seen: SeenFile, sink: { write(chunk: Buffer): void }): void {
  const { fd, size } = openSeenFile(full, seen, Number.MAX_SAFE_INTEGER);
  try {
    for (let at = 0; at < size; ) {
      // A fresh buffer per piece: the sink may keep the pieces it was given.
      const piece = Buffer.allocUnsafe(Math.min(PIECE, size - at));
      const n = readSync(fd, piece, 0, piece.length, at);
      if (n === 0) break;
      sink.write(n === piece.length ? piece : piece.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** One directory entry: its op (read and condensed when wanted), a warning, or nothing (a skipped mount). */
async function scanEntry(
  root: string,
  path: string,
  d: Dirent,
  ctx: ScanContext,
  skip: ReadonlySet<string>,
  inspected: LayerOp[],
): Promise<LayerOp | ScanWarning | undefined> {
  if (d.isDirectory()) {
    // Kernel and runtime mounts (/proc, /sys, …) are left out entirely, as if absent.
    return skip.has(path) ? undefined : { kind: 'dir', path };
  }
  const full = join(root, path);
  try {
    const st = lstatSync(full);
    const entry: ScannedEntry = {
      path,
      type: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
      size: st.isFile() ? st.size : 0,
      mode: st.mode & 0o7777,
    };
    if (entry.type === 'symlink') entry.linkTarget = readlinkSync(full);
    if (entry.type !== 'file') return { kind: 'entry', entry };
    // Executables are condensed from a few reads at offsets (headers, build-info sections), not read whole.
    const openAt = (limit: number) => openLocalFileAt(full, st, limit);
    const meta: FileMeta = { size: entry.size, mode: entry.mode, type: 'file' };
    const inspector = ctx.selector.inspector;
    const sink = inspector?.wants(path, meta) ? inspector.start(path, meta) : undefined;
    let fed = false;
    const read = async (limit: number) => {
      const content = await readRegular(full, st, limit);
      if (sink && content.length === entry.size) {
        sink.write(content);
        fed = true;
      }
      return content;
    };
    const op: LayerOp = { kind: 'entry', entry: await keepContent(entry, ctx, read, openAt) };
    if (sink) {
      if (!fed) feedPieces(full, st, sink);
      const result = sink.end();
      if (result !== undefined) inspected.push({ kind: 'inspected', path, result });
    }
    return op;
  } catch (err) {
    // The budget of the whole walk (the archives in its files inflate past it) stops the walk: no one file's problem.
    if (isLadingError(err) && err.code === 'LIMIT') throw err;
    return scanWarning('image', `unreadable: ${thrownValueText(err)}`, path);
  }
}

/**
 * Depth-first over the tree, one entry at a time. Listings, stats, links and wanted files are read synchronously:
 * each is one or a few fast syscalls, and handing each to the thread pool and back cost several times the call
 * itself (`dir:/` on this 28 GB root: 28 s -> 14 s from a cold cache; bench/RESULTS-image.md).
 */
const DIRS_PER_YIELD = 64;

async function scanDir(root: string, ctx: ScanContext, skip: ReadonlySet<string>): Promise<LayerOp[]> {
  const ops: LayerOp[] = [];
  const inspected: LayerOp[] = [];
  const stack = ['/'];
  let dirs = 0;
  while (stack.length > 0) {
    // Reads here never wait: yield now and then so an abort can be delivered, and honour it.
    if (ctx.signal && ++dirs % DIRS_PER_YIELD === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(ctx.signal);
    const dir = stack.pop() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch (err) {
      if (dir === '/') throw err;
      ctx.warnings.push(scanWarning('image', `unreadable directory: ${thrownValueText(err)}`, dir));
      continue;
    }
    for (const d of entries) {
      const op = await scanEntry(root, dir === '/' ? `/${d.name}` : `${dir}/${d.name}`, d, ctx, skip, inspected);
      if (!op) continue;
      if (!('kind' in op)) {
        ctx.warnings.push(op);
        continue;
      }
      ops.push(op);
      if (op.kind === 'dir') stack.push(op.path);
    }
  }
  for (const op of inspected) ops.push(op);
  return ops;
}

/** The walk over a root filesystem directory: the same squash and link rules as an image with one layer. */
export async function walkDir(
  root: string,
  selector: FileSelector,
  options: WalkOptions & { signal?: AbortSignal | undefined },
): Promise<WalkResult> {
  const warnings: ScanWarning[] = [];
  // A directory inflates nothing itself; the archives in its files share the image's budget all the same.
  const max = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const inflate = nestedAccount({ left: max, max }, undefined, 'archives in the files');
  const ctx: ScanContext = {
    selector,
    maxFileBytes: options.maxFileBytes,
    warnings,
    oversized: new OneAtATime(),
    inflate,
  };
  if (options.maxCondenseBytes !== undefined) ctx.maxCondenseBytes = options.maxCondenseBytes;
  if (options.signal) ctx.signal = options.signal;
  const tree = new SquashedTree((path) => selector.wantsHistory(path));
  const ops = await scanDir(root, ctx, await pseudoFsPathsHere(root));
  tree.apply(0, ops);
  const files = await collectWanted(tree, {
    selector,
    maxFileBytes: options.maxFileBytes,
    ...(options.maxCondenseBytes !== undefined ? { maxCondenseBytes: options.maxCondenseBytes } : {}),
    inflate,
    warnings,
    layerId: () => undefined,
    readRaw: async (wanted) => {
      const out = new Map<string, Buffer>();
      for (const path of wanted.get(0) ?? []) {
        try {
          const full = join(root, path);
          out.set(path, await readRegular(full, lstatSync(full), Number.MAX_SAFE_INTEGER));
        } catch (err) {
          warnings.push(scanWarning('image', `unreadable: ${thrownValueText(err)}`, path));
        }
      }
      return new Map([[0, out]]);
    },
  });
  if (!selector.inspector) return { files, warnings, inflate };
  return { files, warnings, inflate, inspected: collectInspected([{ ops }], () => undefined) };
}
