/** Bytes read and layers done, redrawn on one stderr line; a no-op unless asked for and stderr is a terminal. */
export class Progress {
  private bytes = 0;
  private downloaded = 0;
  /** Compressed bytes to fetch over the network, when some layers are (registry images). */
  private toDownload = 0;
  private layersDone = 0;
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    enabled: boolean | undefined,
    /** How many layers there are, when known before reading them. */
    private readonly layers: number | undefined,
  ) {
    this.enabled = !!enabled && process.stderr.isTTY === true;
  }

  /** Layers fetched over the network: their compressed sizes add up to what the line shows as the total. */
  expectDownload(bytes: number): void {
    this.toDownload += bytes;
  }

  addDownloaded(n: number): void {
    this.downloaded += n;
    this.draw(false);
  }

  addBytes(n: number): void {
    this.bytes += n;
    this.draw(false);
  }

  layerDone(): void {
    this.layersDone++;
    this.draw(true);
  }

  finish(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K');
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const mb = (this.bytes / (1024 * 1024)).toFixed(1);
    const done = this.layers === undefined ? `${this.layersDone}` : `${this.layersDone}/${this.layers}`;
    process.stderr.write(`\r\x1b[Kreading layers: ${done} done, ${this.downloadWords()}${mb} MiB read`);
  }

  private downloadWords(): string {
    if (this.toDownload === 0 && this.downloaded === 0) return '';
    const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
    const of = this.toDownload > 0 ? ` of ${mib(this.toDownload)}` : '';
    return `${mib(this.downloaded)}${of} MiB downloaded, `;
  }
}
