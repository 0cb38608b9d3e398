import { errorText } from '../common.js';
import { type BinaryBytes, BinaryFormatError, bytesOf, type ElfFile, isElf, parseElf, sectionBytes } from './elf.js';
import { type GoBuildInfo, readGoBuildInfo, type VirtualReader } from './go-buildinfo.js';
import { machOReadVirtual, machOSectionBytes, parseMachO } from './macho.js';
import { peImage, peReadVirtual, peSectionBytes } from './pe.js';

/** What a binary holds that catalogers care about: small enough to keep for every executable of an image. */
export interface BinaryFacts {
  go?: GoBuildInfo;
  /** cargo-auditable's `.dep-v0` section, still compressed. */
  rustDeps?: Buffer;
  /** Why a binary that looked like one could not be read. */
  problem?: string;
}

/** Largest `.dep-v0` kept (compressed); real ones are a few KiB. */
const MAX_RUST_SECTION = 1024 * 1024;

export function looksLikeBinary(buf: Buffer): boolean {
  if (buf.length < 4) return false;
  if (isElf(buf)) return true;
  const m = buf.readUInt32BE(0);
  // Mach-O (both endiannesses, 32/64-bit) and PE ("MZ"); not 0xcafebabe, which Java class files share.
  return (
    m === 0xfeedface || m === 0xfeedfacf || m === 0xcefaedfe || m === 0xcffaedfe || (buf[0] === 0x4d && buf[1] === 0x5a)
  );
}

/** Undefined when the file is not a binary or holds nothing of interest (scripts, C programs, stripped Go). */
export function extractBinaryFacts(buf: Buffer): BinaryFacts | undefined {
  return extractBinaryFactsFrom(bytesOf(buf));
}

/**
 * The same, reading only what it needs: for an ELF file with section headers (every Linux Go or Rust binary),
 * its headers, `.go.buildinfo`, what that points to, and `.dep-v0`. Other formats are read whole.
 */
export function extractBinaryFactsFrom(bytes: BinaryBytes): BinaryFacts | undefined {
  const head = bytes.at(0, Math.min(4, bytes.length));
  if (!head || !looksLikeBinary(head)) return undefined;
  const facts: BinaryFacts = {};
  let elf: ElfFile | undefined;
  let elfProblem: string | undefined;
  if (isElf(head)) {
    try {
      elf = parseElf(bytes);
    } catch (err) {
      if (!(err instanceof BinaryFormatError)) throw err;
      elfProblem = err.message;
    }
  }
  // Outside ELF: the PE or Mach-O tables resolve pre-1.18 Go pointers and locate `.dep-v0`.
  const buf = elf ? undefined : bytes.whole();
  const pe = buf ? tablesOf(() => peImage(buf)) : undefined;
  const macho = buf && !pe ? tablesOf(() => parseMachO(buf)) : undefined;
  let readOther: VirtualReader | undefined;
  if (buf && pe) readOther = (addr, length) => peReadVirtual(buf, pe, addr, length);
  else if (buf && macho) readOther = (addr, length) => machOReadVirtual(buf, macho, addr, length);
  try {
    const go = readGoBuildInfo(bytes, elf, readOther);
    if (go) facts.go = go;
  } catch (err) {
    facts.problem = `Go build info: ${errorText(err)}`;
  }
  // cargo-auditable names the section `.dep-v0` in every format (in Mach-O, within the __DATA segment).
  let dep: Buffer | undefined;
  let depTooLarge = false;
  if (elf) {
    // Judged by its header before reading: a forged size must not make us read the whole file.
    depTooLarge = elf.sections.some((s) => s.name === '.dep-v0' && !s.noBits && s.size > MAX_RUST_SECTION);
    if (!depTooLarge) dep = sectionBytes(bytes, elf, '.dep-v0');
  } else if (buf && pe) dep = peSectionBytes(buf, '.dep-v0');
  else if (buf && macho) dep = machOSectionBytes(buf, macho, '.dep-v0');
  if (dep && dep.length <= MAX_RUST_SECTION) facts.rustDeps = Buffer.from(dep);
  else if (dep || depTooLarge) facts.problem = '.dep-v0 section is implausibly large';
  if (!facts.go && !facts.rustDeps && !facts.problem) {
    // A broken ELF header matters only if nothing else could be read from the file.
    if (elfProblem) facts.problem = elfProblem;
    else return undefined;
  }
  return facts;
}

/** Header tables of a forged file can point anywhere: a read past the end means there are none to use. */
function tablesOf<T>(parse: () => T | undefined): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

export function encodeFacts(facts: BinaryFacts): Buffer {
  return Buffer.from(
    JSON.stringify({
      go: facts.go,
      rustDeps: facts.rustDeps?.toString('base64'),
      problem: facts.problem,
    }),
  );
}

export function decodeFacts(buf: Buffer): BinaryFacts {
  const raw = JSON.parse(buf.toString('utf8')) as { go?: GoBuildInfo; rustDeps?: string; problem?: string };
  const facts: BinaryFacts = {};
  if (raw.go) facts.go = raw.go;
  if (raw.rustDeps) facts.rustDeps = Buffer.from(raw.rustDeps, 'base64');
  if (raw.problem) facts.problem = raw.problem;
  return facts;
}
