import type { Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LadingError } from '../../errors/lading-error.js';
import type { ScanWarning } from '../../model/warning.js';
import type { FileSelector, WalkOptions, WalkResult } from '../open.js';
import { keepContent, type LayerOp, type ScanContext, type ScannedEntry } from './layer-scan.js';
import { SquashedTree } from './squash.js';
import { collectWanted } from './wanted.js';

/** Reads a regular file without following a symlink at the last step (the walk resolves links itself). */
async function readRegular(full: string, max: number): Promise<Buffer> {
  const fh = await open(full, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new LadingError('BAD_INPUT', `${full} is no longer a regular file`);
    const size = Math.min(st.size, max);
    const buf = Buffer.alloc(size);
    const { bytesRead } = await fh.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function scanDir(root: string, ctx: ScanContext): Promise<LayerOp[]> {
  const ops: LayerOp[] = [];
  const stack = ['/'];
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
    for (const d of entries) {
      const path = dir === '/' ? `/${d.name}` : `${dir}/${d.name}`;
      const full = join(root, path);
      if (d.isDirectory()) {
        ops.push({ kind: 'dir', path });
        stack.push(path);
        continue;
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
        const kept =
          entry.type === 'file' ? await keepContent(entry, ctx, () => readRegular(full, ctx.maxFileBytes)) : entry;
        ops.push({ kind: 'entry', entry: kept });
      } catch (err) {
        ctx.warnings.push({ cataloger: 'image', path, message: `unreadable: ${(err as Error).message}` });
      }
    }
  }
  return ops;
}

/** The walk over a root filesystem directory: the same squash and link rules as an image with one layer. */
export async function walkDir(root: string, selector: FileSelector, options: WalkOptions): Promise<WalkResult> {
  const warnings: ScanWarning[] = [];
  const ctx: ScanContext = { selector, maxFileBytes: options.maxFileBytes, warnings };
  const tree = new SquashedTree((path) => selector.wantsHistory(path));
  tree.apply(0, await scanDir(root, ctx));
  const files = await collectWanted(tree, {
    selector,
    maxFileBytes: options.maxFileBytes,
    warnings,
    layerId: () => undefined,
    readRaw: async (_layer, paths) => {
      const out = new Map<string, Buffer>();
      for (const path of paths) {
        try {
          out.set(path, await readRegular(join(root, path), options.maxFileBytes));
        } catch (err) {
          warnings.push({ cataloger: 'image', path, message: `unreadable: ${(err as Error).message}` });
        }
      }
      return out;
    },
  });
  return { files, warnings };
}
