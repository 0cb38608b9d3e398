// The image's squashed view as patching needs it: every path's type (to resolve symlinked directories such as
// usrmerge's `/lib` → `usr/lib`, and to know what a new layer replaces) and the bytes of the few files that decide
// the patch (package databases, apt/apk configuration and keys, conffiles under /etc). Read once, streaming.
import { pipeline, type Readable } from 'node:stream';
import { LadingError } from '../errors/lading-error.js';
import { BlockReader, nextEntry, paddedSize } from '../flatten/tar-blocks.js';
import type { Image } from '../image/image.js';
import { decompressSniffed } from '../image/layer/decompress.js';
import { verifying } from '../image/layer/verify.js';

export interface RootNode {
  type: 'file' | 'hardlink' | 'symlink' | 'directory' | 'other';
  mode: number;
  linkname: string;
  content?: Buffer;
}

/** Files whose bytes are kept: small, and only where package state and repository trust live. */
const KEPT = [
  /^etc\//,
  /^var\/lib\/dpkg\//,
  /^usr\/share\/keyrings\//,
  /^lib\/apk\/db\//,
  /^usr\/lib\/os-release$/,
  /^(var\/lib\/rpm|usr\/lib\/sysimage\/rpm|usr\/share\/rpm)\/(rpmdb\.sqlite(-wal)?|Packages(\.db)?)$/,
];
const MAX_KEPT_FILE = 64 * 1024 ** 2;
const WH = '.wh.';

export class RootView {
  readonly nodes = new Map<string, RootNode>();

  get(path: string): RootNode | undefined {
    return this.nodes.get(path);
  }

  /** A regular file's bytes (through hard links), or undefined. */
  content(path: string): Buffer | undefined {
    const node = this.nodes.get(path);
    if (node?.type === 'hardlink') return this.nodes.get(node.linkname)?.content;
    return node?.content;
  }

  /** A file's bytes with symlinks followed, the last component too (`trusted.gpg.d/x.asc` → `/usr/share/keyrings/…`). */
  contentFollowing(path: string): Buffer | undefined {
    let current = this.resolveParent(path);
    for (let depth = 0; depth < 40; depth++) {
      const node = this.nodes.get(current);
      if (node?.type !== 'symlink') return this.content(current);
      const dir = current.includes('/') ? current.slice(0, current.lastIndexOf('/')) : '';
      const target = node.linkname.startsWith('/') ? node.linkname.slice(1) : `${dir}/${node.linkname}`;
      current = this.resolveParent(target.replace(/^\/+/, ''));
    }
    return undefined;
  }

  /** True for a directory, or a symlink that leads to one (usrmerge's `/lib`): what a package never deletes. */
  isDirectory(path: string): boolean {
    const inside = this.resolveParent(`${path}/x`);
    return this.nodes.get(inside.slice(0, -2))?.type === 'directory';
  }

  /** Paths directly inside `dir` (no trailing slash; '' is the root). */
  children(dir: string): string[] {
    const prefix = dir === '' ? '' : `${dir}/`;
    const out: string[] = [];
    for (const path of this.nodes.keys()) {
      if (path.startsWith(prefix) && path.length > prefix.length && !path.slice(prefix.length).includes('/'))
        out.push(path);
    }
    return out.sort();
  }

  /**
   * Where `path` lands once the image's symlinked directories are followed (the last component is not followed):
   * `lib/x/libc.so.6` → `usr/lib/x/libc.so.6` under usrmerge. A link escaping the root is clamped to it, as the
   * kernel does for a chroot; loops stop after 40 links.
   */
  resolveParent(path: string): string {
    const parts = path.split('/');
    const last = parts.pop() as string;
    const dir = this.resolveDir(parts, 0);
    return dir === '' ? last : `${dir}/${last}`;
  }

