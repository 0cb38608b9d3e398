// The in-process caches behind `/diff` and `/gates/evaluate`: building an image's judged report from its rows (about
// 500 findings) and running the engine's diff over two of them cost ≈ 20 ms of JavaScript on the one API thread, so
// concurrent requests queued behind each other (issue 17's `/diff` budget at concurrency 8).
//
// A cache that can never serve stale data: an entry's key is a hash of EVERY input its value is computed from (the
// rows as read, the stored document's content address), and the value is a pure function of those inputs. Nothing
// has to invalidate anything: when a finding, an exception, a vulnerability row or the stored inventory changes,
// the rows read for the next request differ, so their hash does, and the old entry is simply never asked for again
// (LRU eviction removes it). The rows are still read on every request (cheap statements); only the work after the
// read is saved.
//
// Per process and per database handle (image ids mean nothing across databases), bounded by entries and by bytes.
import { createHash } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';

export interface CacheBounds {
  /** At most this many entries. */
  maxEntries: number;
  /** At most this many bytes (each entry's size as its producer estimates it); a larger entry is not kept. */
  maxBytes: number;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** A least-recently-used map bounded by entries and bytes (a Map keeps insertion order: the first is the oldest). */
export class BoundedCache<V> {
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(readonly bounds: CacheBounds) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    // re-inserting moves the key to the newest end
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, bytes: number): void {
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
    if (bytes > this.bounds.maxBytes || this.bounds.maxEntries < 1) return;
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.bounds.maxEntries && this.#bytes <= this.bounds.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
      this.#evictions++;
    }
  }

  stats(): CacheStats {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    };
  }
}

/**
 * The default bounds, relative to this process's heap limit (so a small container gets a small cache): reports up to
 * a sixth of it (at most 1 GiB), answers up to a thirty-second (at most 256 MiB). A judged report of 400 packages
 * and 500 findings holds ≈ 0.4 MB of objects (estimated at 0.5 MB: its rows and stored document as text, times
 * {@link OBJECT_OVERHEAD}); a `/diff` answer over two such images is ≈ 0.55 MB of JSON. With Node's default heap
 * limit on a 64-bit machine (≈ 4 GiB) that is ≈ 690 MiB: the 1,000 reports behind `/diff` on 500 repository
 * tracks (each image and the one before it), and ≈ 230 answers.
 */
const HEAP_LIMIT = getHeapStatistics().heap_size_limit;
const MiB = 1024 * 1024;
export const DEFAULT_REPORT_CACHE: CacheBounds = {
  maxEntries: 2_000,
  maxBytes: Math.min(1024 * MiB, Math.floor(HEAP_LIMIT / 6)),
};
export const DEFAULT_DIFF_CACHE: CacheBounds = {
  maxEntries: 500,
  maxBytes: Math.min(256 * MiB, Math.floor(HEAP_LIMIT / 32)),
};

/** Parsed objects weigh more than their JSON text: the factor the report estimate applies to its inputs' length. */
export const OBJECT_OVERHEAD = 2;

/** The two caches of one database handle. `T` is the judged report type (kept generic: this module reads none). */
export interface ReportCaches<T> {
  /** An image's judged report by {@link fingerprint} of its inputs. */
  reports: BoundedCache<T>;
  /** A `/diff` answer (its exact bytes) by the two reports' fingerprints. */
  diffs: BoundedCache<Buffer>;
  /** Reports being built now (by the key that missed), so concurrent requests for one image build it once. */
  building: Map<string, Promise<{ report: T; fingerprint: string }>>;
  /** How many reports were built (a miss that found the same report being built waits for it instead). */
  built: number;
}

const byOwner = new WeakMap<object, ReportCaches<unknown>>();

/** The caches of a database handle (made on first use, with the default bounds unless `configureReportCaches` ran). */
export function reportCachesOf<T>(owner: object): ReportCaches<T> {
  let caches = byOwner.get(owner);
  if (!caches) {
    caches = createCaches(DEFAULT_REPORT_CACHE, DEFAULT_DIFF_CACHE);
    byOwner.set(owner, caches);
  }
  return caches as ReportCaches<T>;
}

/** Replaces a database handle's caches with empty ones under other bounds (tests of the bounds, benchmarks). */
export function configureReportCaches(owner: object, bounds: { reports: CacheBounds; diffs: CacheBounds }): void {
  byOwner.set(owner, createCaches(bounds.reports, bounds.diffs));
}

function createCaches(reports: CacheBounds, diffs: CacheBounds): ReportCaches<unknown> {
  return { reports: new BoundedCache(reports), diffs: new BoundedCache(diffs), building: new Map(), built: 0 };
}

/** What a test or an operator may see of a handle's caches. */
export function reportCacheStats(owner: object): { reports: CacheStats & { built: number }; diffs: CacheStats } {
  const caches = reportCachesOf(owner);
  return { reports: { ...caches.reports.stats(), built: caches.built }, diffs: caches.diffs.stats() };
}

/**
 * A SHA-256 over inputs given as strings, each length-prefixed so that no two different input lists hash alike by
 * concatenation ("ab","c" vs "a","bc").
 */
export function fingerprint(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:`).update(part);
  return hash.digest('hex');
}
