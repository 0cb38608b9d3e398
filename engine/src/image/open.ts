import { stat } from 'node:fs/promises';
import { throwIfAborted } from '../errors/abort.js';
import { describeError, isLadingError, LadingError } from '../errors/lading-error.js';
import type { TargetInfo } from '../model/target.js';
import type { ScanWarning } from '../model/warning.js';
import type { FileInspector, FileMeta, InspectedFile, RandomAccessFile, WantedFiles } from './file.js';
import type { Image } from './image.js';
import type { ProgressListener } from './progress.js';
import { isCompressedFile } from './sources/tar-archive.js';
import { describeSpec, parseTargetSpec, type TargetSpec } from './target-spec.js';

export interface OpenOptions {
  /** `os/arch[/variant]`, default linux/amd64 for indexes. */
  platform?: string;
  /** Registry hosts (host[:port]) that may be reached over plain HTTP besides localhost/127.0.0.1. */
  insecureRegistries?: string[];
  /** The docker config file holding registry credentials (default `~/.docker/config.json`). */
  dockerConfigPath?: string;
  /** Told how the walk is going (layers done, bytes read and downloaded), a few times a second at most. */
  onProgress?: ProgressListener;
  /**
   * Stops the open and the walk when it fires: they reject with LadingError('ABORTED') promptly, with their files,
   * sockets and inflate threads closed.
   */
  signal?: AbortSignal;
  /**
   * Check every layer's uncompressed content against the config's diff-id, also where a verified blob digest
   * already fixes it and where an uncompressed local layer would otherwise be read only where wanted (every byte is
   * read and hashed: slower).
   */
  verifyDiffIds?: boolean;
  /** Never reach the network: registry targets are refused rather than pulled. */
  offline?: boolean;
  /**
   * Inflate and hash gzip layers on worker threads. Off by default: on 2 cores it was no faster than zlib on the
   * libuv pool and cost ~200 MB more peak RSS on a 2 GB image (bench/RESULTS-image.md). The CLI's
   * LADING_INFLATE_THREADS=1.
   */
  inflateThreads?: boolean;
}

/**
 * The image's one inflate budget (`WalkOptions.maxInflatedBytes`) as the archives nested in its files draw on it:
 * jars in jars inflate against the same account as the layers, so a small image cannot make a cataloger inflate
 * gigabytes. `take` charges bytes and throws a LIMIT error naming the limit once the account is overdrawn.
 */
export interface InflateAccount {
  /** Bytes still allowed (never negative). */
  remaining(): number;
  take(n: number): void;
}

/** Decides during the walk what to keep: the union of the catalogers' tests. */
export interface FileSelector {
  wants(path: string, meta: FileMeta): boolean;
  /**
   * Returns what to keep of a wanted file (raw content when no cataloger condenses it), or null to drop it.
   * The walk always passes the file's `meta` (for a link: the link's type with its target's size and mode).
   */
  condense(
    path: string,
    content: Buffer,
    meta?: FileMeta,
    /** The image's inflate account, charged for what condensing inflates (nested archives). */
    inflate?: InflateAccount,
  ): { content: Buffer; condensedBy?: string } | null;
  /**
   * True when `condense` would shrink this file (one condensing cataloger alone wants it): such a file is read even
   * over `maxFileBytes` (up to `maxCondenseBytes`), since only the condensed bytes are kept.
   */
  condenses?(path: string, meta: FileMeta): boolean;
  /** True when `condenseAt` would condense this file from reads at offsets (so the walk opens it for that). */
  condensesAt?(path: string, meta: FileMeta): boolean;
  /**
   * Like `condense`, for a file the walk can read at offsets (a local file): reads only what the condensing
   * cataloger needs. Undefined when no cataloger condenses this path that way; the walk then reads it whole.
   */
  condenseAt?(
    path: string,
    file: RandomAccessFile,
    meta: FileMeta,
  ): { content: Buffer; condensedBy?: string } | null | undefined;
  /** Paths whose lower-layer versions are kept too (`WantedFile.history`). */
  wantsHistory(path: string): boolean;
  /** Optional: reads the files it wants in every layer as they stream past (`WalkResult.inspected`). */
  inspector?: FileInspector;
}

