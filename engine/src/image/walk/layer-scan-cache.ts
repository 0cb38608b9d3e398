import { createHash } from 'node:crypto';
import type { ScanWarning } from '../../model/warning.js';
import type { ImageLayer } from '../image.js';
import type { LayerScanCache } from '../open.js';
import type { LayerOp, ScannedEntry } from './layer-scan.js';

/**
 * One layer's scan as the walk made it: a pure function of the layer's bytes, the selector and the caps, so it can
 * be kept under a key naming those and reused by any image holding the same layer. What it cannot hold is what
 * depends on the other layers (the squash, link targets, the catalogers): the walk still does all of that.
 */
export interface CachedLayerScan {
  ops: LayerOp[];
  warnings: ScanWarning[];
  /** Tar entries the scan counted, held against the walk's entry limit again on reuse. */
  entries: number;
  /** Bytes the layer inflated to, held against the walk's inflate limit again on reuse. */
  inflated: number;
}

/** The key of a layer's scan: the caller's scope, the bytes (diff-id, blob digest, read in place or streamed), the caps. */
export function layerScanKey(
  cache: LayerScanCache,
  layer: ImageLayer,
  inPlace: boolean,
  caps: { maxFileBytes: number; maxCondenseBytes?: number | undefined },
): string {
  const material = [
    'layer-scan',
    cache.scope,
    layer.info.diffId,
    layer.info.digest ?? null,
    inPlace,
    caps.maxFileBytes,
    caps.maxCondenseBytes ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

type StoredEntry = Omit<ScannedEntry, 'content'> & { content?: string };
type StoredOp = Exclude<LayerOp, { kind: 'entry' }> | { kind: 'entry'; entry: StoredEntry };

export function encodeLayerScan(scan: CachedLayerScan): Buffer {
  const ops: StoredOp[] = scan.ops.map((op) => {
    if (op.kind !== 'entry' || !op.entry.content) return op as StoredOp;
    return { kind: 'entry', entry: { ...op.entry, content: op.entry.content.toString('base64') } };
  });
  return Buffer.from(JSON.stringify({ ops, warnings: scan.warnings, entries: scan.entries, inflated: scan.inflated }));
}

const OP_KINDS = new Set(['whiteout', 'opaque', 'dir', 'entry', 'inspected']);
const ENTRY_TYPES = new Set(['file', 'symlink', 'hardlink', 'other']);

/** The scan `encodeLayerScan` wrote, or undefined for anything else (the cache's own checksum passed already). */
export function decodeLayerScan(raw: Buffer): CachedLayerScan | undefined {
  let doc: { ops?: unknown; warnings?: unknown; entries?: unknown; inflated?: unknown };
  try {
    doc = JSON.parse(raw.toString('utf8')) as typeof doc;
  } catch {
    return undefined;
  }
  const { ops, warnings, entries, inflated } = doc ?? {};
  if (!Array.isArray(ops) || !Array.isArray(warnings) || typeof entries !== 'number' || typeof inflated !== 'number') {
    return undefined;
  }
  const decoded: LayerOp[] = [];
  for (const op of ops as StoredOp[]) {
    if (!op || typeof op !== 'object' || !OP_KINDS.has(op.kind)) return undefined;
    if (op.kind !== 'entry') {
      if (typeof op.path !== 'string') return undefined;
      decoded.push(op);
      continue;
    }
    const e = op.entry;
    if (!e || typeof e.path !== 'string' || !ENTRY_TYPES.has(e.type) || typeof e.size !== 'number') return undefined;
    if (e.content === undefined) decoded.push(op as LayerOp);
    else if (typeof e.content !== 'string') return undefined;
    else decoded.push({ kind: 'entry', entry: { ...e, content: Buffer.from(e.content, 'base64') } });
  }
  return { ops: decoded, warnings: warnings as ScanWarning[], entries, inflated };
}
