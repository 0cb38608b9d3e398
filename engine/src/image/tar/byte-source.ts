import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { RandomAccessFile } from '../file.js';
import { fileRange } from '../random-access.js';

/**
 * Sequential bytes the tar reader consumes: from a stream (skipping drains) or a local file range (skipping seeks,
 * which is what makes uncompressed docker-archives fast).
 */
export interface ByteSource {
  /** Up to `n` bytes; fewer only at the end of the data. */
  read(n: number): Promise<Buffer>;
  /** Like `read`, but the bytes are the caller's to keep (sources whose `read` reuses memory copy only then). */
  readKept?(n: number): Promise<Buffer>;
  /** Present on sources that never wait: the same as `read`/`skip`, without a promise. */
  readNow?(n: number): Buffer;
  skipNow?(n: number): number;
  /** Present on streamed sources: see `PeekableReads`. */
  peek?(offset: number, n: number): Buffer | undefined;
  skipBuffered?(n: number): void;
  /** Moves past `n` bytes; returns how many there were (less than `n` only at the end). */
  skip(n: number): Promise<number>;
  /**
   * Present on local file sources: bytes [offset, offset + length) of the source read at offsets, without moving
   * `position` (so the tar reader can still skip them), `whole()` capped at `limit`.
   */
  rangeAt?(offset: number, length: number, limit: number): RandomAccessFile;
  /** Consumes what is left, so digests computed on the way through get checked. */
  drain(): Promise<void>;
  close(): Promise<void>;
  readonly position: number;
}

/** A stream's bytes already in memory, looked at without consuming them. */
export interface PeekableReads {
  /** `n` bytes at `offset` from the current position when all of them are buffered, else undefined. */
  peek(offset: number, n: number): Buffer | undefined;
  /** Consumes `n` bytes that `peek` showed are buffered. */
  skipBuffered(n: number): void;
}

/** Reads a source can answer without waiting (positional reads of a local file from the page cache). */
export interface ImmediateReads {
  readNow(n: number): Buffer;
  skipNow(n: number): number;
}

export class StreamByteSource implements ByteSource, PeekableReads {
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

  peek(offset: number, n: number): Buffer | undefined {
    return offset + n <= this.head.length ? this.head.subarray(offset, offset + n) : undefined;
  }

  skipBuffered(n: number): void {
    this.take(n);
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

const EMPTY = Buffer.alloc(0);

/** Read-ahead while reading sequentially (small files in a row share one read). */
const SEQUENTIAL_WINDOW = 64 * 1024;
/** After a seek the next thing is usually one header followed by content we will skip again. */
const AFTER_SEEK_WINDOW = 8 * 1024;

/**
 * A byte range of a local file. Reads are synchronous positional reads into one reused window: a layer walk
 * issues one small read per tar header, and a thread-pool round trip each (what async reads cost) would take far
 * longer than the read itself from the page cache. Returned buffers are valid until the next call.
 */
export class FileRangeSource implements ByteSource, ImmediateReads {
  private readonly buffer = Buffer.allocUnsafe(SEQUENTIAL_WINDOW);
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
    return this.readNow(n);
  }

  readNow(n: number): Buffer {
    const want = Math.max(0, Math.min(n, this.size - this.position));
    if (want === 0) return EMPTY;
    const inWindow = this.position - this.windowAt;
    if (inWindow >= 0 && inWindow + want <= this.window.length) {
      this.position += want;
      return this.window.subarray(inWindow, inWindow + want);
    }
    const sequential = this.position === this.windowAt + this.window.length;
    const ahead = Math.min(sequential ? SEQUENTIAL_WINDOW : AFTER_SEEK_WINDOW, this.size - this.position);
    // Content bigger than the window gets its own buffer, which the caller may keep.
    const target = want > ahead ? Buffer.allocUnsafe(want) : this.buffer;
    const len = Math.max(want, ahead);
    const bytesRead = readSync(this.fh.fd, target, 0, len, this.start + this.position);
    this.window = target.subarray(0, bytesRead);
    this.windowAt = this.position;
    const got = Math.min(want, bytesRead);
    this.position += got;
    return this.window.subarray(0, got);
  }

  /**
   * Content that fits the read-ahead window is copied out of it (one read serves many small files); larger content
   * is read straight into its own buffer, once, instead of into a buffer that would then be copied.
   */
  async readKept(n: number): Promise<Buffer> {
    const want = Math.max(0, Math.min(n, this.size - this.position));
    const inWindow = this.position - this.windowAt;
    const windowed = inWindow >= 0 && inWindow + want <= this.window.length;
    if (want <= SEQUENTIAL_WINDOW || windowed) return Buffer.from(this.readNow(n));
    const target = Buffer.allocUnsafe(want);
    let have = 0;
    const inside = inWindow >= 0 && inWindow < this.window.length ? this.window.length - inWindow : 0;
    if (inside > 0) have = this.window.copy(target, 0, inWindow);
    while (have < want) {
      const got = readSync(this.fh.fd, target, have, want - have, this.start + this.position + have);
      if (got === 0) break;
      have += got;
    }
    this.position += have;
    // The next read starts where this one ended: sequential, so it gets the full read-ahead.
    this.window = EMPTY;
    this.windowAt = this.position;
    return have === want ? target : target.subarray(0, have);
  }

  async skip(n: number): Promise<number> {
    return this.skipNow(n);
  }

  rangeAt(offset: number, length: number, limit: number): RandomAccessFile {
    const inside = Math.max(0, Math.min(length, this.size - offset));
    return fileRange(this.fh.fd, this.start + offset, inside, limit);
  }

  skipNow(n: number): number {
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
