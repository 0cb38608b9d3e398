/** The segments and sections of a thin Mach-O file (macOS/iOS), as far as catalogers need them. */
export interface MachOFile {
  segments: { vmaddr: number; fileoff: number; filesize: number }[];
  sections: { segment: string; name: string; offset: number; size: number }[];
}

const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;
/** Real files have a few dozen load commands; a forged count must not make us loop for long. */
const MAX_COMMANDS = 4096;

export function isMachO(buf: Buffer): boolean {
  if (buf.length < 28) return false;
  const magic = buf.readUInt32LE(0);
  return magic === 0xfeedface || magic === 0xfeedfacf || magic === 0xcefaedfe || magic === 0xcffaedfe;
}

/**
 * The segment and section tables, or undefined for a file too broken to have them. Universal ("fat") files are
 * not read: their magic is Java's class-file magic too. Entries pointing outside the file are left out.
 */
export function parseMachO(buf: Buffer): MachOFile | undefined {
  if (!isMachO(buf)) return undefined;
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xfeedface || magic === 0xfeedfacf;
  const wide = magic === 0xfeedfacf || magic === 0xcffaedfe;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const word = wide ? u64 : u32;
  const wordSize = wide ? 8 : 4;
  const file: MachOFile = { segments: [], sections: [] };
  const count = Math.min(u32(16), MAX_COMMANDS);
  let at = wide ? 32 : 28;
  for (let i = 0; i < count && at + 8 <= buf.length; i++) {
    const cmd = u32(at);
    const size = u32(at + 4);
    if (size < 8 || at + size > buf.length) break;
    if (cmd === (wide ? LC_SEGMENT_64 : LC_SEGMENT)) {
      const header = 24 + 4 * wordSize + 16;
      if (size < header) break;
      const fields = at + 24;
      const vmaddr = word(fields);
      const fileoff = word(fields + 2 * wordSize);
      const filesize = word(fields + 3 * wordSize);
      if (fileoff + filesize <= buf.length) file.segments.push({ vmaddr, fileoff, filesize });
      const nsects = u32(fields + 4 * wordSize + 8);
      const sectionSize = 32 + 2 * wordSize + 28 + (wide ? 4 : 0);
      for (let s = 0; s < nsects && header + (s + 1) * sectionSize <= size; s++) {
        const sect = at + header + s * sectionSize;
        const name = cString(buf, sect, 16);
        const segment = cString(buf, sect + 16, 16);
        const sectSize = word(sect + 32 + wordSize);
        const offset = u32(sect + 32 + 2 * wordSize);
        if (offset > 0 && offset + sectSize <= buf.length)
          file.sections.push({ segment, name, offset, size: sectSize });
      }
    }
    at += size;
  }
  return file;
}

export function machOSectionBytes(buf: Buffer, file: MachOFile, name: string): Buffer | undefined {
  const s = file.sections.find((x) => x.name === name);
  return s ? buf.subarray(s.offset, s.offset + s.size) : undefined;
}

/** Reads `length` bytes at a virtual address through the segments' file mappings. */
export function machOReadVirtual(buf: Buffer, file: MachOFile, addr: number, length: number): Buffer | undefined {
  for (const seg of file.segments) {
    if (addr >= seg.vmaddr && addr + length <= seg.vmaddr + seg.filesize) {
      const off = seg.fileoff + (addr - seg.vmaddr);
      return buf.subarray(off, off + length);
    }
  }
  return undefined;
}

function cString(buf: Buffer, start: number, max: number): string {
  const raw = buf.subarray(start, start + max);
  const nul = raw.indexOf(0);
  return raw.toString('latin1', 0, nul < 0 ? raw.length : nul);
}