export interface WalkOptions {
  /** Files larger than this are not kept; a warning names them. */
  maxFileBytes: number;
  /**
   * Files over `maxFileBytes` that a selector `condenses` are still read up to this size (default 512 MiB), one at
   * a time per walk, and only their condensed bytes kept: a 100 MB Go binary yields a few KB of build info.
   */
  maxCondenseBytes?: number;
  /** Total bytes all layers may inflate to before the walk gives up (default 16 GiB): a decompression bomb cap. */
  maxInflatedBytes?: number;
  /** Total tar entries across layers before the walk gives up (default 4 million): bounds the squashed tree. */
  maxEntries?: number;
  /**
   * Entries a compressed archive's members that are not the image's (other images, stray members) may add beyond
   * `maxEntries` while the one pass cannot yet tell them apart: default 1 million, and at most 3 × `maxEntries`.
   */
  maxOtherEntries?: number;
  /**
   * Hash uncompressed layers read in place (a plain docker-archive or OCI tar, which are otherwise read only where
   * wanted) against their diff-ids, beside the walk on a worker thread, so that no replaced byte is cataloged and
   * `WalkResult.verified` holds. Default true; false skips that one more sequential read (tests of the walk alone).
   */
  hashInPlace?: boolean;
  /**
   * Keeps each layer's scan (its paths and the wanted files' kept bytes, before any squash) and reuses it for any
   * image holding the same layer: only layers whose bytes a verified digest fixes are kept or looked up.
   */
  layerCache?: LayerScanCache;
}

/** Where a walk keeps and finds layer scans; the result cache provides one (`ResultCache.layerScans`). */
export interface LayerScanCache {
  /** What a layer's scan depends on besides its bytes and the walk's caps (the selector's catalogers), as one string. */
  scope: string;
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, value: Buffer): Promise<void>;
}

export interface WalkResult {
  files: WantedFiles;
  warnings: ScanWarning[];
  /** What is left of the image's inflate budget, for catalogers that inflate archives of files kept whole. */
  inflate?: InflateAccount;
  /** What the selector's inspector kept, per layer in layer order (absent without an inspector). */
  inspected?: InspectedFile[];
  /**
   * True when every byte the walk used was checked against a digest the image names (a layer's verified blob
   * digest or its diff-id): the files are then a function of the image's digests alone (what the result cache
   * needs). False for a root filesystem and for layers read in place with `hashInPlace: false`.
   */
  verified?: boolean;
}

/** An image or root filesystem, opened: described up front, its files walked once on demand. */
export interface OpenedTarget {
  /** What the target is; for a compressed image archive (read in one pass), known only after `walk`. */
  readonly target: TargetInfo;
  /** True for a compressed image archive: `target` is known only after `walk`. */
  readonly describedByWalk?: boolean;
  walk(selector: FileSelector, options: WalkOptions): Promise<WalkResult>;
  close(): Promise<void>;
}

/** Opens any TARGET form of docs/cli.md, "Targets", except `sbom:` (which scan/ reads through sbom/). */
export async function openTarget(spec: string, options: OpenOptions = {}): Promise<OpenedTarget> {
  try {
    throwIfAborted(options.signal);
    const parsed = await parseTargetSpec(spec);
    const ref = describeSpec(parsed);
    if (parsed.kind === 'registry' && options.offline) {
      throw new LadingError(
        'USAGE',
        `${ref} is in a registry, which the offline option does not reach: save it to a file (skopeo copy … oci-archive:FILE) and scan that`,
        { option: 'offline' },
      );
    }
    if (parsed.kind === 'dir') return await openRootfs(parsed.path, ref, options.signal);
    if (parsed.kind === 'image-archive') return openArchiveOnce(spec, parsed, ref, options);
    if ((parsed.kind === 'docker-archive' || parsed.kind === 'oci-archive') && (await isCompressedFile(parsed.path))) {
      return openArchiveOnce(spec, parsed, ref, options);
    }
    const image = await openImage(parsed, ref, options);
    return {
      target: image.target,
      walk: async (selector, walkOptions) => {
        try {
          const { walkImage } = await import('./walk/walk-image.js');
          return await walkImage(image, selector, {
            ...walkOptions,
            onProgress: options.onProgress,
            signal: options.signal,
            verifyDiffIds: options.verifyDiffIds,
            inflateThreads: options.inflateThreads,
          });
        } catch (err) {
          throw asTargetError(spec, err);
        }
      },
      close: () => image.close(),
    };
  } catch (err) {
    throw asTargetError(spec, err);
  }
}

