import { pipeline } from 'node:stream';
import { abortedError, throwIfAborted, untilAborted } from '../../errors/abort.js';
import { isLadingError, LadingError, thrownValueText } from '../../errors/lading-error.js';
import type { ScanWarning } from '../../model/warning.js';
import type { Image, ImageLayer, ReadArchiveOnce, StreamedLayer } from '../image.js';
import { decompress, type LayerCompression, sniffStream, zstdChecksFrames } from '../layer/decompress.js';
import { hashFileRangeOffThread } from '../layer/hash-thread.js';
import { inflateOffThread } from '../layer/inflate-thread.js';
import { checkMeasured, counting, measuring, verifying } from '../layer/verify.js';
import type { FileSelector, WalkOptions, WalkResult } from '../open.js';
import type { ProgressListener } from '../progress.js';
import { type ByteSource, FileRangeSource, StreamByteSource } from '../tar/byte-source.js';
import { TarReader } from '../tar/tar-reader.js';
import { DEFAULT_MAX_INFLATED_BYTES, type InflateBudget, nestedAccount } from './inflate-account.js';
import { collectInspected } from './inspected.js';
import { type LayerOp, OneAtATime, type ScanContext, scanLayerTar } from './layer-scan.js';
import { decodeLayerScan, encodeLayerScan, layerScanKey } from './layer-scan-cache.js';
import { ProgressMeter } from './progress-meter.js';
import { SquashedTree } from './squash.js';
import { collectWanted } from './wanted.js';

export { DEFAULT_MAX_INFLATED_BYTES };

const LAYER_CONCURRENCY = 4;
/** Every path costs a little memory in the squashed tree; real images hold well under a million. */
export const DEFAULT_MAX_ENTRIES = 4_000_000;
/**
 * Entries the members of a compressed archive that are not the image's (other images, stray members) may add on top
 * of the image's own limit: which members are the image's is known only from the manifest, usually last, so every
 * member's entries are kept until then. Each costs memory: millions of empty entries in members the manifest never
 * names reached 2.7 GB when the archive as a whole was allowed four times the image's limit.
 */
export const DEFAULT_MAX_OTHER_ENTRIES = 1_000_000;
/** A header claiming more than this is not a file any image holds. */
const MAX_TAR_ENTRY = 1024 ** 4;

export interface ImageWalkOptions extends WalkOptions {
  /** See `OpenOptions.onProgress`. */
  onProgress?: ProgressListener | undefined;
  /** See `OpenOptions.signal`. */
  signal?: AbortSignal | undefined;
  /** See `OpenOptions.verifyDiffIds`. */
  verifyDiffIds?: boolean | undefined;
  /** See `OpenOptions.inflateThreads`. */
  inflateThreads?: boolean | undefined;
}

/** Opens a layer's tar: seeking in place when it is a plain tar in a local file, else streamed and verified. */
async function layerSource(
  layer: ImageLayer,
  budget: InflateBudget,
  progress: ProgressMeter,
  verifyDiffIds: boolean,
  signal: AbortSignal | undefined,
  inflateThreads: boolean,
  counts?: LayerCounts,
): Promise<ByteSource> {
  if (layer.seekable && !verifyDiffIds) {
    uncompressedMatchesDiffId(layer);
    const { file, offset, size } = layer.seekable;
    // Read in place, nothing is inflated; its bytes still count against the image's limit, as on every other source.
    spend(budget, size);
    return FileRangeSource.open(file, offset, size);
  }
  // A registry may keep us waiting for the response: an abort stops the wait and drops a late stream.
  const opened = await untilAborted(layer.open(), signal, (late) => late.destroy());
  const fetched = layer.remote
    ? pipeline(
        opened,
        counting((n) => progress.addDownloaded(n)),
        () => {},
      )
    : opened;
  // Sniffing waits for the first bytes, which a stalled source may never send: an abort ends that wait too.
  const stopSniff = () => fetched.destroy(abortedError());
  signal?.addEventListener('abort', stopSniff, { once: true });
  let sniffed: Awaited<ReturnType<typeof sniffStream>>;
  try {
    sniffed = await sniffStream(fetched);
  } finally {
    signal?.removeEventListener('abort', stopSniff);
  }
  const { stream: raw, compression } = sniffed;
  if (compression === 'none') {
    try {
      uncompressedMatchesDiffId(layer);
    } catch (err) {
      // Refused before anything reads it: close it here, or its file or socket stays open.
      raw.destroy();
      throw err;
    }
  }
  const onBytes = inflateCounter(budget, progress, counts);
  if (compression === 'gzip' && inflateThreads) {
    // Inflate (and hash the diff-id, when no blob digest covered it) on a worker thread, overlapping the tar parse.
    const expected = layer.verifiedBlob && !verifyDiffIds ? {} : { expected: layer.info.diffId };
    return new StreamByteSource(inflateOffThread(raw, { ...expected, onBytes }));
  }
  const stream = decompress(raw, compression);
  // A blob the source verified fixes its uncompressed bytes (and an uncompressed one is its own diff-id): hashing
  // them again proves nothing about the content, only that the config describes it truly, which runtimes check
  // when they unpack. Layers no digest covered, and every layer under --verify-diff-ids, are checked.
  const blobVerified = layer.verifiedBlob === true && !uncheckedZstd(compression);
  const alreadyVerified =
    blobVerified && ((compression === 'none' && layer.info.digest === layer.info.diffId) || !verifyDiffIds);
  const checked = alreadyVerified
    ? counting(onBytes)
    : verifying(layer.info.diffId, 'uncompressed content (diff-id)', { onBytes });
  return new StreamByteSource(pipeline(stream, checked, () => {}));
}

