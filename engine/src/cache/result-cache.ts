import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogLimits } from '../catalog/cataloger.js';
import type { LayerScanCache } from '../image/open.js';
import type { Inventory } from '../model/inventory.js';
import type { TargetInfo } from '../model/target.js';
import { LADING_VERSION } from '../version.js';

/** Bump when what an entry holds, or how the key is made, changes: older entries then simply miss. */
export const RESULT_CACHE_FORMAT = 1;

/** The default size cap of a result cache directory: 512 MiB, least recently used entries evicted first. */
export const DEFAULT_RESULT_CACHE_MAX_BYTES = 512 * 1024 ** 2;

export interface ResultCacheOptions {
  /** Where entries live (the CLI passes `$XDG_CACHE_HOME/lading/results` unless told otherwise). */
  dir: string;
  /** Total bytes of entries kept; the least recently used go first past it (default 512 MiB). */
  maxBytes?: number;
}

/**
 * The scope of layer scans kept for walks with these catalogers: a layer's scan depends on the selector (the union
 * of the catalogers' tests) besides the layer and the walk's caps, which the walk's own key adds.
 */
export function layerScanScope(catalogers: readonly { id: string; version: number }[]): string {
  return JSON.stringify({
    format: RESULT_CACHE_FORMAT,
    engine: LADING_VERSION,
    catalogers: catalogers.map((c) => [c.id, c.version]),
  });
}

/** Everything a catalog result depends on, besides the code that computes it. */
export interface ResultCacheKeyInput {
  target: TargetInfo;
  /** The catalogers that ran, each with the version it bumps when its output changes. */
  catalogers: readonly { id: string; version: number }[];
  limits: CatalogLimits;
  /** The walk's decompression-bomb cap: a result that needed more must not be served under a smaller cap. */
  maxInflatedBytes?: number | undefined;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ENTRY = /^[a-f0-9]{64}\.json$/;
const MAGIC = 'lading-result-cache';

/**
 * The cache key of an image's catalog, or undefined when the image is not wholly named by digests (a root
 * filesystem, an SBOM, a layer without a diff-id). The config digest fixes the diff-ids and the history the
 * layer attribution reads; each layer's blob digest, when it has one, fixes the bytes a walk inflates. The
 * catalogers' ids and versions, the limits, the engine version and the format version complete it.
 */
export function resultCacheKey(input: ResultCacheKeyInput): string | undefined {
  const { target } = input;
  if (target.kind !== 'image' || !target.imageId || !DIGEST.test(target.imageId)) return undefined;
  if (!target.layers.every((l) => DIGEST.test(l.diffId) && (l.digest === undefined || DIGEST.test(l.digest)))) {
    return undefined;
  }
  const material = {
    format: RESULT_CACHE_FORMAT,
    engine: LADING_VERSION,
    imageId: target.imageId,
    layers: target.layers.map((l) => [l.diffId, l.digest ?? null]),
    catalogers: input.catalogers.map((c) => [c.id, c.version]),
    limits: [
      input.limits.maxFileBytes,
      input.limits.maxInflateBytes,
      input.limits.maxArchiveDepth,
      input.limits.maxPackagesPerFile,
    ],
    maxInflatedBytes: input.maxInflatedBytes ?? null,
  };
  return createHash('sha256').update(JSON.stringify(material)).digest('hex');
}

/**
 * Catalog results on disk, one file per key: written atomically (a temp file renamed into place), checked on
 * read (each entry carries the sha256 of its content; a corrupt or unreadable entry is a miss and is deleted),
 * capped in size (least recently used first, by mtime, which a hit refreshes). The cache never fails a scan:
 * a directory it cannot write to just means nothing is stored.
 */
export class ResultCache {
  private readonly dir: string;
  private readonly maxBytes: number;

  constructor(options: ResultCacheOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? DEFAULT_RESULT_CACHE_MAX_BYTES;
  }