/** Each source loads only when a target of its kind is opened (the registry client alone is 17 modules). */
export async function openImage(
  t: Exclude<TargetSpec, { kind: 'dir' | 'image-archive' }>,
  ref: string,
  options: OpenOptions,
): Promise<Image> {
  switch (t.kind) {
    case 'docker-archive':
      return (await import('./sources/docker-archive.js')).openDockerArchive(t.path, t.reference, ref, options);
    case 'oci':
      return (await import('./sources/oci-dir.js')).openOciDir(t.path, t.selector, ref, options);
    case 'oci-archive':
      return (await import('./sources/oci-archive.js')).openOciArchive(t.path, t.selector, ref, options);
    case 'registry':
      return (await import('./sources/registry.js')).openRegistryImage(t.reference, options);
  }
}

/**
 * A compressed image archive can only be read front to back, and its manifest usually comes last: it is described
 * by the same one pass that walks it, so `target` is known once `walk` has run.
 */
function openArchiveOnce(
  spec: string,
  parsed: Extract<TargetSpec, { kind: 'docker-archive' | 'oci-archive' | 'image-archive' }>,
  ref: string,
  options: OpenOptions,
): OpenedTarget {
  let described: Image | undefined;
  return {
    describedByWalk: true,
    get target(): TargetInfo {
      if (!described) throw new LadingError('USAGE', `${ref}: a compressed archive is described by its walk`);
      return described.target;
    },
    walk: async (selector, walkOptions) => {
      try {
        const [{ walkArchiveOnce }, { readImageArchiveOnce }] = await Promise.all([
          import('./walk/walk-image.js'),
          import('./sources/archive-once.js'),
        ]);
        const opts = { ...options, ...walkOptions };
        const { image, ...result } = await walkArchiveOnce(
          ref,
          (visit) => readImageArchiveOnce(parsed, ref, opts, visit),
          selector,
          {
            ...walkOptions,
            onProgress: options.onProgress,
            signal: options.signal,
            verifyDiffIds: options.verifyDiffIds,
            inflateThreads: options.inflateThreads,
          },
        );
        described = image;
        return result;
      } catch (err) {
        throw asTargetError(spec, err);
      }
    },
    close: async () => {},
  };
}

async function openRootfs(path: string, ref: string, signal: AbortSignal | undefined): Promise<OpenedTarget> {
  const st = await stat(path);
  if (!st.isDirectory()) throw new LadingError('BAD_INPUT', `${ref}: not a directory`);
  return {
    target: { kind: 'rootfs', ref, layers: [] },
    walk: async (selector, walkOptions) => {
      try {
        const { walkDir } = await import('./walk/walk-dir.js');
        return await walkDir(path, selector, { ...walkOptions, signal });
      } catch (err) {
        throw asTargetError(ref, err);
      }
    },
    close: async () => {},
  };
}

/** Every failure becomes one LadingError line that names the target (exit 3 unless it was a usage problem). */
function asTargetError(spec: string, err: unknown): LadingError {
  // An abort is the caller's doing, not the target's: it says so alone.
  if (isLadingError(err) && err.code === 'ABORTED') return err;
  if (isLadingError(err)) {
    // Already named: the whole target, or the file path inside it. A host name alone is not the target.
    const named =
      err.message.includes(spec) || spec.split(':').some((p) => p.startsWith('/') && err.message.includes(p));
    if (named) return err;
    return new LadingError(err.code, `${spec}: ${err.message}`, { cause: err });
  }
  const sys = err as NodeJS.ErrnoException;
  const code = sys?.code === 'ENOENT' ? 'NOT_FOUND' : sys?.code && sys.syscall ? 'IO' : 'BAD_INPUT';
  return new LadingError(code, `${spec}: ${describeError(err)}`, { cause: err });
}
