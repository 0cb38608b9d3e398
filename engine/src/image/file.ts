/** What the walk knows about a path before reading it: enough for a cataloger's cheap `wants` test. */
export interface FileMeta {
  /** Bytes of content (0 for links and directories). */
  size: number;
  /** Unix permission bits (e.g. 0o755). */
  mode: number;
  type: 'file' | 'symlink' | 'hardlink' | 'directory' | 'other';
  /** For links: the target as recorded (resolved inside the image root by the walk). */
  linkTarget?: string;
}

/**
 * A local file's bytes read at offsets, so a cataloger can condense a large file from a few small reads (an
 * executable's headers and build-info sections) instead of the whole of it. Valid only during the call it is
 * passed to.
 */
export interface RandomAccessFile {
  readonly length: number;
  /** `length` bytes at `offset`, or undefined when the range is not inside the file. */
  at(offset: number, length: number): Buffer | undefined;
  /** The whole file, up to the walk's read limit for it. */
  whole(): Buffer;
}

/** A file some cataloger wants, as it stands in the squashed view of the image. */
export interface WantedFile {
  /** Absolute, normalized path inside the image root (`/var/lib/dpkg/status`). */
  path: string;
  /** Diff-id of the layer that last wrote this path (undefined for `dir:` targets). */
  layer?: string;
  meta: FileMeta;
  /** The content, or what a cataloger's `condense` kept of it. */
  content: Buffer;
  /**
   * Earlier versions of the same path in lower layers, oldest first, kept only for paths a cataloger
   * `wantsHistory` (package databases: the layer that first listed a package is the one that installed it).
   */
  history?: { layer?: string; content: Buffer }[];
  /** Id of the cataloger whose `condense` produced `content`; absent when `content` is the raw bytes. */
  condensedBy?: string;
}

/** The files the walk kept, keyed by absolute path, after whiteouts of upper layers were applied. */
export type WantedFiles = ReadonlyMap<string, WantedFile>;

/**
 * Reads files as they stream past in every layer (not only the squashed view), in the same walk as the catalogers:
 * the secret scanner. What `end` returns is kept with the layer's scan (and in the layer cache: plain JSON data).
 */
export interface FileInspector {
  /** Whether to read this regular file of this layer (a cheap test: it runs for every file of every layer). */
  wants(path: string, meta: FileMeta): boolean;
  /** A sink for one file's bytes, in order; `end` returns what to keep, or undefined for nothing. */
  start(path: string, meta: FileMeta): { write(chunk: Buffer): void; end(): unknown };
}

/** What an inspector kept of one file in one layer, and where that version of the path left the image. */
export interface InspectedFile {
  path: string;
  /** Diff-id of the layer holding this version (undefined for `dir:` targets). */
  layer?: string;
  /** Diff-id of the first later layer that deleted or replaced this version; absent while the image holds it. */
  removedIn?: string;
  result: unknown;
}
