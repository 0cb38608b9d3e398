/**
 * Where a walk is, as plain data. The engine never draws: it hands these to `OpenOptions.onProgress`, and the CLI
 * (or any caller) decides what to show.
 */
export interface ScanProgress {
  /**
   * `reading` while layers are read; `done` once when the walk ends (also after a failure), with the final counts;
   * `cached` once when the catalog came from the result cache and no layer was read.
   */
  phase: 'reading' | 'done' | 'cached';
  /** Layers read to the end so far (for a compressed archive read in one pass: layer-like members). */
  layersDone: number;
  /** Of `layersDone`, those whose scan came from the result cache's layer entries, unread. */
  layersFromCache: number;
  /** How many layers there are, when known before reading them (not for a compressed archive read in one pass). */
  layers?: number;
  /** Uncompressed bytes read so far (a layer read in place, from an uncompressed archive, counts whole once walked). */
  bytesRead: number;
  /** Compressed bytes fetched over the network so far (registry images; 0 otherwise). */
  bytesDownloaded: number;
  /** The compressed sizes of the layers fetched over the network, in all (0 when nothing is remote). */
  bytesToDownload: number;
}

export type ProgressListener = (progress: ScanProgress) => void;

/** Byte counts are reported at most this often; a finished layer and the end are always reported. */
export const PROGRESS_INTERVAL_MS = 100;
