/** What pass 1 learns of one entry: enough to decide, before any byte is copied, which entries survive. */
export interface PlannedEntry {
  layer: number;
  /** Position in its layer's tar (whiteouts and dropped records counted too). */
  index: number;
  path: string;
  typeflag: string;
  /** Hard links: the path they link to, normalized. */
  linkname?: string;
  /** Hard links: the node their target named when their layer was applied (undefined: none). */
  bound?: PlannedEntry;
}

export interface LayerOps {
  whiteouts: string[];
  opaque: string[];
  entries: PlannedEntry[];
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Sorts a layer's entry into whiteout, opaque marker or content (a path, not yet a node). */
export function classify(ops: LayerOps, entry: PlannedEntry): void {
  const slash = entry.path.lastIndexOf('/');
  const dir = slash === -1 ? '' : entry.path.slice(0, slash);
  const base = entry.path.slice(slash + 1);
  if (base === OPAQUE) ops.opaque.push(dir);
  else if (base.startsWith(WHITEOUT))
    ops.whiteouts.push(dir ? `${dir}/${base.slice(WHITEOUT.length)}` : base.slice(WHITEOUT.length));
  else ops.entries.push(entry);
}

/**
 * The squashed view as a set of surviving entries, applied layer by layer as an in-order unpack would: a layer's
 * whiteouts and opaque markers hide lower layers only; a non-directory written over a directory hides what was
 * below it; a hard link stays bound to the node its target named when its layer was applied (the engine's squash
 * rule) and is dropped when that node does not survive, since one layer cannot link to content it does not hold.
 */
export class FlattenPlan {
  private readonly nodes = new Map<string, PlannedEntry>();
  /**
   * Every path some layer made a directory, listed or implied by an entry below it: only those can have
   * descendants, so deleting any other path (most whiteouts) needs no scan of the tree.
   */
  private readonly dirs = new Set<string>();
  readonly droppedLinks: string[] = [];

  private addParents(path: string): void {
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      const dir = path.slice(0, slash);
      if (this.dirs.has(dir)) return;
      this.dirs.add(dir);
    }
  }

  private removeBelow(dir: string, layer: number, self: boolean): void {
    if (self) {
      const node = this.nodes.get(dir);
      if (node && node.layer < layer) this.nodes.delete(dir);
    }
    if (dir !== '' && !this.dirs.has(dir)) return;
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const [path, node] of this.nodes) {
      if (node.layer >= layer) continue;
      if (path.startsWith(prefix)) this.nodes.delete(path);
    }
  }

  apply(layer: number, ops: LayerOps): void {
    for (const path of ops.whiteouts) this.removeBelow(path, layer, true);
    for (const dir of ops.opaque) this.removeBelow(dir, layer, false);
    for (const entry of ops.entries) {
      const old = this.nodes.get(entry.path);
      if (old?.typeflag === '5' && entry.typeflag !== '5') this.removeBelow(entry.path, layer + 1, false);
      if (entry.typeflag === '5') this.dirs.add(entry.path);
      this.addParents(entry.path);
      if (entry.typeflag === '1') entry.bound = this.nodes.get(entry.linkname ?? '');
      this.nodes.set(entry.path, entry);
    }
  }

  /** The surviving entries per layer, as sets of tar positions. */
  survivors(layers: number): Set<number>[] {
    const out = Array.from({ length: layers }, () => new Set<number>());
    for (const node of this.nodes.values()) {
      if (node.typeflag === '1' && !this.linkHolds(node)) {
        this.droppedLinks.push(node.path);
        continue;
      }
      out[node.layer]?.add(node.index);
    }
    this.droppedLinks.sort();
    return out;
  }

  /** A hard link holds when the node it was bound to survives, and, for a link to a link, that one holds too. */
  private linkHolds(link: PlannedEntry, depth = 0): boolean {
    const bound = link.bound;
    if (!bound || this.nodes.get(bound.path) !== bound || depth > 64) return false;
    return bound.typeflag !== '1' || this.linkHolds(bound, depth + 1);
  }
}