  /** The inventory stored under `key`, or undefined (a miss, including a corrupt entry, which is removed). */
  async get(key: string): Promise<Inventory | undefined> {
    const payload = await this.getBytes(key);
    const inventory = payload ? parseInventory(payload) : undefined;
    if (payload && !inventory) await unlink(this.entryPath(key)).catch(() => {});
    return inventory;
  }

  /** Stores `inventory` under `key` (as it is now: it is serialised before this returns), then enforces the cap. */
  async put(key: string, inventory: Inventory): Promise<void> {
    await this.putBytes(key, Buffer.from(JSON.stringify(inventory)));
  }

  /**
   * The layer scans of walks (`WalkOptions.layerCache`) kept beside the inventories, under the same cap: `scope`
   * names what a scan depends on besides its layer (see `layerScanScope`).
   */
  layerScans(scope: string): LayerScanCache {
    return { scope, get: (key) => this.getBytes(key), put: (key, value) => this.putBytes(key, value) };
  }

  /** The checked payload stored under `key`, or undefined (a corrupt entry is removed). */
  async getBytes(key: string): Promise<Buffer | undefined> {
    const file = this.entryPath(key);
    let raw: Buffer;
    try {
      raw = await readFile(file);
    } catch {
      return undefined;
    }
    const payload = decodeEntry(raw);
    if (!payload) {
      await unlink(file).catch(() => {});
      return undefined;
    }
    // The mtime is the recency the eviction goes by.
    const now = new Date();
    await utimes(file, now, now).catch(() => {});
    return payload;
  }

  /** Stores `payload` under `key` with its checksum, atomically, then enforces the cap; never throws. */
  async putBytes(key: string, payload: Buffer): Promise<void> {
    const entry = encodeEntry(payload);
    if (entry.length > this.maxBytes) return;
    const file = this.entryPath(key);
    const temp = join(this.dir, `.${key}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(temp, entry);
      await rename(temp, file);
    } catch {
      await unlink(temp).catch(() => {});
      return;
    }
    await this.evict(key).catch(() => {});
  }

  private entryPath(key: string): string {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new TypeError(`not a result cache key: ${key}`);
    return join(this.dir, `${key}.json`);
  }

  /** Removes the least recently used entries until the rest fit the cap (the one just written stays). */
  private async evict(keep: string): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => ENTRY.test(n));
    const entries: { name: string; size: number; mtime: number }[] = [];
    for (const name of names) {
      try {
        const st = await stat(join(this.dir, name));
        entries.push({ name, size: st.size, mtime: st.mtimeMs });
      } catch {
        // Removed meanwhile by another process: nothing to count.
      }
    }
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    entries.sort((a, b) => a.mtime - b.mtime || (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      if (e.name === `${keep}.json`) continue;
      await unlink(join(this.dir, e.name)).catch(() => {});
      total -= e.size;
    }
  }
}

/** `lading-result-cache <format> sha256:<hex of the payload>\n<payload>` */
function encodeEntry(payload: Buffer): Buffer {
  const digest = createHash('sha256').update(payload).digest('hex');
  return Buffer.concat([Buffer.from(`${MAGIC} ${RESULT_CACHE_FORMAT} sha256:${digest}\n`), payload]);
}

function decodeEntry(raw: Buffer): Buffer | undefined {
  const newline = raw.indexOf(0x0a);
  if (newline < 0) return undefined;
  const header = /^lading-result-cache (\d+) sha256:([a-f0-9]{64})$/.exec(raw.subarray(0, newline).toString('latin1'));
  if (!header || Number(header[1]) !== RESULT_CACHE_FORMAT) return undefined;
  const payload = raw.subarray(newline + 1);
  if (createHash('sha256').update(payload).digest('hex') !== header[2]) return undefined;
  return payload;
}

function parseInventory(payload: Buffer): Inventory | undefined {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as Partial<Inventory> | null;
    if (!parsed || !Array.isArray(parsed.packages) || !Array.isArray(parsed.warnings)) return undefined;
    return parsed as Inventory;
  } catch {
    return undefined;
  }
}
