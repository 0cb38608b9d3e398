/** The few facts of a PE (Windows) image's section table that catalogers need. */
export interface PeSection {
  name: string;
  /** Relative virtual address: where the loader maps it, from the image base. */
  virtualAddress: number;
  virtualSize: number;
  /** File offset and length of the section's bytes (without the file-alignment padding). */
  offset: number;
  size: number;
}

/** Real images have a few dozen sections; the COFF field allows 65535. */
const MAX_SECTIONS = 96;

export function isPe(buf: Buffer): boolean {
  return buf.length >= 64 && buf[0] === 0x4d && buf[1] === 0x5a;
}

/**
 * The section table of a PE file, or undefined when the file is not one (a DOS stub only, a bad `PE\0\0`
 * signature or a table outside the file). Sections whose bytes lie outside the file are left out.
 */
export function peSections(buf: Buffer): PeSection[] | undefined {
  return peImage(buf)?.sections;
}

export interface PeImage {
  /** The preferred load address (optional header), 0 when the file has no optional header. */
  imageBase: number;
  sections: PeSection[];
}

const PE32_MAGIC = 0x10b;
const PE32_PLUS_MAGIC = 0x20b;

export function peImage(buf: Buffer): PeImage | undefined {
  if (!isPe(buf)) return undefined;
  const pe = buf.readUInt32LE(0x3c);
  if (pe + 24 > buf.length || buf.readUInt32BE(pe) !== 0x50450000) return undefined;
  const count = buf.readUInt16LE(pe + 6);
  const optionalSize = buf.readUInt16LE(pe + 20);
  const optional = pe + 24;
  const table = optional + optionalSize;
  let imageBase = 0;
  if (optionalSize >= 32 && table <= buf.length) {
    const magic = buf.readUInt16LE(optional);
    if (magic === PE32_MAGIC) imageBase = buf.readUInt32LE(optional + 28);
    else if (magic === PE32_PLUS_MAGIC) imageBase = Number(buf.readBigUInt64LE(optional + 24));
  }
  if (count > MAX_SECTIONS || table + count * 40 > buf.length) return undefined;
  const sections: PeSection[] = [];
  for (let i = 0; i < count; i++) {
    const at = table + i * 40;
    const name = buf.toString('latin1', at, at + 8).replace(/\0.*$/s, '');
    const virtualSize = buf.readUInt32LE(at + 8);
    const virtualAddress = buf.readUInt32LE(at + 12);
    const rawSize = buf.readUInt32LE(at + 16);
    const offset = buf.readUInt32LE(at + 20);
    const size = virtualSize > 0 ? Math.min(virtualSize, rawSize) : rawSize;
    if (offset + size <= buf.length) sections.push({ name, virtualAddress, virtualSize, offset, size });
  }
  return { imageBase, sections };
}

/** Reads `length` bytes at an absolute virtual address (image base + RVA) from the section's file bytes. */
export function peReadVirtual(buf: Buffer, image: PeImage, addr: number, length: number): Buffer | undefined {
  const rva = addr - image.imageBase;
  for (const s of image.sections) {
    if (rva >= s.virtualAddress && rva + length <= s.virtualAddress + s.size) {
      const off = s.offset + (rva - s.virtualAddress);
      return buf.subarray(off, off + length);
    }
  }
  return undefined;
}

export function peSectionBytes(buf: Buffer, name: string): Buffer | undefined {
  const section = peSections(buf)?.find((s) => s.name === name);
  return section ? buf.subarray(section.offset, section.offset + section.size) : undefined;
}
