/**
 * A minimal PE image as linkers lay it out: DOS header pointing at `PE\0\0`, a COFF header, an optional header
 * (PE32+, with the image base) when `imageBase` is given, a section table, and each section's bytes at a
 * 512-byte-aligned file offset, padded to that alignment. Section i is mapped at RVA 0x1000 * (i + 1).
 */
export function buildPe(
  sections: { name: string; data: Buffer }[],
  options: { imageBase?: bigint } = {},
): { pe: Buffer; vaOf: (name: string) => number } {
  const peAt = 0x40;
  const optionalSize = options.imageBase === undefined ? 0 : 112;
  const table = peAt + 24 + optionalSize;
  const align = (n: number) => Math.ceil(n / 512) * 512;
  let dataAt = align(table + sections.length * 40);
  const head = Buffer.alloc(dataAt);
  head.write('MZ', 0, 'latin1');
  head.writeUInt32LE(peAt, 0x3c);
  head.writeUInt32BE(0x50450000, peAt);
  head.writeUInt16LE(0x8664, peAt + 4);
  head.writeUInt16LE(sections.length, peAt + 6);
  head.writeUInt16LE(optionalSize, peAt + 20);
  if (options.imageBase !== undefined) {
    head.writeUInt16LE(0x20b, peAt + 24);
    head.writeBigUInt64LE(options.imageBase, peAt + 24 + 24);
  }
  const bodies: Buffer[] = [];
  const rvas = new Map<string, number>();
  sections.forEach((section, i) => {
    const at = table + i * 40;
    const rva = 0x1000 * (i + 1);
    rvas.set(section.name, rva);
    head.write(section.name, at, 8, 'latin1');
    const padded = Buffer.concat([section.data, Buffer.alloc(align(section.data.length) - section.data.length)]);
    // VirtualSize is the exact length; the raw size is padded to the file alignment.
    head.writeUInt32LE(section.data.length, at + 8);
    head.writeUInt32LE(rva, at + 12);
    head.writeUInt32LE(padded.length, at + 16);
    head.writeUInt32LE(dataAt, at + 20);
    bodies.push(padded);
    dataAt += padded.length;
  });
  return {
    pe: Buffer.concat([head, ...bodies]),
    vaOf: (name) => Number(options.imageBase ?? 0n) + (rvas.get(name) ?? 0),
  };
}
