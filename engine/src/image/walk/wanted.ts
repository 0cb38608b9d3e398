import { type ScanWarning, scanWarning } from '../../model/warning.js';
import type { FileMeta, WantedFile } from '../file.js';
import type { FileSelector, InflateAccount } from '../open.js';
import { readLimit, tooLargeWarning } from './layer-scan.js';
import { resolveInRoot } from './paths.js';
import type { SquashedNode, SquashedTree } from './squash.js';

export interface FinishContext {
  selector: FileSelector;
  maxFileBytes: number;
  maxCondenseBytes?: number;
  /** The image's inflate account, for archives nested in files condensed here (link targets). */
  inflate?: InflateAccount;
  warnings: ScanWarning[];
  /** The layer's diff-id for `WantedFile.layer` (undefined for root filesystems). */
  layerId(index: number): string | undefined;
  /**
   * Reads these paths' raw bytes from these layers, all in one call (a second, narrow pass for link targets: a
   * source read front to back makes it one more pass, not one per layer). The result is keyed like the request.
   */
  readRaw(wanted: ReadonlyMap<number, ReadonlySet<string>>): Promise<Map<number, Map<string, Buffer>>>;
}

interface LinkWanted {
  link: SquashedNode;
  target: SquashedNode;
  meta: FileMeta;
}

function wantedFile(
  path: string,
  layer: string | undefined,
  meta: FileMeta,
  content: Buffer,
  condensedBy?: string,
): WantedFile {
  const file: WantedFile = { path, meta, content };
  if (layer !== undefined) file.layer = layer;
  if (condensedBy) file.condensedBy = condensedBy;
  return file;
}

/** The walk's result from the squashed tree: kept files as they are, links resolved inside the root. */
export async function collectWanted(tree: SquashedTree, ctx: FinishContext): Promise<Map<string, WantedFile>> {
  const files = new Map<string, WantedFile>();
  const links: LinkWanted[] = [];
  const lookup = (path: string) => tree.get(path);
  for (const node of tree.live()) {
    if (node.type === 'file') {
      if (!node.content) continue;
      const file = wantedFile(
        node.path,
        ctx.layerId(node.layer),
        { size: node.size, mode: node.mode, type: 'file' },
        node.content,
        node.condensedBy,
      );
      if (node.history?.length) {
        file.history = node.history.map((h) => {
          const id = ctx.layerId(h.layer);
          return id === undefined ? { content: h.content } : { layer: id, content: h.content };
        });
      }
      files.set(node.path, file);
      continue;
    }
    if (node.type !== 'symlink' && node.type !== 'hardlink') continue;
    const resolved = resolveInRoot(node.path, lookup);
    if (!resolved.ok) {
      if (resolved.reason === 'missing' || resolved.reason === 'not-a-file') continue;
      const meta: FileMeta = { size: 0, mode: node.mode, type: node.type, linkTarget: node.linkTarget ?? '' };
      if (ctx.selector.wants(node.path, meta)) {
        const why = resolved.reason === 'escapes' ? 'points outside the image root' : 'is a link loop';
        ctx.warnings.push(scanWarning('image', `dropped: ${node.type} ${why}`, node.path));
      }
      continue;
    }
    const target = tree.get(resolved.path) as SquashedNode;
    // The target's own path: a hard link bound to a file later layers removed resolves to that file's private key.
    const meta: FileMeta = { size: target.size, mode: target.mode, type: node.type, linkTarget: target.path };
    if (!ctx.selector.wants(node.path, meta)) continue;
    if (readLimit(node.path, meta, ctx) === undefined) continue;
    links.push({ link: node, target, meta });
  }

  // Targets kept raw are condensed again under the link's name; the rest are read in one narrow pass per layer.
  const toRead = new Map<number, Set<string>>();
  for (const l of links) {
    if (l.target.raw && l.target.content) continue;
    const set = toRead.get(l.target.layer) ?? new Set<string>();
    set.add(l.target.path);
    toRead.set(l.target.layer, set);
  }
  const reread = toRead.size > 0 ? await ctx.readRaw(toRead) : new Map<number, Map<string, Buffer>>();
  for (const l of links) {
    const raw = l.target.raw && l.target.content ? l.target.content : reread.get(l.target.layer)?.get(l.target.path);
    if (!raw) continue;
    const kept = ctx.selector.condense(l.link.path, raw, l.meta, ctx.inflate);
    if (!kept) continue;
    if (raw.length > ctx.maxFileBytes && !kept.condensedBy) {
      ctx.warnings.push(tooLargeWarning(l.link.path, raw.length, ctx.maxFileBytes));
      continue;
    }
    files.set(
      l.link.path,
      wantedFile(l.link.path, ctx.layerId(l.target.layer), l.meta, kept.content, kept.condensedBy),
    );
  }
  return files;
}