/** A verified zstd blob still needs its diff-id checked where the decoder skips the frames' checksums. */
function uncheckedZstd(compression: LayerCompression): boolean {
  return compression === 'zstd' && !zstdChecksFrames();
}

/**
 * An uncompressed blob's digest is its diff-id: a verified blob digest (or a digest-named member read in place)
 * that differs from the config's diff-id is a mismatch, whatever its bytes say.
 */
function uncompressedMatchesDiffId(layer: ImageLayer, where = ''): void {
  const { digest, diffId } = layer.info;
  if (digest !== undefined && digest !== diffId) {
    throw new LadingError(
      'DIGEST_MISMATCH',
      `${where}uncompressed layer ${digest} does not match its diff-id ${diffId}`,
    );
  }
}

/** Counts inflated bytes against the walk's budget (a decompression bomb cap) and the progress line. */
function inflateCounter(budget: InflateBudget, progress: ProgressMeter, counts?: LayerCounts): (n: number) => void {
  return (n: number) => {
    if (counts) counts.inflated += n;
    spend(budget, n);
    progress.addBytes(n);
  };
}

function spend(budget: InflateBudget, n: number): void {
  budget.left -= n;
  if (budget.left < 0) throw new LadingError('LIMIT', `layers inflate past the ${budget.max}-byte limit`);
}

/** What one layer's first scan counted against the walk's limits: kept with its scan, charged again on reuse. */
interface LayerCounts {
  entries: number;
  inflated: number;
}

async function scanLayer(
  layer: ImageLayer,
  ctx: ScanContext,
  setup: Pick<WalkSetup, 'budget' | 'progress' | 'verifyDiffIds' | 'signal' | 'inflateThreads'>,
  /** Hash a layer read in place against its diff-id too (the result cache stores only checked content). */
  hashInPlace = false,
  counts?: LayerCounts,
): Promise<LayerOp[]> {
  const { budget, progress, verifyDiffIds, signal, inflateThreads } = setup;
  const src = await layerSource(layer, budget, progress, verifyDiffIds, signal, inflateThreads, counts);
  // A stream waiting on its source (a slow registry, an inflate thread) is destroyed at once on abort, which ends
  // the wait, closes the file or socket and terminates the thread; reads in place stop at the next entry instead.
  const stop = () => void src.close();
  const streamed = src instanceof StreamByteSource;
  if (streamed) signal?.addEventListener('abort', stop, { once: true });
  try {
    throwIfAborted(signal);
    const inPlace = hashInPlace && layer.seekable && !verifyDiffIds ? hashRange(layer, signal) : undefined;
    // Awaited after the walk; should the walk fail first, its rejection must not go unhandled.
    inPlace?.catch(() => {});
    const ops = await scanLayerTar(new TarReader(src, { maxEntryBytes: MAX_TAR_ENTRY }), ctx);
    // Read to the end so the digest check sees every byte (tars are followed by zero padding).
    await src.drain();
    await inPlace;
    // A layer read in place (an uncompressed archive or layout member) passes no stream that counts its bytes: it
    // counts as read, whole, once walked, so the progress line of a docker-archive does not stay at 0 MiB.
    if (!streamed && layer.seekable) progress.addBytes(layer.seekable.size);
    return ops;
  } finally {
    if (streamed) signal?.removeEventListener('abort', stop);
    await src.close();
  }
}

