import { LadingError } from '../../errors/lading-error.js';
import type { RandomAccessFile } from '../file.js';
import type { ByteSource, ImmediateReads, PeekableReads } from './byte-source.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'directory' | 'other';

export interface TarEntry {
  /** The name as recorded (after pax / GNU long-name records), not yet normalized. */
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  linkname: string;
  /** Offset of the entry's data from the start of the tar. */
  dataOffset: number;
}

export interface TarLimits {
  /** A header claiming more than this is corrupt, not big. */
  maxEntryBytes: number;
}

const BLOCK = 512;
/** Long-name and pax records are tiny in real tars; anything bigger is an attack on memory. */
const MAX_META_RECORD = 1024 * 1024;

function corrupt(message: string): LadingError {
  return new LadingError('BAD_INPUT', message);
}

function cString(buf: Buffer, start: number, len: number): string {
  // Names are short and nearly always ASCII: a loop finds the end and tells ASCII apart faster than indexOf.
  const limit = start + len;
  let end = start;
  let ascii = true;
  for (; end < limit; end++) {
    const c = buf[end] as number;
    if (c === 0) break;
    if (c >= 0x80) ascii = false;
  }
  return buf.toString(ascii ? 'latin1' : 'utf8', start, end);
}

const SPACE = 0x20;
const ZERO = 0x30;

/** Octal number fields (NUL/space padded), or GNU base-256 for values too big for octal. */
function octal(buf: Buffer, start: number, len: number, what: string): number {
  const first = buf[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256: big-endian, top bit of the first byte is the marker. Negative values are never valid here.
    if (first & 0x40) throw corrupt(`corrupt tar header: negative ${what}`);
    let value = first & 0x3f;
    for (let i = 1; i < len; i++) {
      value = value * 256 + (buf[start + i] ?? 0);
      if (value > Number.MAX_SAFE_INTEGER) throw corrupt(`corrupt tar header: ${what} too large`);
    }
    return value;
  }
  let i = start;
  const end = start + len;
  while (i < end && buf[i] === SPACE) i++;
  let value = 0;
  for (; i < end; i++) {
    const c = buf[i] as number;
    if (c === 0 || c === SPACE) break;
    const digit = c - ZERO;
    if (digit < 0 || digit > 7) throw corrupt(`corrupt tar header: ${what} is not octal`);
    value = value * 8 + digit;
  }
  for (; i < end; i++) {
    const c = buf[i];
    if (c !== 0 && c !== SPACE) throw corrupt(`corrupt tar header: ${what} is not octal`);
  }
  return value;
}

/** Sum of the header's bytes with the checksum field counted as spaces; 0 means an all-zero (end) block. */
function headerSum(header: Buffer): number {
  // Headers read from files sit 4-byte aligned: add four bytes per step, in two 16-bit lanes that cannot overflow
  // (128 words × 2 bytes × 255 < 65536). Runs once per entry of every layer.
  if (header.byteOffset % 4 === 0 && header.length === BLOCK) {
    const words = new Uint32Array(header.buffer, header.byteOffset, BLOCK / 4);
    let lanes = 0;
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as number;
      lanes += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
    }
    return (lanes & 0xffff) + (lanes >>> 16);
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += header[i] as number;
  return sum;
}

function checksumOk(header: Buffer, rawSum: number): boolean {
  let field = 0;
  for (let i = 148; i < 156; i++) field += header[i] as number;
  return rawSum - field + 8 * SPACE === octal(header, 148, 8, 'checksum');
}

/**
 * True when `block` starts with a tar header whose checksum holds (any dialect, with or without the `ustar`
 * marker): how a stream that might be a tar is told from one that is not.
 */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  const header = block.subarray(0, BLOCK);
  const sum = headerSum(header);
  if (sum === 0) return false;
  try {
    return checksumOk(header, sum);
  } catch {
    return false;
  }
}

/** The pax keys the reader uses; others (times, owners, xattrs) are skipped without being decoded. */
const PAX_KEYS = ['path', 'linkpath', 'size'].map((key) => ({ key, bytes: Buffer.from(key) }));
const EQUALS = 0x3d;

