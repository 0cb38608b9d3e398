import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { LadingError } from '../../errors/lading-error.js';
import { decompressSniffed, sniffCompression } from '../layer/decompress.js';
import { FileRangeSource, StreamByteSource } from '../tar/byte-source.js';
import { type TarEntry, TarReader } from '../tar/tar-reader.js';

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
 * A tar holding an image (docker-archive, OCI archive), read in place: members are found by name and read by
 * offset. Plain tars are indexed by seeking over contents; gzip'd ones by one streaming pass that keeps only the
 * small metadata members, after which a member is read by streaming again up to it.
 */
export interface TarArchive {
  readonly file: string;
  readonly compressed: boolean;
  has(name: string): boolean;
  names(): string[];
  /** A metadata member, whole (refused above MAX_METADATA_BYTES). */
  readSmall(name: string): Promise<Buffer>;
  /** A member's bytes as a stream. */
  open(name: string): Readable;
  /** Where a member lies in the file (plain tars only), so readers can seek inside it. */
  locate(name: string): ArchiveMember | undefined;
  close(): Promise<void>;
}

function isMetadata(name: string): boolean {
  return name.endsWith('.json') || name === 'repositories' || name === 'oci-layout' || !name.includes('/');
}

class MemberIndex {
  readonly members = new Map<string, ArchiveMember>();
  /** Symlinked members (older `docker save` links duplicate layers to the first copy). */
  readonly links = new Map<string, string>();

  add(entry: TarEntry, offset: number): void {
    const name = memberName(entry.name);
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

function missing(file: string, name: string): LadingError {
  return new LadingError('NOT_FOUND', `${file}: archive has no ${name}`);
}

class PlainTarArchive implements TarArchive {
  readonly compressed = false;
  constructor(
    readonly file: string,
    private readonly index: MemberIndex,
    private readonly fh: FileHandle,
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

  async readSmall(name: string): Promise<Buffer> {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    if (m.size > MAX_METADATA_BYTES) throw new LadingError('BAD_INPUT', `${this.file}: ${name} is implausibly large`);
    const buf = Buffer.alloc(m.size);
    const { bytesRead } = await this.fh.read(buf, 0, m.size, m.offset);
    if (bytesRead < m.size) throw new LadingError('BAD_INPUT', `${this.file}: ${name} is truncated`);
    return buf;
  }

  open(name: string): Readable {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    if (m.size === 0) return Readable.from([]);
    return createReadStream(this.file, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

class GzipTarArchive implements TarArchive {
  readonly compressed = true;
  constructor(
    readonly file: string,
    private readonly index: MemberIndex,
    private readonly small: Map<string, Buffer>,
  ) {}

  has(name: string): boolean {
    return this.index.find(name) !== undefined;
  }
  names(): string[] {
    return this.index.names();
  }
  locate(): undefined {
    return undefined;
  }

  async readSmall(name: string): Promise<Buffer> {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    const kept = this.small.get(m.name);
    if (kept) return kept;
    throw new LadingError('BAD_INPUT', `${this.file}: ${name} is implausibly large`);
  }

  open(name: string): Readable {
    const m = this.index.find(name);
    if (!m) throw missing(this.file, name);
    const file = this.file;
    async function* member(): AsyncGenerator<Buffer> {
      const { stream } = await decompressSniffed(createReadStream(file, { highWaterMark: 1 << 20 }));
      const src = new StreamByteSource(stream);
      try {
        if ((await src.skip(m!.offset)) < m!.offset) throw new LadingError('BAD_INPUT', `${file} is truncated`);
        let left = m!.size;
        while (left > 0) {
          const piece = await src.read(Math.min(left, 1 << 20));
          if (piece.length === 0) throw new LadingError('BAD_INPUT', `${file} is truncated`);
          left -= piece.length;
          yield piece;
        }
      } finally {
        await src.close();
      }
    }
    return Readable.from(member(), { objectMode: false });
  }

  async close(): Promise<void> {}
}

/** Opens a tar or tar.gz image archive and indexes its members. */
export async function openTarArchive(file: string): Promise<TarArchive> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    const index = new MemberIndex();
    if (sniffCompression(head) === 'none') {
      const { size } = await fh.stat();
      const reader = new TarReader(FileRangeSource.over(fh, 0, size), { maxEntryBytes: MAX_ARCHIVE_ENTRY });
      for (let e = await reader.next(); e; e = await reader.next()) index.add(e, e.dataOffset);
      return new PlainTarArchive(file, index, fh);
    }
    await fh.close();
    const { stream } = await decompressSniffed(createReadStream(file, { highWaterMark: 1 << 20 }));
    const src = new StreamByteSource(stream);
    const small = new Map<string, Buffer>();
    try {
      const reader = new TarReader(src, { maxEntryBytes: MAX_ARCHIVE_ENTRY });
      for (let e = await reader.next(); e; e = await reader.next()) {
        index.add(e, e.dataOffset);
        const name = memberName(e.name);
        if (e.type === 'file' && isMetadata(name) && e.size <= MAX_METADATA_BYTES) {
          small.set(name, await reader.content(e));
        }
      }
    } finally {
      await src.close();
    }
    return new GzipTarArchive(file, index, small);
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}