/** Hashes an uncompressed layer stored in place in a local file (off the main thread) against its diff-id. */
async function hashRange(layer: ImageLayer, signal: AbortSignal | undefined): Promise<void> {
  const { file, offset, size } = layer.seekable as NonNullable<ImageLayer['seekable']>;
  const { diffId } = layer.info;
  const measured = await hashFileRangeOffThread(file, offset, size, diffId, signal);
  checkMeasured(measured, diffId, 'uncompressed content (diff-id)');
}

function describeLayerError(ref: string, layer: ImageLayer, err: unknown): LadingError {
  return describeReadError(`cannot read layer ${layer.info.digest ?? layer.info.diffId} of ${ref}`, err);
}

/** One line naming what could not be read; the cause's code is kept (BAD_INPUT for errors that are not ours). */
function describeReadError(what: string, err: unknown): LadingError {
  if (isLadingError(err)) return new LadingError(err.code, `${what}: ${err.message}`, { cause: err });
  const message = thrownValueText(err);
  return new LadingError('BAD_INPUT', `${what}: ${message}`, { cause: err });
}

/** Runs `work` over items with at most `limit` in flight; the first failure stops new work and is rethrown. */
async function boundedAll<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i] as T, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}

interface WalkSetup {
  warnings: ScanWarning[];
  budget: InflateBudget;
  progress: ProgressMeter;
  verifyDiffIds: boolean;
  signal: AbortSignal | undefined;
  inflateThreads: boolean;
  /** A fresh context for one layer's scan; `counts` (when given) gets its entries. */
  layerContext(counts?: LayerCounts): ScanContext;
  /** Charges entries a layer scan counted before (a reused scan) against the walk's entry limit. */
  countEntries(n: number): void;
  caps: { maxCondenseBytes?: number };
}

type AllWalkOptions = ImageWalkOptions & { maxInflatedBytes?: number; maxEntries?: number; maxOtherEntries?: number };

function setUp(
  selector: FileSelector,
  options: AllWalkOptions,
  layers: number | undefined,
  entriesAllowed = options.maxEntries ?? DEFAULT_MAX_ENTRIES,
): WalkSetup {
  let entriesLeft = entriesAllowed;
  const { signal } = options;
  const countEntries = (n: number) => {
    entriesLeft -= n;
    if (entriesLeft < 0) throw new LadingError('LIMIT', 'image holds more tar entries than the walk tracks');
  };
  const countEntry = () => {
    countEntries(1);
    throwIfAborted(signal);
  };
  const max = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const oversized = new OneAtATime();
  const caps = options.maxCondenseBytes !== undefined ? { maxCondenseBytes: options.maxCondenseBytes } : {};
  const budget: InflateBudget = { left: max, max };
  return {
    warnings: [],
    budget,
    progress: new ProgressMeter(options.onProgress, layers),
    verifyDiffIds: options.verifyDiffIds === true,
    signal,
    inflateThreads: options.inflateThreads === true,
    caps,
    countEntries,
    layerContext: (counts) => ({
      selector,
      maxFileBytes: options.maxFileBytes,
      ...caps,
      oversized,
      inflate: nestedAccount(budget, counts),
      warnings: [],
      countEntry: counts
        ? () => {
            counts.entries++;
            countEntry();
          }
        : countEntry,
      ...(signal ? { signal } : {}),
    }),
  };
}

/** The contents the ops of a `pick` scan kept, by path. */
function contentsOf(ops: readonly LayerOp[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const op of ops) if (op.kind === 'entry' && op.entry.content) out.set(op.entry.path, op.entry.content);
  return out;
}

/** A scan context that reads exactly `paths`, raw (the second pass for link targets). */
function pickContext(selector: FileSelector, options: AllWalkOptions, paths: ReadonlySet<string>): ScanContext {
  const { signal } = options;
  const ctx: ScanContext = { selector, maxFileBytes: options.maxFileBytes, warnings: [], pick: paths };
  if (signal) {
    ctx.signal = signal;
    ctx.countEntry = () => throwIfAborted(signal);
  }
  return ctx;
}

