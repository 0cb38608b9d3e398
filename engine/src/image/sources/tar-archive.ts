import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { PassThrough, pipeline, Readable, Transform } from 'node:stream';
import { LadingError, thrownValueText } from '../../errors/lading-error.js';
import { decompressSniffed, sniffCompression } from '../layer/decompress.js';
import { FileRangeSource, StreamByteSource } from '../tar/byte-source.js';
import { isTarHeader, type TarEntry, TarReader } from '../tar/tar-reader.js';
import { limitWords, openRegularFile } from './regular-file.js';

export interface ArchiveMember {
  name: string;
  offset: number;
  size: number;
}

/** Manifests, configs and index files are small; a bigger one is not what it claims to be. */
export const MAX_METADATA_BYTES = 16 * 1024 * 1024;
const MAX_ARCHIVE_ENTRY = 2 ** 45;

/** Names inside image archives are compared after dropping `./` and leading slashes. */
export function memberName(name: string): string {
  return posix.normalize(name.replace(/^(\.\/)+/, '').replace(/^\/+/, '')).replace(/\/+$/, '');
}

/**
 * A tar holding an image (docker-archive, OCI archive). A plain tar is read in place: members are found by name and
 * read by offset, and plain-tar layers are seekable. A compressed one (`docker save | gzip`) is read front to back
 * in one pass (`readArchiveOnce`) and never unpacked to disk.
 */
export interface TarArchive {
  readonly file: string;
  /** The file holding the plain tar bytes that `locate` offsets refer to. */
  readonly path: string;
  readonly compressed: boolean;
  has(name: string): boolean;
  names(): string[];
  /** A metadata member, whole (refused above MAX_METADATA_BYTES). */
  readSmall(name: string): Promise<Buffer>;
  /** The first `n` bytes of a member (fewer when it is shorter): enough to sniff what it holds. */
  readHead(name: string, n: number): Promise<Buffer>;
  /** A member's bytes as a stream. */
  open(name: string): Readable;
  /** A member's size in bytes, as stored in the archive. */
  sizeOf(name: string): number | undefined;
  /** Where a member lies in the file (plain tars only), so readers can seek inside it. */
  locate(name: string): ArchiveMember | undefined;
  close(): Promise<void>;
}

class MemberIndex {
  readonly members = new Map<string, ArchiveMember>();
  /** Symlinked members (older `docker save` links duplicate layers to the first copy). */
  readonly links = new Map<string, string>();

  /** `file`: the archive as the user named it (for messages). */
  constructor(private readonly file: string) {}

  add(entry: TarEntry, offset: number): void {
    const name = memberName(entry.name);
    if (entry.type !== 'file' && entry.type !== 'symlink' && entry.type !== 'hardlink') return;
    // Readers disagree on which copy counts (tar extracts the last, an index may keep the first): refused, so no
    // digest check can pass on one copy while another is cataloged.
    if (this.members.has(name) || this.links.has(name)) {
      throw new LadingError('BAD_INPUT', `${this.file}: the archive holds ${name} more than once; refused`);
    }
    if (entry.type === 'file') this.members.set(name, { name, offset, size: entry.size });
    else if (entry.type === 'symlink' || entry.type === 'hardlink') {
      const target = entry.type === 'symlink' ? posix.join(posix.dirname(name), entry.linkname) : entry.linkname;
      this.links.set(name, memberName(target));
    }
  }

  find(name: string): ArchiveMember | undefined {
    let key = memberName(name);
    for (let hops = 0; hops < 8; hops++) {
      const hit = this.members.get(key);
      if (hit) return hit;
      const next = this.links.get(key);
      if (next === undefined) return undefined;
      key = next;
    }
    return undefined;
  }

  names(): string[] {
    return [...this.members.keys(), ...this.links.keys()];
  }
}

/**
 * The digest a member's name promises (`<hex>.json`, `blobs/<alg>/<hex>`), if any: such a member is checked
 * against it as it is read.
 */
export function digestFromName(name: string): string | undefined {
  const normalized = memberName(name);
  const blob = /(?:^|\/)blobs\/(sha256|sha384|sha512)\/([a-f0-9]+)$/.exec(normalized);
  if (blob) return `${blob[1]}:${blob[2]}`;
  const m = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(normalized);
  return m ? `sha256:${m[1]}` : undefined;
}

function tooLarge(file: string, name: string): LadingError {
  return new LadingError('LIMIT', `${file}: ${name} is larger than ${limitWords(MAX_METADATA_BYTES)}`);
}

function missing(file: string, name: string): LadingError {
  return new LadingError('NOT_FOUND', `${file}: archive has no ${name}`);
}

class PlainTarArchive implements TarArchive {
  readonly compressed: boolean = false;
  constructor(
    /** The archive as the user named it (for messages). */
    readonly file: string,
    private readonly index: MemberIndex,
    private readonly fh: FileHandle,
    readonly path: string = file,
  ) {}

