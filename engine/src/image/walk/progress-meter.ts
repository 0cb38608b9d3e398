import { PROGRESS_INTERVAL_MS, type ProgressListener, type ScanProgress } from '../progress.js';

/**
 * Counts a walk's layers and bytes and reports them to the caller's listener as `ScanProgress` events: every
 * finished layer and the end at once, byte counts at most every PROGRESS_INTERVAL_MS. Counts only grow.
 */
export class ProgressMeter {
  private bytesRead = 0;
  private bytesDownloaded = 0;
  private bytesToDownload = 0;
  private layersDone = 0;
  private layersFromCache = 0;
  private lastReport = 0;
  private finished = false;

  constructor(
    private readonly listener: ProgressListener | undefined,
    /** How many layers there are, when known before reading them. */
    private readonly layers: number | undefined,
  ) {}

  /** Layers fetched over the network: their compressed sizes add up to `bytesToDownload`. */
  expectDownload(bytes: number): void {
    this.bytesToDownload += bytes;
  }

  addDownloaded(n: number): void {
    this.bytesDownloaded += n;
    this.report('reading', false);
  }

  addBytes(n: number): void {
    this.bytesRead += n;
    this.report('reading', false);
  }

  layerDone(): void {
    this.layersDone++;
    this.report('reading', true);
  }

  /** A layer whose scan came from the cache, unread. */
  layerFromCache(): void {
    this.layersFromCache++;
    this.layerDone();
  }

  /** The last event, once, whether the walk succeeded or not. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.report('done', true);
  }

  private report(phase: ScanProgress['phase'], force: boolean): void {
    if (!this.listener || (this.finished && phase !== 'done')) return;
    const now = Date.now();
    if (!force && now - this.lastReport < PROGRESS_INTERVAL_MS) return;
    this.lastReport = now;
    const event: ScanProgress = {
      phase,
      layersDone: this.layersDone,
      layersFromCache: this.layersFromCache,
      bytesRead: this.bytesRead,
      bytesDownloaded: this.bytesDownloaded,
      bytesToDownload: this.bytesToDownload,
    };
    if (this.layers !== undefined) event.layers = this.layers;
    this.listener(event);
  }
}