/** Squashes the layers' operations in order and collects the wanted files (a second, narrow read for links). */
async function finishWalk(
  image: Image,
  perLayer: readonly { ops: LayerOp[]; warnings: ScanWarning[] }[],
  selector: FileSelector,
  options: AllWalkOptions,
  setup: WalkSetup,
  readRaw: (wanted: ReadonlyMap<number, ReadonlySet<string>>) => Promise<Map<number, Map<string, Buffer>>>,
): Promise<WalkResult> {
  const { warnings } = setup;
  const tree = new SquashedTree((path) => selector.wantsHistory(path));
  for (const [i, layer] of perLayer.entries()) {
    tree.apply(i, layer.ops);
    for (const warning of layer.warnings) warnings.push(warning);
  }
  const files = await collectWanted(tree, {
    selector,
    maxFileBytes: options.maxFileBytes,
    ...setup.caps,
    inflate: nestedAccount(setup.budget),
    warnings,
    layerId: (i) => image.layers[i]?.info.diffId,
    readRaw,
  });
  // What is left of the budget goes on to the catalogers that read nested archives of files kept whole.
  const inflate = nestedAccount(setup.budget);
  if (!selector.inspector) return { files, warnings, inflate };
  return { files, warnings, inflate, inspected: collectInspected(perLayer, (i) => image.layers[i]?.info.diffId) };
}

/**
 * One layer's scan: from the layer cache when it holds this layer's (its bytes fixed by a verified digest), else
 * read, and then kept there. A reused scan is charged against the walk's entry and inflate limits as a read is.
 */
async function scanOrReuse(
  layer: ImageLayer,
  setup: WalkSetup,
  options: AllWalkOptions,
  hashInPlace: boolean,
): Promise<{ ops: LayerOp[]; warnings: ScanWarning[] }> {
  const cache = options.layerCache;
  const inPlace = layer.seekable !== undefined && !setup.verifyDiffIds;
  // Only a scan of checked bytes is kept: a layer read in place is checked only when hashed as well.
  const key = cache && (!inPlace || hashInPlace) ? layerScanKey(cache, layer, inPlace, options) : undefined;
  // --verify-diff-ids asks for every byte to be read: a kept scan would skip that (it may still be kept anew).
  if (cache && key && !setup.verifyDiffIds) {
    const raw = await cache.get(key);
    const reused = raw ? decodeLayerScan(raw) : undefined;
    if (reused) {
      setup.countEntries(reused.entries);
      spend(setup.budget, reused.inflated);
      setup.progress.layerFromCache();
      return { ops: reused.ops, warnings: reused.warnings };
    }
  }
  const counts: LayerCounts = { entries: 0, inflated: 0 };
  const ctx = setup.layerContext(counts);
  const ops = await scanLayer(layer, ctx, setup, hashInPlace, counts);
  setup.progress.layerDone();
  if (cache && key) await cache.put(key, encodeLayerScan({ ops, warnings: ctx.warnings, ...counts }));
  return { ops, warnings: ctx.warnings };
}

/** The walk over an image: every layer streamed once (concurrently), squashed in order, links resolved. */
export async function walkImage(image: Image, selector: FileSelector, options: AllWalkOptions): Promise<WalkResult> {
  const setup = setUp(selector, options, image.layers.length);
  for (const layer of image.layers) if (layer.remote) setup.progress.expectDownload(layer.info.size ?? 0);
  const ref = image.target.ref;
  const { progress, signal } = setup;
  // Every layer is what its digest says, by default: layers read in place are hashed too unless a caller opts out.
  const hashInPlace = options.hashInPlace !== false;
  try {
    throwIfAborted(signal);
    const perLayer = await boundedAll(image.layers, LAYER_CONCURRENCY, async (layer) => {
      try {
        return await scanOrReuse(layer, setup, options, hashInPlace);
      } catch (err) {
        throw describeLayerError(ref, layer, err);
      }
    });
    const result = await finishWalk(image, perLayer, selector, options, setup, async (wanted) => {
      const out = new Map<number, Map<string, Buffer>>();
      for (const [i, paths] of wanted) {
        const layer = image.layers[i] as ImageLayer;
        try {
          const ops = await scanLayer(layer, pickContext(selector, options, paths), setup);
          out.set(i, contentsOf(ops));
        } catch (err) {
          throw describeLayerError(ref, layer, err);
        }
      }
      return out;
    });
    throwIfAborted(signal);
    // Streamed layers are always checked (blob digest or diff-id); one read in place only when hashed as well.
    const verified = image.layers.every((l) => !l.seekable || setup.verifyDiffIds || hashInPlace);
    return { ...result, verified };
  } catch (err) {
    // Whatever the abort broke on the way (a destroyed stream, a closed file) is reported as the abort.
    throw signal?.aborted ? abortedError() : err;
  } finally {
    progress.finish();
  }
}

