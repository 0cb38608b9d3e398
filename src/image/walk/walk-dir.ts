import type { Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LadingError } from '../../errors/lading-error.js';
import type { ScanWarning } from '../../model/warning.js';
import type { FileSelector, WalkOptions, WalkResult } from '../open.js';
import { keepContent, type LayerOp, OneAtATime, type ScanContext, type ScannedEntry } from './layer-scan.js';
import { openLocalFileAt } from './local-file-at.js';
import { pseudoFsPathsHere } from './pseudo-fs.js';
import { SquashedTree } from './squash.js';
import { collectWanted } from './wanted.js';

/** Reads a regular file without following a symlink at the last step (the walk resolves links itself). */
async function readRegular(full: string, max: number): Promise<Buffer> {
  const fh = await open(full, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new LadingError('BAD_INPUT', `${full} is no longer a regular file`);
    const size = Math.min(st.size, max);
    // Unfilled: only the bytes read are returned.
    const buf = Buffer.allocUnsafe(size);
    const { bytesRead } = await fh.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const ENTRY_CONCURRENCY = 8;
/** Larger files are read one at a time, so concurrency never holds several big executables in memory at once. */
const SMALL_READ_BYTES = 1024 * 1024;

/** `work` over items, at most `limit` at a time, results in input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function scanDir(root: string, ctx: ScanContext, skip: ReadonlySet<string>): Promise<LayerOp[]> {
  const ops: LayerOp[] = [];
  const stack = ['/'];
  const bigReads = new OneAtATime();
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, dir), { withFileTypes: true });
    } catch (err) {
      if (dir === '/') throw err;
      ctx.warnings.push({ cataloger: 'image', path: dir, message: `unreadable directory: ${(err as Error).message}` });
      continue;
    }
    // Stat and read a few entries at a time: one syscall per await made a full `dir:/` walk latency-bound.
    const results = await mapBounded(
      entries,
      ENTRY_CONCURRENCY,
      async (d): Promise<LayerOp | ScanWarning | undefined> => {
        const path = dir === '/' ? `/${d.name}` : `${dir}/${d.name}`;
        const full = join(root, path);
        if (d.isDirectory()) {
          // Kernel and runtime mounts (/proc, /sys, …) are left out entirely, as if absent.
          return skip.has(path) ? undefined : { kind: 'dir', path };
        }
        try {
          const st = await lstat(full);
          const entry: ScannedEntry = {
            path,
            type: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
            size: st.isFile() ? st.size : 0,
            mode: st.mode & 0o7777,
          };
          if (entry.type === 'symlink') entry.linkTarget = await readlink(full);
          const read = (limit: number) =>
            entry.size > SMALL_READ_BYTES ? bigReads.run(() => readRegular(full, limit)) : readRegular(full, limit);
          // Executables are condensed from a few reads at offsets (headers, build-info sections), not read whole.
          const openAt = (limit: number) => openLocalFileAt(full, limit);
          const kept = entry.type === 'file' ? await keepContent(entry, ctx, read, openAt) : entry;
          return { kind: 'entry', entry: kept };
        } catch (err) {
          return { cataloger: 'image', path, message: `unreadable: ${(err as Error).message}` };
        }
      },
    );
    // Warnings in walk order whatever order the reads finished in.
    for (const op of results) {
      if (!op) continue;
      if (!('kind' in op)) {
        ctx.warnings.push(op);
        continue;
      }
      ops.push(op);
      if (op.kind === 'dir') stack.push(op.path);
    }
  }
  return ops;
}

/** The walk over a root filesystem directory: the same squash and link rules as an image with one layer. */
export async function walkDir(root: string, selector: FileSelector, options: WalkOptions): Promise<WalkResult> {
  const warnings: ScanWarning[] = [];
  const ctx: ScanContext = { selector, maxFileBytes: options.maxFileBytes, warnings, oversized: new OneAtATime() };
  if (options.maxCondenseBytes !== undefined) ctx.maxCondenseBytes = options.maxCondenseBytes;
  const tree = new SquashedTree((path) => selector.wantsHistory(path));
  tree.apply(0, await scanDir(root, ctx, await pseudoFsPathsHere(root)));
  const files = await collectWanted(tree, {
    selector,
    maxFileBytes: options.maxFileBytes,
    ...(options.maxCondenseBytes !== undefined ? { maxCondenseBytes: options.maxCondenseBytes } : {}),
    warnings,
    layerId: () => undefined,
    readRaw: async (_layer, paths) => {
      const out = new Map<string, Buffer>();
      for (const path of paths) {
        try {
          out.set(path, await readRegular(join(root, path), Number.MAX_SAFE_INTEGER));
        } catch (err) {
          warnings.push({ cataloger: 'image', path, message: `unreadable: ${(err as Error).message}` });
        }
      }
      return out;
    },
  });
  return { files, warnings };
}
