import type { LayerOp, ScannedEntry } from './layer-scan.js';
import { parentOf } from './paths.js';

export interface SquashedNode extends ScannedEntry {
  /** Index of the layer that last wrote the path (bottom = 0). */
  layer: number;
  history?: { layer: number; content: Buffer }[];
}

/**
 * The squashed view of an image, built bottom layer first. Deleting a directory's contents (whiteout of a directory,
 * opaque marker, or a directory replaced by a file) is recorded once as "everything below D from layers under k
 * is gone" instead of visiting every descendant; a node is alive when no ancestor was cleared above its layer.
 */
export class SquashedTree {
  private readonly nodes = new Map<string, SquashedNode>();
  private readonly clearedBelow = new Map<string, number>();
  /** Directories some layer created: only those can be hidden by a file or link written over them. */
  private readonly dirs = new Set<string>();

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
        this.dirs.add(op.path);
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
    // Whatever a lower layer had under this path as a directory is hidden by a non-directory.
    if (this.dirs.delete(entry.path)) this.clearBelow(entry.path, layer);
    this.nodes.set(entry.path, node);
  }

  get(path: string): SquashedNode | undefined {
    const node = this.nodes.get(path);
    return node && this.alive(node) ? node : undefined;
  }

  /** Live nodes, in no particular order. */
  *live(): Generator<SquashedNode> {
    for (const node of this.nodes.values()) if (this.alive(node)) yield node;
  }
}
