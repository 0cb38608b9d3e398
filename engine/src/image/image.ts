import type { Readable } from 'node:stream';
import type { TargetInfo } from '../model/target.js';

/**
 * One image, whatever its source (docker-archive, OCI layout/archive, registry): described up front,
 * layers opened on demand. Everything else (the walk, squashing) is written once against this.
 */
export interface Image {
  target: TargetInfo;
  /** Bottom layer first; `info.diffId` is the uncompressed digest from the config's rootfs. */
  layers: ImageLayer[];
  /** The config blob as stored (its digest is `target.imageId`): what rewriting the image (flatten) starts from. */
  rawConfig?: Buffer;
  close(): Promise<void>;
}

export interface ImageLayer {
  info: TargetInfo['layers'][number];
  /**
   * The layer blob as stored (gzip, zstd or plain tar; the walk sniffs which). Sources verify the blob's digest
   * as it streams and fail the stream on a mismatch.
   */
  open(): Promise<Readable>;
  /**
   * True when `open()` checks the blob against `info.digest`. Decompression is deterministic, so a verified blob
   * already fixes the uncompressed bytes and the walk does not hash them again for the diff-id (that second hash is
   * ~40% of the CPU of reading a gzip layer). Layers nothing verifies get their diff-id checked instead.
   */
  verifiedBlob?: boolean;
  /** True when `open()` fetches the blob over the network: progress counts its bytes as downloaded. */
  remote?: boolean;
  /** The archive member holding the blob (image archives): how a one-pass read of a compressed archive finds it. */
  member?: string;
  /** Set when the blob is an uncompressed tar at a known place in a local file, so the walk can seek over contents. */
  seekable?: { file: string; offset: number; size: number };
}

/** A layer-like member of a compressed image archive, met while the archive is read in one pass. */
export interface StreamedLayer {
  /** The member's name in the archive. */
  name: string;
  /** Its bytes as stored; read them to the end (or not at all) before the visit returns. */
  data: Readable;
  /** The digest the member's name promises: the walk checks the bytes against it as they stream. */
  promised?: string;
}

/**
 * Reads a compressed archive once, front to back, visiting its layer-like members in stored order, and returns the
 * image its metadata describes (which members are its layers is known only then: manifests usually come last).
 */
export type ReadArchiveOnce = (visit: (member: StreamedLayer) => Promise<void>) => Promise<Image>;
