import { constants as bufferConstants } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { thrownValueText } from '../../errors/lading-error.js';
import type { InflateAccount } from '../../image/open.js';

/**
 * A small synchronous zip reader over a Buffer. Synchronous because catalogers run it inside `condense`, during
 * the walk; bounded because archives are hostile input: every inflate is capped by a shared byte budget.
 */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/**
 * Bytes an archive (and everything nested in it) may still inflate to, and the image's one inflate account, which
 * every archive of the image draws on as well: past `remaining` the archive is not read (a format problem of this
 * archive), past the image's account the scan stops (its LIMIT error goes through).
 */
export interface InflateBudget {
  remaining: number;
  image?: InflateAccount | undefined;
}

export class ZipFormatError extends Error {}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** More entries than this is not a jar anyone ships; it bounds the work on a forged central directory. */
const MAX_ENTRIES = 200_000;

export function isZip(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === LOCAL_SIG;
}

export function listEntries(buf: Buffer): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(buf);
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    const z64 = readZip64End(buf, eocd);
    if (z64) ({ count, cdSize, cdOffset } = z64);
  }
  if (count > MAX_ENTRIES) throw new ZipFormatError(`too many entries (${count})`);
  if (cdOffset + cdSize > buf.length) throw new ZipFormatError('central directory lies outside the file');
  const entries: ZipEntry[] = [];
  let pos = cdOffset;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > buf.length || buf.readUInt32LE(pos) !== CENTRAL_SIG) {
      throw new ZipFormatError('truncated central directory');
    }
    const method = buf.readUInt16LE(pos + 10);
    let compressedSize = buf.readUInt32LE(pos + 20);
    let size = buf.readUInt32LE(pos + 24);
    const nameLen = buf.readUInt16LE(pos + 28);
    const extraLen = buf.readUInt16LE(pos + 30);
    const commentLen = buf.readUInt16LE(pos + 32);
    let localHeaderOffset = buf.readUInt32LE(pos + 42);
    const nameEnd = pos + 46 + nameLen;
    if (nameEnd + extraLen > buf.length) throw new ZipFormatError('truncated central directory entry');
    const name = buf.toString('utf8', pos + 46, nameEnd);
    const z64 = readZip64Extra(buf.subarray(nameEnd, nameEnd + extraLen), {
      size: size === 0xffffffff,
      compressed: compressedSize === 0xffffffff,
      offset: localHeaderOffset === 0xffffffff,
    });
    size = z64.size ?? size;
    compressedSize = z64.compressed ?? compressedSize;
    localHeaderOffset = z64.offset ?? localHeaderOffset;
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    pos = nameEnd + extraLen + commentLen;
  }
  return entries;
}

/** The entry's bytes, inflated within the budget (which it reduces). */
export function readEntry(buf: Buffer, entry: ZipEntry, budget: InflateBudget): Buffer {
  const at = entry.localHeaderOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL_SIG) {
    throw new ZipFormatError(`bad local header for ${entry.name}`);
  }
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > buf.length) throw new ZipFormatError(`${entry.name} is truncated`);
  const data = buf.subarray(start, end);
  const { image } = budget;
  if (entry.method === 0) {
    if (data.length > budget.remaining) throw new ZipFormatError('archive exceeds the inflate limit');
    // A stored entry (a fat jar's nested jars) inflates nothing and is no copy: the image's budget is not charged.
    budget.remaining -= data.length;
    return data;
  }
  if (entry.method !== 8) throw new ZipFormatError(`${entry.name} uses unsupported compression method ${entry.method}`);
  if (budget.remaining <= 0) throw new ZipFormatError('archive exceeds the inflate limit');
  const imageLeft = image ? image.remaining() : Number.POSITIVE_INFINITY;
  // The image's account is overdrawn by one more byte: its own error says so, naming the user's limit.
  if (image && imageLeft <= 0) image.take(1);
  const room = Math.min(budget.remaining, imageLeft);
  let out: Buffer;
  try {
    // maxOutputLength makes zlib stop (and throw) instead of inflating a bomb into memory.
    out = inflateRawSync(data, { maxOutputLength: Math.max(1, Math.min(room, bufferConstants.MAX_LENGTH)) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      if (image && imageLeft < budget.remaining) image.take(imageLeft + 1);
      budget.remaining = 0;
      throw new ZipFormatError('archive exceeds the inflate limit');
    }
    throw new ZipFormatError(`${entry.name}: ${thrownValueText(err)}`);
  }
  image?.take(out.length);
  budget.remaining -= out.length;
  return out;
}

function findEndOfCentralDirectory(buf: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= lowest; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) return i;
  }
  throw new ZipFormatError('not a zip archive (no end of central directory)');
}

function readZip64End(buf: Buffer, eocd: number): { count: number; cdSize: number; cdOffset: number } | undefined {
  const loc = eocd - 20;
  if (loc < 0 || buf.readUInt32LE(loc) !== ZIP64_LOCATOR_SIG) return undefined;
  const at = Number(buf.readBigUInt64LE(loc + 8));
  if (at + 56 > buf.length || buf.readUInt32LE(at) !== ZIP64_EOCD_SIG) throw new ZipFormatError('bad zip64 record');
  return {
    count: Number(buf.readBigUInt64LE(at + 32)),
    cdSize: Number(buf.readBigUInt64LE(at + 40)),
    cdOffset: Number(buf.readBigUInt64LE(at + 48)),
  };
}

function readZip64Extra(
  extra: Buffer,
  want: { size: boolean; compressed: boolean; offset: boolean },
): { size?: number; compressed?: number; offset?: number } {
  let pos = 0;
  while (pos + 4 <= extra.length) {
    const id = extra.readUInt16LE(pos);
    const len = extra.readUInt16LE(pos + 2);
    if (id === 0x0001) {
      const out: { size?: number; compressed?: number; offset?: number } = {};
      let p = pos + 4;
      const next = (): number | undefined => {
        if (p + 8 > pos + 4 + len || p + 8 > extra.length) return undefined;
        const v = Number(extra.readBigUInt64LE(p));
        p += 8;
        return v;
      };
      if (want.size) out.size = next();
      if (want.compressed) out.compressed = next();
      if (want.offset) out.offset = next();
      return out;
    }
    pos += 4 + len;
  }
  return {};
}
