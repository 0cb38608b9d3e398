/**
 * A minimal 64-bit little-endian Mach-O file: the header, one LC_SEGMENT_64 `__DATA` command whose sections are
 * the given ones, and their bytes after the load commands. The segment maps its file range at `vmaddr`.
 */
export function buildMachO(
  sections: { name: string; data: Buffer }[],
  vmaddr = 0x100000000,
): { macho: Buffer; vaOf: (name: string) => number } {
  const commandSize = 72 + sections.length * 80;
  const dataStart = 32 + commandSize;
  const head = Buffer.alloc(dataStart);
  head.writeUInt32LE(0xfeedfacf, 0);
  head.writeUInt32LE(0x01000007, 4);
  head.writeUInt32LE(2, 12);
  head.writeUInt32LE(1, 16);
  head.writeUInt32LE(commandSize, 20);
  const cmd = 32;
  head.writeUInt32LE(0x19, cmd);
  head.writeUInt32LE(commandSize, cmd + 4);
  head.write('__DATA', cmd + 8, 'latin1');
  const total = sections.reduce((n, s) => n + s.data.length, 0);
  head.writeBigUInt64LE(BigInt(vmaddr), cmd + 24);
  head.writeBigUInt64LE(BigInt(dataStart + total), cmd + 32);
  head.writeBigUInt64LE(0n, cmd + 40);
  head.writeBigUInt64LE(BigInt(dataStart + total), cmd + 48);
  head.writeUInt32LE(sections.length, cmd + 64);
  const addresses = new Map<string, number>();
  let offset = dataStart;
  sections.forEach((section, i) => {
    const at = cmd + 72 + i * 80;
    head.write(section.name, at, 16, 'latin1');
    head.write('__DATA', at + 16, 'latin1');
    head.writeBigUInt64LE(BigInt(vmaddr + offset), at + 32);
    head.writeBigUInt64LE(BigInt(section.data.length), at + 40);
    head.writeUInt32LE(offset, at + 48);
    addresses.set(section.name, vmaddr + offset);
    offset += section.data.length;
  });
  return {
    macho: Buffer.concat([head, ...sections.map((s) => s.data)]),
    vaOf: (name) => addresses.get(name) ?? 0,
  };
}
