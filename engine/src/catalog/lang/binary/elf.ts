import type { RandomAccessFile } from '../../../image/file.js';

/**
 * Just enough ELF to find a named section and map a virtual address to a file offset. Every read is
 * bounds-checked: binaries are hostile input (truncated, forged headers).
 */
export interface ElfSection {
  name: string;
  offset: number;
  size: number;
  addr: number;
  /** SHT_NOBITS sections (.bss) occupy no file bytes. */
  noBits: boolean;
}

export interface ElfSegment {
  vaddr: number;
  offset: number;
  fileSize: number;
}

export interface ElfFile {
  is64: boolean;
  littleEndian: boolean;
  sections: ElfSection[];
  segments: ElfSegment[];
}

export class BinaryFormatError extends Error {}

/**
 * A binary's bytes, read on demand: a Buffer already in memory, or a local file read at offsets, so that finding
 * a 100 MB Go binary's build info reads its headers and two sections instead of the whole file.
 */
export type BinaryBytes = RandomAccessFile;

export function bytesOf(buf: Buffer): BinaryBytes {
  return {
    length: buf.length,
    at: (offset, length) =>
      offset >= 0 && length >= 0 && offset + length <= buf.length ? buf.subarray(offset, offset + length) : undefined,
    whole: () => buf,
  };
}

const MAX_HEADERS = 65_535;
/** Real section-name tables hold a few hundred bytes; a forged size must not make us read the file. */
const MAX_NAME_TABLE = 64 * 1024;

export function isElf(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

/** Reads a header table; a table reaching past the end of the file is cut to its whole entries inside it. */
function table(bytes: BinaryBytes, offset: number, count: number, entrySize: number): Buffer {
  const inside = Math.max(0, Math.min(count, Math.floor((bytes.length - offset) / entrySize)));
  return bytes.at(offset, inside * entrySize) ?? Buffer.alloc(0);
}

export function parseElf(bytes: BinaryBytes): ElfFile {
  const head = bytes.at(0, Math.min(64, bytes.length)) ?? Buffer.alloc(0);
  if (!isElf(head) || head.length < 52) throw new BinaryFormatError('not an ELF file');
  const cls = head[4];
  const data = head[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) throw new BinaryFormatError('bad ELF identification');
  const is64 = cls === 2;
  const le = data === 1;
  if (is64 && head.length < 64) throw new BinaryFormatError('truncated ELF header');
  const r = reader(head, le);
  const phoff = is64 ? r.u64(32) : r.u32(28);
  const shoff = is64 ? r.u64(40) : r.u32(32);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  const shnum = r.u16(is64 ? 60 : 48);
  const shstrndx = r.u16(is64 ? 62 : 50);

  const segments: ElfSegment[] = [];
  if (phoff > 0 && phnum > 0 && phnum <= MAX_HEADERS && phentsize >= (is64 ? 56 : 32)) {
    const ph = table(bytes, phoff, phnum, phentsize);
    const p = reader(ph, le);
    for (let at = 0; at + phentsize <= ph.length; at += phentsize) {
      const type = p.u32(at);
      if (type !== 1) continue; // PT_LOAD
      segments.push(
        is64
          ? { offset: p.u64(at + 8), vaddr: p.u64(at + 16), fileSize: p.u64(at + 32) }
          : { offset: p.u32(at + 4), vaddr: p.u32(at + 8), fileSize: p.u32(at + 16) },
      );
    }
  }

  const raw: { nameOff: number; type: number; addr: number; offset: number; size: number }[] = [];
  if (shoff > 0 && shnum > 0 && shnum <= MAX_HEADERS && shentsize >= (is64 ? 64 : 40)) {
    const sh = table(bytes, shoff, shnum, shentsize);
    const q = reader(sh, le);
    for (let at = 0; at + shentsize <= sh.length; at += shentsize) {
      raw.push(
        is64
          ? {
              nameOff: q.u32(at),
              type: q.u32(at + 4),
              addr: q.u64(at + 16),
              offset: q.u64(at + 24),
              size: q.u64(at + 32),
            }
          : {
              nameOff: q.u32(at),
              type: q.u32(at + 4),
              addr: q.u32(at + 12),
              offset: q.u32(at + 16),
              size: q.u32(at + 20),
            },
      );
    }
  }
  const strtab = raw[shstrndx];
  // A forged size cannot make us read (or allocate) past the file: the string table is cut to what exists.
  const names = strtab
    ? (bytes.at(strtab.offset, Math.max(0, Math.min(strtab.size, bytes.length - strtab.offset, MAX_NAME_TABLE))) ??
      Buffer.alloc(0))
    : Buffer.alloc(0);
  const sections = raw.map((s) => ({
    name: cString(names, s.nameOff),
    offset: s.offset,
    size: s.size,
    addr: s.addr,
    noBits: s.type === 8,
  }));
  return { is64, littleEndian: le, sections, segments };
}

/**
 * The bytes of a named section (its first `maxBytes` when larger), or undefined when absent or lying outside the
 * file. The cap bounds what a forged size can make us read.
 */
export function sectionBytes(
  bytes: BinaryBytes,
  elf: ElfFile,
  name: string,
  maxBytes = Number.POSITIVE_INFINITY,
): Buffer | undefined {
  const s = elf.sections.find((x) => x.name === name);
  if (!s || s.noBits || s.offset + s.size > bytes.length) return undefined;
  return bytes.at(s.offset, Math.min(s.size, maxBytes));
}

/** Reads `length` bytes at a virtual address, through the loadable segments (falling back to sections). */
export function readVirtual(bytes: BinaryBytes, elf: ElfFile, addr: number, length: number): Buffer | undefined {
  for (const seg of elf.segments) {
    if (addr >= seg.vaddr && addr + length <= seg.vaddr + seg.fileSize) {
      return bytes.at(seg.offset + (addr - seg.vaddr), length);
    }
  }
  for (const s of elf.sections) {
    if (!s.noBits && s.addr > 0 && addr >= s.addr && addr + length <= s.addr + s.size) {
      return bytes.at(s.offset + (addr - s.addr), length);
    }
  }
  return undefined;
}

function cString(buf: Buffer, start: number): string {
  if (start >= buf.length) return '';
  const nul = buf.indexOf(0, start);
  return buf.toString('latin1', start, nul < 0 ? buf.length : nul);
}

function reader(buf: Buffer, le: boolean) {
  const at = (offset: number, n: number): number => {
    if (offset < 0 || offset + n > buf.length) throw new BinaryFormatError('truncated ELF header');
    return offset;
  };
  return {
    u16: (o: number) => (le ? buf.readUInt16LE(at(o, 2)) : buf.readUInt16BE(at(o, 2))),
    u32: (o: number) => (le ? buf.readUInt32LE(at(o, 4)) : buf.readUInt32BE(at(o, 4))),
    // Offsets above 2^53 are nonsense in any file we can hold; Number() keeps the arithmetic simple.
    u64: (o: number) => Number(le ? buf.readBigUInt64LE(at(o, 8)) : buf.readBigUInt64BE(at(o, 8))),
  };
}