  private resolveDir(parts: string[], depth: number): string {
    const out: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        out.pop();
        continue;
      }
      const candidate = [...out, part].join('/');
      const node = this.nodes.get(candidate);
      if (node?.type === 'symlink' && depth < 40) {
        const target = node.linkname.startsWith('/') ? node.linkname.split('/') : [...out, ...node.linkname.split('/')];
        const resolved = this.resolveDir(target, depth + 1);
        out.length = 0;
        if (resolved !== '') for (const part of resolved.split('/')) out.push(part);
        continue;
      }
      out.push(part);
    }
    return out.join('/');
  }

  private remove(path: string): void {
    const node = this.nodes.get(path);
    this.nodes.delete(path);
    if (node?.type === 'directory' || node === undefined) {
      const prefix = `${path}/`;
      for (const key of [...this.nodes.keys()]) if (key.startsWith(prefix)) this.nodes.delete(key);
    }
  }

  private clear(dir: string): void {
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const key of [...this.nodes.keys()]) if (key.startsWith(prefix) && key !== dir) this.nodes.delete(key);
  }

  /** Applies one layer's tar (whiteouts, then its entries) on top of the view. */
  async applyLayer(tar: Readable, what: string): Promise<void> {
    const reader = new BlockReader(tar);
    for (;;) {
      const entry = await nextEntry(reader);
      if (!entry) break;
      const size = paddedSize(entry.size);
      const slash = entry.path.lastIndexOf('/');
      const base = entry.path.slice(slash + 1);
      const dir = slash < 0 ? '' : entry.path.slice(0, slash);
      if (base.startsWith(WH)) {
        if (base === `${WH}${WH}.opq`) this.clear(dir);
        else this.remove(dir === '' ? base.slice(WH.length) : `${dir}/${base.slice(WH.length)}`);
        await skip(reader, size, what);
        continue;
      }
      if (entry.path === '') {
        await skip(reader, size, what);
        continue;
      }
      const header = entry.head[entry.head.length - 1] as Buffer;
      const mode = Number.parseInt(header.toString('latin1', 100, 107).replace(/[\0 ]/g, '') || '0', 8) & 0o7777;
      const type: RootNode['type'] =
        entry.typeflag === '0' || entry.typeflag === '7'
          ? 'file'
          : entry.typeflag === '1'
            ? 'hardlink'
            : entry.typeflag === '2'
              ? 'symlink'
              : entry.typeflag === '5'
                ? 'directory'
                : 'other';
      const previous = this.nodes.get(entry.path);
      // A non-directory replacing a directory drops what was inside it.
      if (previous?.type === 'directory' && type !== 'directory') this.remove(entry.path);
      const node: RootNode = { type, mode, linkname: entry.linkname };
      if (type === 'file' && entry.size <= MAX_KEPT_FILE && KEPT.some((re) => re.test(entry.path))) {
        node.content = entry.size > 0 ? await reader.readExactly(entry.size, what) : Buffer.alloc(0);
      } else {
        await skip(reader, entry.size, what);
      }
      await skipPadding(reader, size - entry.size);
      this.nodes.set(entry.path, node);
    }
    await reader.drain();
  }
}

/**
 * The padding after an entry's data. Some writers end the layer right after the last entry's data, with neither
 * padding nor end-of-archive blocks (umoci's layers do; Go's archive/tar, which runtimes use, reads them): the
 * stream may end here.
 */
async function skipPadding(reader: BlockReader, n: number): Promise<void> {
  for (let left = n; left > 0; ) {
    const part = await reader.readUpTo(left);
    if (part.length === 0) return;
    left -= part.length;
  }
}

async function skip(reader: BlockReader, n: number, what: string): Promise<void> {
  for (let left = n; left > 0; ) {
    const part = await reader.readUpTo(left);
    if (part.length === 0) throw new LadingError('BAD_INPUT', `${what}: truncated tar`);
    left -= part.length;
  }
}

/** The squashed view of all the image's layers, each checked against its diff-id as it streams. */
export async function readRootView(image: Image): Promise<RootView> {
  const view = new RootView();
  for (let i = 0; i < image.layers.length; i++) {
    const layer = image.layers[i];
    if (!layer) continue;
    const what = `layer ${i + 1}`;
    const { stream } = await decompressSniffed(await layer.open());
    const tar = pipeline(stream, verifying(layer.info.diffId, `${what} (diff-id)`), () => {});
    await view.applyLayer(tar, what);
  }
  return view;
}
