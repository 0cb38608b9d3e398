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

const MAX_HEADERS = 65_535;

export function isElf(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

export function parseElf(buf: Buffer): ElfFile {
  if (!isElf(buf) || buf.length < 52) throw new BinaryFormatError('not an ELF file');
  const cls = buf[4];
  const data = buf[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) throw new BinaryFormatError('bad ELF identification');
  const is64 = cls === 2;
  const le = data === 1;
  const r = reader(buf, le);
  if (is64 && buf.length < 64) throw new BinaryFormatError('truncated ELF header');
  const phoff = is64 ? r.u64(32) : r.u32(28);
  const shoff = is64 ? r.u64(40) : r.u32(32);
  const phentsize = r.u16(is64 ? 54 : 42);
  const phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  const shnum = r.u16(is64 ? 60 : 48);
  const shstrndx = r.u16(is64 ? 62 : 50);

  const segments: ElfSegment[] = [];
  if (phoff > 0 && phnum > 0 && phnum <= MAX_HEADERS && phentsize >= (is64 ? 56 : 32)) {
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (at + phentsize > buf.length) break;
      const type = r.u32(at);
      if (type !== 1) continue; // PT_LOAD
      segments.push(
        is64
          ? { offset: r.u64(at + 8), vaddr: r.u64(at + 16), fileSize: r.u64(at + 32) }
          : { offset: r.u32(at + 4), vaddr: r.u32(at + 8), fileSize: r.u32(at + 16) },
      );
    }
  }

  const raw: { nameOff: number; type: number; addr: number; offset: number; size: number }[] = [];
  if (shoff > 0 && shnum > 0 && shnum <= MAX_HEADERS && shentsize >= (is64 ? 64 : 40)) {
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      if (at + shentsize > buf.length) break;
      raw.push(
        is64
          ? {
              nameOff: r.u32(at),
              type: r.u32(at + 4),
              addr: r.u64(at + 16),
              offset: r.u64(at + 24),
              size: r.u64(at + 32),
            }
          : {
              nameOff: r.u32(at),
              type: r.u32(at + 4),
              addr: r.u32(at + 12),
              offset: r.u32(at + 16),
              size: r.u32(at + 20),
            },
      );
    }
  }
  const strtab = raw[shstrndx];
  const sections = raw.map((s) => ({
    name: strtab ? cString(buf, strtab.offset + s.nameOff, strtab.offset + strtab.size) : '',
    offset: s.offset,
    size: s.size,
    addr: s.addr,
    noBits: s.type === 8,
  }));
  return { is64, littleEndian: le, sections, segments };
}

/** The bytes of a named section, or undefined when absent or lying outside the file. */
export function sectionBytes(buf: Buffer, elf: ElfFile, name: string): Buffer | undefined {
  const s = elf.sections.find((x) => x.name === name);
  if (!s || s.noBits || s.offset + s.size > buf.length) return undefined;
  return buf.subarray(s.offset, s.offset + s.size);
}

/** Reads `length` bytes at a virtual address, through the loadable segments (falling back to sections). */
export function readVirtual(buf: Buffer, elf: ElfFile, addr: number, length: number): Buffer | undefined {
  for (const seg of elf.segments) {
    if (addr >= seg.vaddr && addr + length <= seg.vaddr + seg.fileSize) {
      const off = seg.offset + (addr - seg.vaddr);
      return off + length <= buf.length ? buf.subarray(off, off + length) : undefined;
    }
  }
  for (const s of elf.sections) {
    if (!s.noBits && s.addr > 0 && addr >= s.addr && addr + length <= s.addr + s.size) {
      const off = s.offset + (addr - s.addr);
      return off + length <= buf.length ? buf.subarray(off, off + length) : undefined;
    }
  }
  return undefined;
}

function cString(buf: Buffer, start: number, limit: number): string {
  const end = Math.min(limit, buf.length);
  if (start >= end) return '';
  const nul = buf.indexOf(0, start);
  return buf.toString('latin1', start, nul < 0 || nul > end ? end : nul);
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
