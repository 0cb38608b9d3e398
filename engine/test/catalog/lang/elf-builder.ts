/** Builds minimal 64-bit little-endian ELF files with chosen sections, for tests of hostile and rare layouts. */
export interface SectionSpec {
  name: string;
  data: Buffer;
}

export const ELF_BASE = 0x400000;

/** Sections are laid out after the headers; one PT_LOAD maps the whole file at ELF_BASE (vaddr = base + offset). */
export function buildElf(sections: SectionSpec[]): { elf: Buffer; addrOf: (name: string) => number } {
  const headerSize = 64 + 56;
  const offsets = new Map<string, number>();
  let pos = headerSize;
  const chunks: Buffer[] = [];
  for (const s of sections) {
    const pad = (16 - (pos % 16)) % 16;
    chunks.push(Buffer.alloc(pad));
    pos += pad;
    offsets.set(s.name, pos);
    chunks.push(s.data);
    pos += s.data.length;
  }
  const names = ['', ...sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = Buffer.alloc(0);
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(`${n}\0`, 'latin1')]);
  }
  const strtabOffset = pos;
  chunks.push(strtab);
  pos += strtab.length;
  const shoff = pos;
  const shnum = names.length;
  const sh = Buffer.alloc(64 * shnum);
  sections.forEach((s, i) => {
    const at = 64 * (i + 1);
    const off = offsets.get(s.name) ?? 0;
    sh.writeUInt32LE(nameOffsets[i + 1] ?? 0, at);
    sh.writeUInt32LE(1, at + 4); // PROGBITS
    sh.writeBigUInt64LE(BigInt(ELF_BASE + off), at + 16);
    sh.writeBigUInt64LE(BigInt(off), at + 24);
    sh.writeBigUInt64LE(BigInt(s.data.length), at + 32);
  });
  const last = 64 * (shnum - 1);
  sh.writeUInt32LE(nameOffsets[shnum - 1] ?? 0, last);
  sh.writeUInt32LE(3, last + 4); // STRTAB
  sh.writeBigUInt64LE(BigInt(strtabOffset), last + 24);
  sh.writeBigUInt64LE(BigInt(strtab.length), last + 32);
  chunks.push(sh);
  pos += sh.length;

  const header = Buffer.alloc(headerSize);
  header.write('\x7fELF', 0, 'latin1');
  header[4] = 2; // 64-bit
  header[5] = 1; // little-endian
  header[6] = 1;
  header.writeUInt16LE(2, 16); // ET_EXEC
  header.writeUInt16LE(0x3e, 18); // x86-64
  header.writeUInt32LE(1, 20);
  header.writeBigUInt64LE(64n, 32); // phoff
  header.writeBigUInt64LE(BigInt(shoff), 40);
  header.writeUInt16LE(64, 52);
  header.writeUInt16LE(56, 54);
  header.writeUInt16LE(1, 56);
  header.writeUInt16LE(64, 58);
  header.writeUInt16LE(shnum, 60);
  header.writeUInt16LE(shnum - 1, 62);
  header.writeUInt32LE(1, 64); // PT_LOAD
  header.writeBigUInt64LE(0n, 64 + 8);
  header.writeBigUInt64LE(BigInt(ELF_BASE), 64 + 16);
  header.writeBigUInt64LE(BigInt(pos), 64 + 32);
  header.writeBigUInt64LE(BigInt(pos), 64 + 40);
  const elf = Buffer.concat([header, ...chunks]);
  return { elf, addrOf: (name) => ELF_BASE + (offsets.get(name) ?? 0) };
}
