import type { Readable } from 'node:stream';
import { LadingError } from '../errors/lading-error.js';

const BLOCK = 512;

/** Reads exact byte counts from a stream (the tar's blocks), without holding more than one chunk ahead. */
export class BlockReader {
  private readonly it: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);

  constructor(stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Up to `n` bytes, fewer only at the end of the stream (empty: ended). */
  async readUpTo(n: number): Promise<Buffer> {
    while (this.pending.length === 0) {
      const next = await this.it.next();
      if (next.done) return Buffer.alloc(0);
      this.pending = next.value;
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(out.length);
    return out;
  }

  async readExactly(n: number, what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.readUpTo(n - got);
      if (part.length === 0) throw new LadingError('BAD_INPUT', `truncated tar (${what})`);
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** Drains what is left, so a hashing tap sees the whole stream. */
  async drain(): Promise<void> {
    for (;;) {
      const next = await this.it.next();
      if (next.done) return;
    }
  }
}

/** One tar entry as stored: the header and the metadata records before it (pax, GNU long names), kept raw. */
export interface RawTarEntry {
  /** Normalized: no leading `./` or `/`, no trailing `/`; '' is the root. */
  path: string;
  /** The typeflag character ('0' file, '1' hard link, '2' symlink, '5' directory, …). */
  typeflag: string;
  /** For hard links, normalized like `path`. */
  linkname: string;
  size: number;
  /** The metadata records and the header, byte for byte. */
  head: Buffer[];
}

export function normalizeTarPath(name: string): string {
  let p = name;
  while (p.startsWith('./')) p = p.slice(2);
  p = p.replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '.' ? '' : p;
}

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function numberField(buf: Buffer, start: number, len: number): number {
  const first = buf[start] ?? 0;
  if (first & 0x80) {
    let value = first & 0x3f;
    for (let i = 1; i < len; i++) value = value * 256 + (buf[start + i] ?? 0);
    return value;
  }
  const text = cString(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new LadingError('BAD_INPUT', 'corrupt tar header: a number field is not octal');
  return Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
  return sum === numberField(header, 148, 8);
}

function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number.parseInt(data.toString('latin1', at, space), 10);
    if (!Number.isFinite(len) || len <= 0) throw new LadingError('BAD_INPUT', 'corrupt tar pax record');
    const record = data.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;
const MAX_META = 1024 * 1024;

/**
 * The next entry's head (data not yet read: the caller reads or skips `padded(size)` bytes), or undefined at the
 * end of the archive. Global pax records ('g') are dropped: they would apply to the whole output otherwise.
 */
export async function nextEntry(reader: BlockReader): Promise<RawTarEntry | undefined> {
  const head: Buffer[] = [];
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const header = await reader
      .readUpTo(BLOCK)
      .then(async (b) =>
        b.length === 0 || b.length === BLOCK
          ? b
          : Buffer.concat([b, await reader.readExactly(BLOCK - b.length, 'header')]),
      );
    if (header.length === 0 || header.every((b) => b === 0)) return undefined;
    if (!checksumOk(header)) throw new LadingError('BAD_INPUT', 'corrupt tar header: checksum mismatch');
    const typeflag = String.fromCharCode(header[156] || 0x30);
    let size = numberField(header, 124, 12);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw new LadingError('BAD_INPUT', 'tar metadata record too large');
      const data = await reader.readExactly(padded(size), 'metadata');
      const body = data.subarray(0, size);
      if (typeflag === 'g') continue;
      head.push(Buffer.from(header), Buffer.from(data));
      if (typeflag === 'x') pax = parsePax(body);
      else if (typeflag === 'L') longName = cString(body, 0, body.length);
      else longLink = cString(body, 0, body.length);
      continue;
    }
    head.push(Buffer.from(header));
    const magic = header.toString('latin1', 257, 262);
    const prefix = magic === 'ustar' ? cString(header, 345, 155) : '';
    let name = cString(header, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    name = pax?.get('path') ?? longName ?? name;
    const linkname = pax?.get('linkpath') ?? longLink ?? cString(header, 157, 100);
    const paxSize = pax?.get('size');
    if (paxSize !== undefined) size = Number.parseInt(paxSize, 10);
    // As Go's archive/tar reads layers (the runtimes that unpack them): links, devices, directories and fifos carry
    // no data whatever their size field says (hard links in some tars repeat it).
    const carries = !'123456'.includes(typeflag);
    return {
      path: normalizeTarPath(name),
      typeflag: header[156] === 0 ? '0' : typeflag,
      linkname: typeflag === '1' ? normalizeTarPath(linkname) : linkname,
      size: carries ? size : 0,
      head,
    };
  }
}

export function paddedSize(size: number): number {
  return padded(size);
}
