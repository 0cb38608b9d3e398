import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * Sequential bytes the tar reader consumes: from a stream (skipping drains) or a local file range (skipping seeks,
 * which is what makes uncompressed docker-archives fast).
 */
export interface ByteSource {
  /** Up to `n` bytes; fewer only at the end of the data. */
  read(n: number): Promise<Buffer>;
  /** Moves past `n` bytes; returns how many there were (less than `n` only at the end). */
  skip(n: number): Promise<number>;
  /** Consumes what is left, so digests computed on the way through get checked. */
  drain(): Promise<void>;
  close(): Promise<void>;
  readonly position: number;
}

export class StreamByteSource implements ByteSource {
  private readonly chunks: AsyncIterator<Buffer>;
  private head: Buffer = Buffer.alloc(0);
  private ended = false;
  position = 0;

  constructor(private readonly stream: Readable) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.head = this.head.length === 0 ? next.value : Buffer.concat([this.head, next.value]);
    return true;
  }

  async read(n: number): Promise<Buffer> {
    if (this.head.length >= n) return this.take(n);
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      if (this.head.length === 0 && !(await this.fill())) break;
      const piece = this.take(Math.min(n - have, this.head.length));
      parts.push(piece);
      have += piece.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, have);
  }

  private take(n: number): Buffer {
    const piece = this.head.subarray(0, n);
    this.head = this.head.subarray(n);
    this.position += n;
    return piece;
  }

  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.head.length === 0 && !(await this.fill())) break;
      const step = Math.min(left, this.head.length);
      this.take(step);
      left -= step;
    }
    return n - left;
  }

  async drain(): Promise<void> {
    this.head = Buffer.alloc(0);
    while (await this.fill()) {
      this.position += this.head.length;
      this.head = Buffer.alloc(0);
    }
  }

  async close(): Promise<void> {
    if (!this.ended) this.stream.destroy();
  }
}

const READ_AHEAD = 64 * 1024;

/** A byte range of a local file, read with positional reads and a small read-ahead window for tar headers. */
export class FileRangeSource implements ByteSource {
  private window: Buffer = Buffer.alloc(0);
  private windowAt = 0;
  position = 0;

  private constructor(
    private readonly fh: FileHandle,
    private readonly start: number,
    private readonly size: number,
    private readonly ownsHandle: boolean,
  ) {}

  static async open(file: string, start: number, size: number): Promise<FileRangeSource> {
    return new FileRangeSource(await open(file, 'r'), start, size, true);
  }

  static over(fh: FileHandle, start: number, size: number): FileRangeSource {
    return new FileRangeSource(fh, start, size, false);
  }

  async read(n: number): Promise<Buffer> {
    const want = Math.max(0, Math.min(n, this.size - this.position));
    if (want === 0) return Buffer.alloc(0);
    const inWindow = this.position - this.windowAt;
    if (inWindow >= 0 && inWindow + want <= this.window.length) {
      this.position += want;
      return this.window.subarray(inWindow, inWindow + want);
    }
    const len = Math.min(Math.max(want, READ_AHEAD), this.size - this.position);
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await this.fh.read(buf, 0, len, this.start + this.position);
    this.window = buf.subarray(0, bytesRead);
    this.windowAt = this.position;
    const got = Math.min(want, bytesRead);
    this.position += got;
    return this.window.subarray(0, got);
  }

  async skip(n: number): Promise<number> {
    const step = Math.max(0, Math.min(n, this.size - this.position));
    this.position += step;
    return step;
  }

  async drain(): Promise<void> {
    this.position = this.size;
  }

  async close(): Promise<void> {
    if (this.ownsHandle) await this.fh.close();
  }
}
