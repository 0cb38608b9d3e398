import type { LayerOp, ScannedEntry } from './layer-scan.js';
import { parentOf, resolveInRoot } from './paths.js';

export interface SquashedNode extends ScannedEntry {
  /** Index of the layer that last wrote the path (bottom = 0). */
  layer: number;
  history?: { layer: number; content: Buffer }[];
}

/**
 * Where a hard link was bound when its layer was applied: the file node its target named at that moment (undefined
 * when the target did not exist yet, as for a runtime that extracts the tar in order), under a key of its own.
 */
interface LinkBinding {
  key: string;
  target: SquashedNode | undefined;
}

/** Keys of bound link targets start with a NUL, which no path a runtime can create holds. */
const BOUND_PREFIX = '/\0';

/**
 * The squashed view of an image, built bottom layer first. Deleting a directory's contents (whiteout of a directory,
 * opaque marker, or a directory replaced by a file) is recorded once as "everything below D from layers under k
 * is gone" instead of visiting every descendant; a node is alive when no ancestor was cleared above its layer.
 *
 * Hard links are bound to their target's node when their layer is applied, as an in-order unpack links to the inode
 * the target path holds then: later whiteouts or overwrites of the target path do not change what the link shows.
 */
export class SquashedTree {
  private readonly nodes = new Map<string, SquashedNode>();
  private readonly clearedBelow = new Map<string, number>();
  /**
   * Directories some layer created, explicitly or as the parent of an entry: only those can be hidden by a file or
   * link written over them. May keep paths whose contents are gone (hiding them again is harmless).
   */
  private readonly dirs = new Set<string>();
  /** The last parent whose ancestors are all in `dirs` (entries come grouped by directory). */
  private lastParent: string | undefined;
  private readonly links = new Map<SquashedNode, LinkBinding>();
  private readonly boundTargets = new Map<string, SquashedNode>();

  constructor(private readonly wantsHistory: (path: string) => boolean) {}

  private alive(node: SquashedNode): boolean {
    if (this.clearedBelow.size === 0) return true;
    for (let dir = parentOf(node.path); ; dir = parentOf(dir)) {
      const cleared = this.clearedBelow.get(dir);
      if (cleared !== undefined && cleared > node.layer) return false;
      if (dir === '/') return true;
    }
  }

  private clearBelow(dir: string, layer: number): void {
    this.clearedBelow.set(dir, Math.max(this.clearedBelow.get(dir) ?? -1, layer));
  }

  /** Records `path` and every ancestor as directories. */
  private addDirs(path: string): void {
    for (let dir = path; dir !== '/' && dir !== this.lastParent; dir = parentOf(dir)) this.dirs.add(dir);
  }

  /** Applies one layer's operations (deletions hit lower layers only, whatever their order in the tar). */
  apply(layer: number, ops: readonly LayerOp[]): void {
    for (const op of ops) {
      if (op.kind === 'whiteout') {
        const old = this.nodes.get(op.path);
        if (old && old.layer < layer) this.nodes.delete(op.path);
        this.clearBelow(op.path, layer);
      } else if (op.kind === 'opaque') {
        this.clearBelow(op.path, layer);
      }
    }
    for (const op of ops) {
      if (op.kind === 'dir') {
        const old = this.nodes.get(op.path);
        if (old && old.layer < layer) this.nodes.delete(op.path);
        this.addDirs(op.path);
      } else if (op.kind === 'entry') {
        this.put(layer, op.entry);
      }
    }
  }

  private put(layer: number, entry: ScannedEntry): void {
    // The walk's entries become the tree's nodes in place (a copy of each of thousands of entries showed in profiles);
    // one already placed (a layer listed twice shares its scan) is copied instead.
    let node = entry as SquashedNode;
    if ('layer' in entry) {
      const { history: _placedBefore, ...fresh } = entry as SquashedNode;
      node = { ...fresh, layer };
    }
    node.layer = layer;
    const old = this.nodes.get(entry.path);
    if (old && old.layer < layer && this.alive(old) && old.content && this.wantsHistory(entry.path)) {
      node.history = [...(old.history ?? []), { layer: old.layer, content: old.content }];
    }
    // Whatever lower layers had under this path as a directory (listed or only implied by its contents) is hidden
    // by a non-directory.
    if (this.dirs.delete(entry.path)) {
      this.clearBelow(entry.path, layer);
      this.lastParent = undefined;
    }
    const parent = parentOf(entry.path);
    if (parent !== this.lastParent) {
      this.addDirs(parent);
      this.lastParent = parent;
    }
    if (node.type === 'hardlink') this.bind(node);
    this.nodes.set(entry.path, node);
  }

  /** Binds a hard link to the file its target names now; links that escape or loop are left to fail as before. */
  private bind(link: SquashedNode): void {
    const resolved = resolveInRoot(link.linkTarget ?? '', (path) => this.get(path));
    if (!resolved.ok && (resolved.reason === 'escapes' || resolved.reason === 'loop')) return;
    const target = resolved.ok ? this.get(resolved.path) : undefined;
    const key = `${BOUND_PREFIX}${this.links.size}${target?.path ?? ''}`;
    this.links.set(link, { key, target });
    if (target) this.boundTargets.set(key, target);
  }

  /** The node a plain path lookup sees (hard links as their entry records them). */
  private plain(path: string): SquashedNode | undefined {
    const node = this.nodes.get(path);
    return node && this.alive(node) ? node : undefined;
  }

  /**
   * A bound hard link as lookups see it: unchanged while its target path still leads to the bound file, else
   * pointing at the bound file's own key (or at nothing, when its target did not exist when it was made).
   */
  private linkView(link: SquashedNode): SquashedNode {
    const binding = this.links.get(link);
    if (!binding) return link;
    if (binding.target) {
      const now = resolveInRoot(link.linkTarget ?? '', (path) => this.plain(path));
      if (now.ok && this.plain(now.path) === binding.target) return link;
    }
    return { ...link, linkTarget: binding.key };
  }

  get(path: string): SquashedNode | undefined {
    if (path.startsWith(BOUND_PREFIX)) return this.boundTargets.get(path);
    const node = this.plain(path);
    return node?.type === 'hardlink' ? this.linkView(node) : node;
  }

  /** Live nodes, in no particular order. */
  *live(): Generator<SquashedNode> {
    for (const node of this.nodes.values()) if (this.alive(node)) yield node;
  }
}