  has(name: string): boolean {
    return this.index.find(name) !== undefined;
  }
  names(): string[] {
    return this.index.names();
  }
  locate(name: string): ArchiveMember | undefined {
    return this.index.find(name);
  }
  sizeOf(name: string): number | undefined {
    return this.index.find(name)?.size;
  }

  async readSmall(name: string): Promise<Buffer> {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    if (m.size > MAX_METADATA_BYTES) throw tooLarge(this.file, name);
    const buf = Buffer.alloc(m.size);
    const { bytesRead } = await this.fh.read(buf, 0, m.size, m.offset);
    if (bytesRead < m.size) throw new LadingError('BAD_INPUT', `${this.file}: ${name} is truncated`);
    return buf;
  }

  async readHead(name: string, n: number): Promise<Buffer> {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    const buf = Buffer.alloc(Math.min(n, m.size));
    const { bytesRead } = await this.fh.read(buf, 0, buf.length, m.offset);
    return buf.subarray(0, bytesRead);
  }

  open(name: string): Readable {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    if (m.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export interface TarArchiveOptions {
  /**
   * Most bytes a compressed archive may inflate to (default 64 GiB): a decompression bomb cap on the archive as a
   * whole, which may hold other images besides the one asked for.
   */
  maxInflatedBytes?: number;
  /** How messages name that limit, when it derives from another (`four times the image's 1073741824-byte limit`). */
  limitWords?: string;
}

const DEFAULT_MAX_ARCHIVE_INFLATE = 64 * 1024 ** 3;
/** All metadata members of a compressed archive together (they are held in memory). */
const MAX_KEPT_METADATA_BYTES = 64 * 1024 * 1024;

/** True when the open file starts with gzip or zstd magic: a compressed archive, readable only front to back. */
async function startsCompressed(fh: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(4);
  await fh.read(head, 0, 4, 0);
  return sniffCompression(head) !== 'none';
}

/** True when the file starts with gzip or zstd magic: a compressed archive, readable only front to back. */
export async function isCompressedFile(file: string): Promise<boolean> {
  const fh = await openRegularFile(file, 'archive');
  try {
    return await startsCompressed(fh);
  } finally {
    await fh.close();
  }
}

/**
 * Opens a tar or tar.gz image archive and indexes its members. A plain tar is read in place. A compressed one is
 * read once, front to back, keeping only its metadata members in memory (see `readArchiveOnce`): its layers cannot
 * be opened from the result, so image sources read them in that one pass instead.
 */
export async function openTarArchive(file: string, options: TarArchiveOptions = {}): Promise<TarArchive> {
  const fh = await openRegularFile(file, 'archive');
  try {
    if (await startsCompressed(fh)) {
      await fh.close();
      return await readArchiveOnce(file, async () => {}, options);
    }
    return await indexPlainTar(file, fh, file);
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

async function indexPlainTar(path: string, fh: FileHandle, file: string): Promise<PlainTarArchive> {
  const index = new MemberIndex(file);
  const { size } = await fh.stat();
  const reader = new TarReader(FileRangeSource.over(fh, 0, size), { maxEntryBytes: MAX_ARCHIVE_ENTRY });
  for (let e = await reader.next(); e; e = await reader.next()) index.add(e, e.dataOffset);
  return new PlainTarArchive(file, index, fh, path);
}

/** A member of a compressed archive that may be a layer, met during the one pass. */
export interface StreamedMember {
  /** The member's name (normalized as `memberName` does). */
  name: string;
  size: number;
  /**
   * Its bytes, as stored. The pass feeds them as the visitor reads; a visitor that returns (or fails) early leaves
   * the rest, which the pass skips.
   */
  data: Readable;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/**
 * Metadata members (manifest.json, index.json, oci-layout, configs, OCI manifests, `repositories`) are JSON; every
 * other member may be a layer (a tar, gzip or zstd stream, or an empty one) and is offered to the visitor.
 */
function isJson(head: Buffer): boolean {
  // A tar whose first entry's name starts with `{` or `[` is still a tar: its header's checksum says so.
  if (isTarHeader(head)) return false;
  for (const b of head) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === OPEN_BRACE || b === OPEN_BRACKET;
  }
  return false;
}

/** The archive's member names and metadata, gathered by `readArchiveOnce`. Members are not at offsets. */
export class StreamedTarArchive implements TarArchive {
  readonly compressed = true;
  readonly path: string;

  constructor(
    readonly file: string,
    private readonly index: MemberIndex,
    private readonly kept: ReadonlyMap<string, Buffer>,
    /** JSON members left unkept once the metadata cap was reached. */
    private readonly overflow: ReadonlySet<string>,
  ) {
    this.path = file;
  }

  has(name: string): boolean {
    return this.index.find(name) !== undefined;
  }
  names(): string[] {
    return this.index.names();
  }
  locate(): undefined {
    return undefined;
  }
  sizeOf(name: string): number | undefined {
    return this.index.find(name)?.size;
  }

  async readSmall(name: string): Promise<Buffer> {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    const data = this.kept.get(m.name);
    if (data) return data;
    if (this.overflow.has(m.name)) {
      throw new LadingError('LIMIT', `${this.file}: more than ${MAX_KEPT_METADATA_BYTES} bytes of JSON before ${name}`);
    }
    if (m.size > MAX_METADATA_BYTES) throw tooLarge(this.file, name);
    throw new LadingError('BAD_INPUT', `${this.file}: ${name} is not JSON`);
  }

  async readHead(name: string, n: number): Promise<Buffer> {
    return (await this.readSmall(name)).subarray(0, n);
  }

  open(name: string): Readable {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    const data = this.kept.get(m.name);
    if (!data) {
      throw new LadingError('BAD_INPUT', `${this.file}: ${name} can only be read in the archive's one pass`);
    }
    return Readable.from([data]);
  }

  /** The member a name leads to (through member links), for matching layers to what the pass met. */
  canonical(name: string): string | undefined {
    return this.index.find(name)?.name;
  }

  async close(): Promise<void> {}
}

/**
 * Reads a compressed archive once, front to back: nothing is written to disk, no member is held whole except
 * metadata. `visit` gets each member that may be a layer as the pass reaches it, since which members are the
 * image's layers is known only from manifest.json or index.json, which writers usually put last. The pass alone
 * reads the archive: it hands the visitor each piece as the visitor takes it, so no read can overlap the next header.
 */
export async function readArchiveOnce(
  file: string,
  visit: (member: StreamedMember) => Promise<void>,
  options: TarArchiveOptions = {},
): Promise<StreamedTarArchive> {
  const index = new MemberIndex(file);
  const kept = new Map<string, Buffer>();
  const overflow = new Set<string>();
  let keptBytes = 0;
  const max = options.maxInflatedBytes ?? DEFAULT_MAX_ARCHIVE_INFLATE;
  let total = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > max) {
        cb(new LadingError('LIMIT', `${file} inflates past ${options.limitWords ?? `the ${max}-byte limit`}`));
      } else cb(null, chunk);
    },
  });
  // Checked here too: the pass may be the first to open the file, and a pipe or directory must fail at once.
  const fh = await openRegularFile(file, 'archive');
  const { stream } = await decompressSniffed(fh.createReadStream({ highWaterMark: 1 << 20 }));
  const inflated = pipeline(stream, cap, () => {});
  const src = new StreamByteSource(inflated);
  try {
    const reader = new TarReader(src, { maxEntryBytes: MAX_ARCHIVE_ENTRY });
    for (let e = await reader.next(); e; e = await reader.next()) {
      index.add(e, e.dataOffset);
      if (e.type !== 'file') continue;
      const name = memberName(e.name);
      const pieces = reader.contentPieces(e);
      const first = await pieces.next();
      const head = first.done ? Buffer.alloc(0) : first.value;
      if (e.size > 0 && e.size <= MAX_METADATA_BYTES && isJson(head)) {
        if (keptBytes + e.size > MAX_KEPT_METADATA_BYTES) {
          overflow.add(name);
          continue;
        }
        const parts = [Buffer.from(head)];
        for await (const piece of pieces) parts.push(Buffer.from(piece));
        keptBytes += e.size;
        kept.set(name, Buffer.concat(parts, e.size));
        continue;
      }
      await feed(name, e.size, head, pieces, visit);
    }
    await src.drain();
  } catch (err) {
    await src.close();
    if (err instanceof LadingError) throw err;
    const message = thrownValueText(err);
    throw new LadingError('BAD_INPUT', `${file}: cannot read: ${message}`, { cause: err });
  }
  return new StreamedTarArchive(file, index, kept, overflow);
}

/** Offers one member to the visitor, writing its pieces as the visitor reads them, until either side is done. */
async function feed(
  name: string,
  size: number,
  head: Buffer,
  pieces: AsyncGenerator<Buffer>,
  visit: (member: StreamedMember) => Promise<void>,
): Promise<void> {
  const data = new PassThrough({ highWaterMark: 1 << 20 });
  // A failure of the archive is reported by the pass; the visitor may not be listening when it is destroyed.
  data.on('error', () => {});
  let settled = false;
  const visiting = visit({ name, size, data }).finally(() => {
    settled = true;
  });
  // The visit's outcome is the caller's; here it only says when to stop writing.
  const stopped = visiting.then(
    () => 'stopped' as const,
    () => 'stopped' as const,
  );
  const write = async (piece: Buffer): Promise<boolean> => {
    if (settled || data.destroyed) return false;
    if (data.write(piece)) return true;
    const drained = once(data, 'drain').then(
      () => 'drained' as const,
      () => 'stopped' as const,
    );
    return (await Promise.race([drained, stopped])) === 'drained';
  };
  try {
    let more = head.length === 0 || (await write(head));
    while (more) {
      const next = await pieces.next();
      if (next.done) break;
      more = await write(next.value);
    }
    if (more) data.end();
    else data.destroy();
  } catch (err) {
    // The archive itself failed (cut short, corrupt): the visitor sees it too, and the pass fails with it.
    data.destroy(err as Error);
    await visiting.catch(() => {});
    throw err;
  }
  await visiting;
}