interface MemberScan {
  ops: LayerOp[];
  warnings: ScanWarning[];
  promised?: string;
  compression: LayerCompression;
  /** Bytes the member inflated to. */
  inflated: number;
  /** sha256 of the uncompressed tar, measured when no promised digest vouches for the bytes. */
  uncompressed?: string;
}

/** One layer-like member, streamed: verified against its promised digest or measured, inflated, walked. */
async function scanMember(member: StreamedLayer, ctx: ScanContext, setup: WalkSetup): Promise<MemberScan> {
  const blob = member.promised ? pipeline(member.data, verifying(member.promised, 'blob'), () => {}) : member.data;
  const { stream: raw, compression } = await sniffStream(blob);
  // Each member gets the whole budget while the pass meets it (it may belong to another image); the image's own
  // layers are held to it together once they are known.
  let inflated = 0;
  const budget: InflateBudget = { left: setup.budget.max, max: setup.budget.max };
  const count = inflateCounter(budget, setup.progress);
  const onBytes = (n: number) => {
    inflated += n;
    count(n);
  };
  // Archives nested in the member's files draw on the member's budget and count as its inflated bytes.
  const nested = { inflated: 0 };
  ctx.inflate = nestedAccount(budget, nested);
  const measure = !member.promised || setup.verifyDiffIds || uncheckedZstd(compression);
  const measured = measure ? measuring(onBytes) : undefined;
  const src = new StreamByteSource(pipeline(decompress(raw, compression), measured ?? counting(onBytes), () => {}));
  const stop = () => void src.close();
  setup.signal?.addEventListener('abort', stop, { once: true });
  try {
    const ops = await scanLayerTar(new TarReader(src, { maxEntryBytes: MAX_TAR_ENTRY }), ctx);
    await src.drain();
    const scan: MemberScan = { ops, warnings: ctx.warnings, compression, inflated: inflated + nested.inflated };
    if (member.promised) scan.promised = member.promised;
    const uncompressed = measured?.digest();
    if (uncompressed) scan.uncompressed = uncompressed;
    return scan;
  } finally {
    setup.signal?.removeEventListener('abort', stop);
    await src.close();
  }
}

/**
 * Checks a streamed layer against what the image says of it: the digest its member's name promised (verified as it
 * streamed) counts only when it is the image's digest for the layer, and an uncompressed blob's digest is its
 * diff-id; otherwise (and under --verify-diff-ids) the measured uncompressed digest must be the diff-id.
 */
function checkStreamedLayer(ref: string, layer: ImageLayer, scan: MemberScan, verifyDiffIds: boolean): void {
  const name = printable(layer.member ?? layer.info.diffId);
  const what = `${ref}: layer ${name}`;
  const { diffId, digest } = layer.info;
  const vouched = scan.promised !== undefined && scan.promised === digest;
  if (vouched && scan.compression === 'none') uncompressedMatchesDiffId(layer, `${what}: `);
  if (!vouched && scan.promised !== undefined && scan.uncompressed === undefined) {
    // Reached through a member link to a blob named for another digest: its bytes are that blob's, not this layer's.
    throw new LadingError('DIGEST_MISMATCH', `${what} is stored as ${scan.promised}, not ${digest ?? diffId}`);
  }
  if (!vouched || verifyDiffIds || uncheckedZstd(scan.compression))
    checkMeasured(scan.uncompressed, diffId, `${what} uncompressed content (diff-id)`);
}

