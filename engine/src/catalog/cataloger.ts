import type { FileMeta, RandomAccessFile, WantedFiles } from '../image/file.js';
import type { InflateAccount } from '../image/open.js';
import type { ImageAccounts, NotedFile } from '../model/misconfiguration.js';
import type { OsInfo } from '../model/os.js';
import type { PackageFound } from '../model/package.js';
import type { ScanWarning } from '../model/warning.js';

export interface CatalogEnv {
  /** The detected OS, when the os-release cataloger found one (used for purl `distro=` qualifiers). */
  os?: OsInfo;
  /** Per-file and per-archive limits (bytes, depth). */
  limits: CatalogLimits;
  /**
   * What is left of the image's one inflate budget (`--max-image-size`): archives nested in files inflate against
   * it, on top of `limits.maxInflateBytes` per archive. Absent: only the per-archive limit applies.
   */
  inflate?: InflateAccount;
}

export interface CatalogLimits {
  /** Largest file the walk keeps for a cataloger (default 64 MiB). */
  maxFileBytes: number;
  /** Largest total of bytes an archive may inflate to (zip bombs). */
  maxInflateBytes: number;
  /** How deep archives may nest (jar in war in ear). */
  maxArchiveDepth: number;
  /**
   * Most packages one file (a lockfile, a package database, an archive) may yield (default 100,000): the first ones
   * are kept and the file is a coverage gap. Catalogers that read large databases stop collecting one past it.
   */
  maxPackagesPerFile: number;
}

export const DEFAULT_LIMITS: CatalogLimits = {
  maxFileBytes: 64 * 1024 * 1024,
  maxInflateBytes: 512 * 1024 * 1024,
  maxArchiveDepth: 5,
  maxPackagesPerFile: 100_000,
};

export interface CatalogResult {
  packages: PackageFound[];
  warnings: ScanWarning[];
  /** Set by OS-detection catalogers only. */
  os?: OsInfo;
  /**
   * Those of `warnings` that left nothing unread (a duplicate record dropped, a field ignored). Every other warning
   * is a coverage gap of the cataloger: a gate never passes on it (catalog/gaps.ts).
   */
  notes?: ReadonlySet<ScanWarning>;
  /** Set by metadata-only catalogers (`Cataloger.metaOnly`): the files they noted, for the image checks. */
  notedFiles?: NotedFile[];
  /** Set by the image checks' accounts cataloger: the users and groups the image defines. */
  accounts?: ImageAccounts;
}

/**
 * The cataloger contract (docs/architecture.md, "Decisions"). Registered explicitly in `catalog/registry.ts`.
 * `wants` runs for every path of every layer: keep it a cheap string test.
 */
export interface Cataloger {
  id: string;
  /** Bump when output changes: part of the per-layer cache key. */
  version: number;
  /**
   * True when the cataloger needs a wanted file's path and meta (mode, layer) but none of its bytes (the image
   * checks: setuid files, shells). The walk keeps an empty content for it, reads nothing it would not read anyway,
   * and never lets it stop another cataloger from condensing the same file; the other catalogers never see a file
   * kept only for it.
   */
  metaOnly?: boolean;
  wants(path: string, meta: FileMeta): boolean;
  /**
   * Optional: runs during the walk on each wanted file's raw bytes and returns what to keep instead
   * (e.g. only a Go binary's build info), or null to drop the file quietly. Bounds memory on big images.
   * What it inflates (nested archives) is charged to `inflate`, the image's one budget, whose LIMIT error it lets
   * through: that error stops the scan.
   */
  condense?(path: string, content: Buffer, inflate?: InflateAccount): Buffer | null;
  /**
   * Optional, with `condense`: the same result read from a file at offsets, for large files where only a few
   * regions matter (an executable's build info). The walk uses it for local files, `condense` elsewhere.
   */
  condenseAt?(path: string, file: RandomAccessFile): Buffer | null;
  /**
   * Whether `condense` is given files over the walk's file cap (up to the condense cap, 512 MiB by default): right
   * for binaries and archives, of which only a summary is kept; wrong for documents parsed whole (a 500 MB
   * package.json would be read and parsed at once). Default true; false skips such files with the size warning.
   */
  condensesOversized?: boolean;
  /**
   * Optional: paths whose earlier versions (lower layers) the walk should keep in `WantedFile.history`, so that a
   * package database can attribute each package to the layer that installed or last changed it.
   */
  wantsHistory?(path: string): boolean;
  /** Pure on its inputs; parse errors go into `warnings`, never thrown. */
  catalog(files: WantedFiles, env: CatalogEnv): Promise<CatalogResult>;
}
