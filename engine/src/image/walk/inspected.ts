import type { InspectedFile } from '../file.js';
import type { LayerOp } from './layer-scan.js';
import { parentOf } from './paths.js';

/**
 * The inspector's results of every layer, each with the first later layer that deleted or replaced that version of
 * its path: a whiteout of the path or of a directory above it, an opaque directory above it, or a new entry (file,
 * link or directory) at the path or at a directory above it. A secret written in one layer and deleted in the next
 * is still in the image's blobs: it is reported with both layers.
 */
export function collectInspected(
  perLayer: readonly { ops: readonly LayerOp[] }[],
  layerId: (index: number) => string | undefined,
): InspectedFile[] {
  const found: { index: number; path: string; result: unknown }[] = [];
  for (const [index, layer] of perLayer.entries()) {
    for (const op of layer.ops) if (op.kind === 'inspected') found.push({ index, path: op.path, result: op.result });
  }
  if (found.length === 0) return [];
  // Only the paths (and their directories) that hold results matter: index just those of each layer's changes.
  const watched = new Set<string>();
  for (const f of found) for (let p = f.path; p !== '/' && p !== ''; p = parentOf(p)) watched.add(p);
  const changes = perLayer.map(({ ops }) => {
    const hits = new Map<string, Change>();
    for (const op of ops) {
      if (op.kind === 'inspected') continue;
      const path = op.kind === 'entry' ? op.entry.path : op.path;
      if (!watched.has(path)) continue;
      const change: Change = op.kind === 'opaque' ? 'opaque' : op.kind === 'dir' ? 'dir' : 'gone';
      // A whiteout or an entry wins over a directory listing or an opaque marker at the same path.
      if (hits.get(path) !== 'gone') hits.set(path, change);
    }
    return hits;
  });
  return found.map((f) => {
    const out: InspectedFile = { path: f.path, result: f.result };
    const layer = layerId(f.index);
    if (layer !== undefined) out.layer = layer;
    for (let j = f.index + 1; j < perLayer.length; j++) {
      if (removes(changes[j] as Map<string, Change>, f.path)) {
        const id = layerId(j);
        if (id !== undefined) out.removedIn = id;
        break;
      }
    }
    return out;
  });
}

/** What a layer did at a path: deleted or replaced it (`gone`), listed it as a directory, or made it opaque. */
type Change = 'gone' | 'dir' | 'opaque';

/** Whether a layer's changes remove the file at `path` that a lower layer wrote. */
function removes(changes: ReadonlyMap<string, Change>, path: string): boolean {
  const own = changes.get(path);
  // At the path itself: a whiteout or a new entry replaces the file, and so does a directory put in its place.
  if (own === 'gone' || own === 'dir') return true;
  for (let dir = parentOf(path); dir !== '/' && dir !== ''; dir = parentOf(dir)) {
    const above = changes.get(dir);
    // A whiteout or a non-directory at a directory above removes all below it; so does an opaque marker there.
    if (above === 'gone' || above === 'opaque') return true;
  }
  return false;
}
