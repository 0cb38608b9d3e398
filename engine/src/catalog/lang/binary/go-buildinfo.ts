import { type BinaryBytes, type ElfFile, readVirtual, sectionBytes } from './elf.js';

/** The two strings a Go toolchain embeds in every binary it links (`go version -m` prints them). */
export interface GoBuildInfo {
  /** `go1.21.3`, as recorded. */
  goVersion: string;
  /** The module lines (`path`, `mod`, `dep`, `=>`, `build`), sentinels stripped. */
  modInfo: string;
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER = 32;
const MAX_VERSION = 1024;
const MAX_MODINFO = 4 * 1024 * 1024;
/** Forged binaries could repeat the magic everywhere; the real header is among the first few hits. */
const MAX_CANDIDATES = 16;
/** The most of `.go.buildinfo` any valid header can use: its 32 bytes, two varint lengths and both strings. */
const MAX_SECTION = HEADER + 2 * 10 + MAX_VERSION + MAX_MODINFO;

export class GoBuildInfoError extends Error {}

/** Reads `length` bytes at a virtual address of the loaded image, or undefined when the file does not hold them. */
export type VirtualReader = (addr: number, length: number) => Buffer | undefined;

/**
 * Finds and decodes the build info. `elf` (when the file is ELF) locates `.go.buildinfo` directly and resolves
 * the pointers of the pre-1.18 format; other containers (Mach-O, PE) are searched for the magic, which finds
 * the inline format of Go 1.18+, and `readOther` (PE) resolves pre-1.18 pointers there. Returns undefined when
 * the binary has none (not Go, or stripped of it).
 */
export function readGoBuildInfo(
  bytes: BinaryBytes,
  elf: ElfFile | undefined,
  readOther?: VirtualReader,
): GoBuildInfo | undefined {
  const readAt: VirtualReader | undefined = elf ? (addr, length) => readVirtual(bytes, elf, addr, length) : readOther;
  const section = elf ? sectionBytes(bytes, elf, '.go.buildinfo', MAX_SECTION) : undefined;
  if (section?.subarray(0, MAGIC.length).equals(MAGIC)) return decodeAt(section, 0, readAt);
  // Go has named the section since 1.13: an ELF with section headers but without it is not Go (C, Rust, ...).
  if (elf && elf.sections.length > 0 && !section) return undefined;
  // No section table to go by: search the whole file for the header (Go 1.18+ keeps its strings inline).
  const buf = bytes.whole();
  let from = 0;
  for (let i = 0; i < MAX_CANDIDATES; i++) {
    const at = buf.indexOf(MAGIC, from);
    if (at < 0) return undefined;
    from = at + 1;
    const ptrSize = buf[at + 14];
    if (at % 16 !== 0 || (ptrSize !== 4 && ptrSize !== 8)) continue;
    return decodeAt(buf, at, readAt);
  }
  return undefined;
}

function decodeAt(region: Buffer, at: number, readAt: VirtualReader | undefined): GoBuildInfo {
  if (at + HEADER > region.length) throw new GoBuildInfoError('truncated Go build info header');
  const ptrSize = region[at + 14] ?? 0;
  const flags = region[at + 15] ?? 0;
  if (ptrSize !== 4 && ptrSize !== 8) throw new GoBuildInfoError(`bad Go build info pointer size ${ptrSize}`);
  const bigEndian = (flags & 0x1) !== 0;
  let goVersion: Buffer;
  let modInfo: Buffer;
  if (flags & 0x2) {
    const first = readVarString(region, at + HEADER, MAX_VERSION);
    goVersion = first.bytes;
    modInfo = readVarString(region, first.next, MAX_MODINFO).bytes;
  } else {
    if (!readAt) throw new GoBuildInfoError('pre-1.18 Go build info outside ELF and PE is not supported');
    const readPtr = (b: Buffer, o: number): number => {
      if (o + ptrSize > b.length) throw new GoBuildInfoError('truncated Go build info pointer');
      if (ptrSize === 4) return bigEndian ? b.readUInt32BE(o) : b.readUInt32LE(o);
      return Number(bigEndian ? b.readBigUInt64BE(o) : b.readBigUInt64LE(o));
    };
    const readGoString = (headerAddr: number, max: number): Buffer => {
      const header = readAt(headerAddr, 2 * ptrSize);
      if (!header) throw new GoBuildInfoError('Go build info string header points outside the file');
      const dataAddr = readPtr(header, 0);
      const len = readPtr(header, ptrSize);
      if (len === 0) return Buffer.alloc(0);
      if (len > max) throw new GoBuildInfoError('Go build info string is implausibly long');
      const data = readAt(dataAddr, len);
      if (!data) throw new GoBuildInfoError('Go build info string points outside the file');
      return data;
    };
    goVersion = readGoString(readPtr(region, at + 16), MAX_VERSION);
    modInfo = readGoString(readPtr(region, at + 16 + ptrSize), MAX_MODINFO);
  }
  return { goVersion: goVersion.toString('utf8'), modInfo: stripSentinels(modInfo).toString('utf8') };
}

function readVarString(buf: Buffer, start: number, max: number): { bytes: Buffer; next: number } {
  let len = 0;
  let shift = 0;
  let pos = start;
  for (;;) {
    if (pos >= buf.length || shift > 35) throw new GoBuildInfoError('truncated Go build info string length');
    const byte = buf[pos++] ?? 0;
    len += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  if (len > max) throw new GoBuildInfoError('Go build info string is implausibly long');
  if (pos + len > buf.length) throw new GoBuildInfoError('truncated Go build info string');
  return { bytes: buf.subarray(pos, pos + len), next: pos + len };
}

/** The linker wraps the module info in 16 random-looking bytes on each side so the runtime can find it. */
function stripSentinels(mod: Buffer): Buffer {
  if (mod.length >= 33 && mod[mod.length - 17] === 0x0a) return mod.subarray(16, mod.length - 16);
  return mod;
}