/**
 * The walk over a compressed image archive, which can only be read front to back: every member that may be a layer
 * is walked as the one pass meets it (which members are the image's layers is known only from the manifest,
 * usually last), then the image's layers are matched to those walks and checked. A member that fails to read fails
 * the walk only if it is one of the image's layers. Nothing is written to disk; link targets the first pass did
 * not keep cost one second pass, checked like the first.
 */
export async function walkArchiveOnce(
  ref: string,
  read: ReadArchiveOnce,
  selector: FileSelector,
  options: AllWalkOptions,
): Promise<WalkResult & { image: Image }> {
  // Other images in the archive are walked too (which members are this image's is known only at the end): the
  // archive as a whole may hold up to four times the entries, but never more than a million beyond the image's own
  // limit (their entries are held in memory until the manifest comes); the image's own layers are held to it after.
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const others = Math.min(3 * maxEntries, options.maxOtherEntries ?? DEFAULT_MAX_OTHER_ENTRIES);
  const setup = setUp(selector, options, undefined, maxEntries + others);
  const scans = new Map<string, MemberScan | { error: unknown }>();
  const matched = (image: Image, i: number): MemberScan => {
    const layer = image.layers[i] as ImageLayer;
    const scan = layer.member === undefined ? undefined : scans.get(layer.member);
    if (!scan) {
      // The image builders checked that the member exists: the pass kept it as JSON metadata.
      throw new LadingError(
        'BAD_INPUT',
        `${ref}: layer ${printable(layer.member ?? layer.info.diffId)} is JSON, not a tar`,
      );
    }
    if ('error' in scan) throw describeMemberError(ref, layer.member ?? '', scan.error);
    checkStreamedLayer(ref, layer, scan, setup.verifyDiffIds);
    return scan;
  };
  const { signal } = setup;
  try {
    throwIfAborted(signal);
    const image = await read(async (member) => {
      throwIfAborted(signal);
      try {
        scans.set(member.name, await scanMember(member, setup.layerContext(), setup));
        setup.progress.layerDone();
      } catch (err) {
        if (signal?.aborted) throw abortedError();
        scans.set(member.name, { error: err });
      }
    });
    const perLayer = image.layers.map((_, i) => matched(image, i));
    const own = [...new Set(perLayer)];
    const inflated = own.reduce((sum, scan) => sum + scan.inflated, 0);
    if (inflated > setup.budget.max) {
      throw new LadingError('LIMIT', `${ref}: layers inflate past the ${setup.budget.max}-byte limit`);
    }
    // The image's own layers (and what their files nested) are now known: the rest of the walk draws on what is left.
    setup.budget.left = setup.budget.max - inflated;
    if (own.reduce((sum, scan) => sum + scan.ops.length, 0) > maxEntries) {
      throw new LadingError('LIMIT', `${ref}: image holds more tar entries than the walk tracks`);
    }
    const result = await finishWalk(image, perLayer, selector, options, setup, async (wanted) => {
      // One more pass, reading only the members of the layers asked for, each checked as in the first.
      const byMember = new Map<string, number[]>();
      for (const i of wanted.keys()) {
        const member = image.layers[i]?.member;
        if (member !== undefined) byMember.set(member, [...(byMember.get(member) ?? []), i]);
      }
      const out = new Map<number, Map<string, Buffer>>();
      scans.clear();
      await read(async (member) => {
        const layers = byMember.get(member.name);
        if (!layers) return;
        const paths = new Set(layers.flatMap((i) => [...(wanted.get(i) ?? [])]));
        try {
          scans.set(member.name, await scanMember(member, pickContext(selector, options, paths), setup));
        } catch (err) {
          if (signal?.aborted) throw abortedError();
          scans.set(member.name, { error: err });
        }
      });
      for (const i of wanted.keys()) out.set(i, contentsOf(matched(image, i).ops));
      return out;
    });
    throwIfAborted(signal);
    // Every layer was checked as it streamed (`checkStreamedLayer`).
    return { ...result, verified: true, image };
  } catch (err) {
    throw signal?.aborted ? abortedError() : err;
  } finally {
    setup.progress.finish();
  }
}

/** Archive member names come from the file: control characters would break the one-line error. */
function printable(name: string): string {
  return /[\u0000-\u001f\u007f]/.test(name) ? JSON.stringify(name) : name;
}

function describeMemberError(ref: string, name: string, err: unknown): LadingError {
  return describeReadError(`cannot read layer ${printable(name)} of ${ref}`, err);
}