function paxKeyAt(data: Buffer, start: number, end: number): string | undefined {
  for (const { key, bytes } of PAX_KEYS) {
    if (end - start === bytes.length && data.compare(bytes, 0, bytes.length, start, end) === 0) return key;
  }
  return undefined;
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const NEWLINE = 0x0a;

function parsePax(data: Buffer): ReadonlyMap<string, string> {
  // Most pax records carry times only: the map is made for the first key the reader uses.
  let out: Map<string, string> | undefined;
  let at = 0;
  while (at < data.length) {
    let len = 0;
    let i = at;
    for (; i < data.length; i++) {
      const c = data[i] as number;
      if (c < DIGIT_0 || c > DIGIT_9) break;
      len = len * 10 + (c - DIGIT_0);
      if (len > data.length) throw corrupt('corrupt pax header');
    }
    // Bytes after the last record that start no record (NUL padding, no space ahead) end the data.
    if (i >= data.length || (i === at && data.indexOf(SPACE, at) < 0)) break;
    if (i === at || data[i] !== SPACE) throw corrupt('corrupt pax header');
    const space = i;
    // The shortest record is `<len> k=\n`; every record ends in a newline.
    if (len < space - at + 4 || at + len > data.length || data[at + len - 1] !== NEWLINE) {
      throw corrupt('corrupt pax header');
    }
    // A record is `<len> <key>=<value>\n`; '=' is ASCII, so its first byte is where the decoded key ends.
    const recordEnd = at + len - 1;
    const eq = data.indexOf(EQUALS, space + 1);
    if (eq > space + 1 && eq < recordEnd) {
      const key = paxKeyAt(data, space + 1, eq);
      if (key) {
        out ??= new Map();
        out.set(key, data.toString('utf8', eq + 1, recordEnd));
      }
    }
    at += len;
  }
  return out ?? EMPTY_PAX;
}

/** The `ustar` magic (POSIX and GNU variants share these five bytes). */
function isUstar(header: Buffer): boolean {
  return (
    header[257] === 0x75 && header[258] === 0x73 && header[259] === 0x74 && header[260] === 0x61 && header[261] === 0x72
  );
}

/** What GNU long-name/long-link and pax records say about the entry that follows them. */
interface MetaRecords {
  longName?: string;
  longLink?: string;
  pax: ReadonlyMap<string, string>;
}

interface MetaRecordHeader {
  flag: string;
  size: number;
}

const EMPTY_PAX: ReadonlyMap<string, string> = new Map();

function applyRecord(flag: string, data: Buffer, meta: MetaRecords): void {
  if (flag === 'L') meta.longName = cString(data, 0, data.length);
  else if (flag === 'K') meta.longLink = cString(data, 0, data.length);
  else if (flag === 'x') meta.pax = parsePax(data);
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'directory';
    default:
      return 'other';
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/**
 * Reads a tar archive entry by entry. The consumer reads an entry's data with `content()` or leaves it: the next
 * step skips it (a seek for file sources). Handles ustar prefixes, pax (path, linkpath, size) and GNU long names.
 */
export class TarReader {
  private pendingData = 0;
  private pendingPad = 0;
  private ended = false;

  constructor(
    private readonly src: ByteSource,
    private readonly limits: TarLimits,
  ) {}

  private async exact(n: number, what: string): Promise<Buffer> {
    const buf = await this.src.read(n);
    if (buf.length < n) throw corrupt(`unexpected end of tar data in ${what}`);
    return buf;
  }

  /**
   * Some writers (umoci among them) end the archive right after the last file's data, without padding or the
   * end-of-archive blocks; Go's archive/tar, which Docker and containerd use, reads that as the end. So do we.
   */
  private paddingSkipped(pad: number, skipped: number): void {
    if (skipped < pad) this.ended = true;
  }

  private startData(entry: TarEntry): TarEntry {
    this.pendingData = entry.size;
    this.pendingPad = padding(entry.size);
    return entry;
  }

  /**
   * The next entry (null at the end) when it can be had without waiting, else undefined with nothing consumed:
   * then await `next()`. A local file always answers; a stream usually holds the next headers already (inflated
   * chunks are large, most files small). An await per entry added up to much of the walk of a many-file layer.
   */
  tryNext(): TarEntry | null | undefined {
    if (this.src.readNow && this.src.skipNow) return this.nextNow(this.src as ByteSource & ImmediateReads);
    if (this.ended) return null;
    return this.src.peek ? this.nextBuffered(this.src as ByteSource & PeekableReads) : undefined;
  }

  /** The next entry, or null at the end of the archive. */
  async next(): Promise<TarEntry | null> {
    const now = this.tryNext();
    if (now !== undefined) return now;
    if (this.pendingData > 0 && (await this.src.skip(this.pendingData)) < this.pendingData) {
      throw corrupt('unexpected end of tar data in file content');
    }
    this.pendingData = 0;
    const pad = this.pendingPad;
    this.pendingPad = 0;
    if (pad > 0) this.paddingSkipped(pad, await this.src.skip(pad));
    if (this.ended) return null;
    const meta: MetaRecords = { pax: EMPTY_PAX };
    for (;;) {
      const at = this.src.position;
      const step = this.classify(await this.src.read(BLOCK), meta, at);
      if (step === null) return this.end();
      if ('name' in step) return this.startData(step);
      const data = await this.exact(step.size, 'a long-name record');
      const pad = padding(step.size);
      if ((await this.src.skip(pad)) < pad) throw corrupt('unexpected end of tar data in a header');
      applyRecord(step.flag, data, meta);
    }
  }

  private nextNow(src: ByteSource & ImmediateReads): TarEntry | null {
    if (this.ended) return null;
    if (this.pendingData > 0 && src.skipNow(this.pendingData) < this.pendingData) {
      throw corrupt('unexpected end of tar data in file content');
    }
    this.pendingData = 0;
    const pad = this.pendingPad;
    this.pendingPad = 0;
    if (pad > 0) this.paddingSkipped(pad, src.skipNow(pad));
    if (this.ended) return null;
    const meta: MetaRecords = { pax: EMPTY_PAX };
    for (;;) {
      const at = src.position;
      const step = this.classify(src.readNow(BLOCK), meta, at);
      if (step === null) return this.end();
      if ('name' in step) return this.startData(step);
      const data = src.readNow(step.size);
      if (data.length < step.size) throw corrupt('unexpected end of tar data in a long-name record');
      const pad = padding(step.size);
      if (src.skipNow(pad) < pad) throw corrupt('unexpected end of tar data in a header');
      applyRecord(step.flag, data, meta);
    }
  }

  /**
   * The next entry when the source already holds everything up to its header (and the records before it), else
   * undefined with nothing consumed: the caller then takes the awaiting path, which also handles every end case.
   */
  private nextBuffered(src: ByteSource & PeekableReads): TarEntry | undefined {
    let at = this.pendingData + this.pendingPad;
    const meta: MetaRecords = { pax: EMPTY_PAX };
    for (;;) {
      const header = src.peek(at, BLOCK);
      if (!header) return undefined;
      const step = this.classify(header, meta, src.position + at);
      if (step === null) return undefined;
      if ('name' in step) {
        src.skipBuffered(at + BLOCK);
        return this.startData(step);
      }
      const data = src.peek(at + BLOCK, step.size);
      if (!data) return undefined;
      applyRecord(step.flag, data, meta);
      at += BLOCK + step.size + padding(step.size);
    }
  }

  /** One header block at `offset`: the entry it starts, a metadata record to read first, or null at the end. */
  private classify(header: Buffer, meta: MetaRecords, offset: number): TarEntry | MetaRecordHeader | null {
    if (header.length === 0) return null;
    if (header.length < BLOCK) throw corrupt('unexpected end of tar data in a header');
    const sum = headerSum(header);
    if (sum === 0) return null;
    if (!checksumOk(header, sum)) throw corrupt(`corrupt tar header at offset ${offset}`);
    const flag = String.fromCharCode(header[156] ?? 0);
    let size = octal(header, 124, 12, 'size');
    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      if (size > MAX_META_RECORD) throw corrupt(`tar ${flag} record of ${size} bytes is implausible`);
      return { flag, size };
    }
    const { pax, longName, longLink } = meta;
    const paxSize = pax.get('size');
    if (paxSize !== undefined) {
      if (!/^\d+$/.test(paxSize)) throw corrupt('corrupt pax size');
      size = Number(paxSize);
    }
    if (size > this.limits.maxEntryBytes) throw corrupt(`tar entry claims ${size} bytes, beyond any sane size`);
    const type = typeOf(flag);
    const prefix = isUstar(header) ? cString(header, 345, 155) : '';
    const baseName = cString(header, 0, 100);
    const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    // Only links have a target; the field is decoded for nothing else.
    const isLink = type === 'hardlink' || type === 'symlink';
    const linkname = isLink ? (pax.get('linkpath') ?? longLink ?? cString(header, 157, 100)) : '';
    // Links and directories carry no data whatever their size field says (hard links in some tars repeat it).
    const dataSize = type === 'hardlink' || type === 'symlink' || type === 'directory' ? 0 : size;
    return {
      name,
      type,
      size: dataSize,
      mode: octal(header, 100, 8, 'mode') & 0o7777,
      linkname,
      dataOffset: offset + BLOCK,
    };
  }

  /**
   * The current entry's data read at offsets, for sources that can (a local uncompressed tar): reading none of it
   * through `content()`, the next step still skips it with a seek. Undefined for streamed sources.
   */
  contentAt(
    entry: TarEntry,
  ): ((limit: number) => Promise<{ file: RandomAccessFile; close(): Promise<void> }>) | undefined {
    const src = this.src;
    if (!src.rangeAt) return undefined;
    return async (limit) => ({ file: src.rangeAt!(entry.dataOffset, entry.size, limit), close: async () => {} });
  }

  /**
   * The current entry's data as a stream of pieces (at most `piece` bytes each), for entries too large to hold: a
   * layer inside an image archive read in one pass. Read it to the end (or not at all) before `next()`.
   */
  async *contentPieces(entry: TarEntry, piece = 1 << 20): AsyncGenerator<Buffer> {
    let left = entry.size;
    while (left > 0) {
      const data = await this.src.read(Math.min(left, piece));
      if (data.length === 0) throw corrupt(`unexpected end of tar data in ${entry.name}`);
      left -= data.length;
      this.pendingData = left;
      // A local file's reads share one window: copy. A stream's pieces are its own.
      yield this.src.readNow ? Buffer.from(data) : data;
    }
  }

  /** The current entry's data; call at most once, before `next()`. */
  async content(entry: TarEntry): Promise<Buffer> {
    if (this.src.readKept) {
      const kept = await this.src.readKept(entry.size);
      if (kept.length < entry.size) throw corrupt(`unexpected end of tar data in ${entry.name}`);
      this.pendingData = 0;
      return kept;
    }
    const data = await this.exact(entry.size, `${entry.name}`);
    // Copied out: stream chunks are large and shared with the entries around this one.
    const own = Buffer.from(data);
    this.pendingData = 0;
    return own;
  }

  private end(): null {
    this.ended = true;
    return null;
  }
}
