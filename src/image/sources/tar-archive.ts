import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { type FileHandle, mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { LadingError } from '../../errors/lading-error.js';
import { decompressSniffed, sniffCompression } from '../layer/decompress.js';
import { FileRangeSource } from '../tar/byte-source.js';
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
 * offset, and plain-tar layers are seekable. A gzip'd archive (`docker save | gzip`) is inflated once, in one
 * streaming pass, into a private temporary file (bounded by `maxInflatedBytes`, removed on close and at exit) and
 * then read like a plain tar: streaming it again up to each member would inflate the archive once per layer.
 */
export interface TarArchive {
  readonly file: string;
  /** The file holding the plain tar bytes that `locate` offsets refer to (the inflated copy when compressed). */
  readonly path: string;
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
  readonly compressed: boolean = false;
  constructor(
    /** The archive as the user named it (for messages). */
    readonly file: string,
    private readonly index: MemberIndex,
    private readonly fh: FileHandle,
    /** Where the plain tar bytes are: `file` itself, or the inflated copy of a compressed archive. */
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
    return createReadStream(this.path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export interface TarArchiveOptions {
  /** Most bytes a compressed archive may inflate to (default 16 GiB, as for layers): a decompression bomb cap. */
  maxInflatedBytes?: number;
  /** Folder for the inflated copy (default: env LADING_TMPDIR, else the system temp folder). */
  tempDir?: string;
}

const DEFAULT_MAX_ARCHIVE_INFLATE = 16 * 1024 ** 3;

/** Opens a tar or tar.gz image archive and indexes its members. */
export async function openTarArchive(file: string, options: TarArchiveOptions = {}): Promise<TarArchive> {
  const fh = await open(file, 'r');
  let inflated: InflatedCopy | undefined;
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    if (sniffCompression(head) === 'none') return await indexPlainTar(file, fh, file);
    await fh.close();
    inflated = await inflateToTemp(file, options);
    const copy = await open(inflated.path, 'r');
    const archive = await indexPlainTar(inflated.path, copy, file).catch(async (err) => {
      await copy.close();
      throw err;
    });
    const cleanup = inflated.remove;
    return Object.assign(archive, {
      compressed: true,
      close: async () => {
        await copy.close().catch(() => {});
        cleanup();
      },
    });
  } catch (err) {
    await fh.close().catch(() => {});
    inflated?.remove();
    throw err;
  }
}

async function indexPlainTar(path: string, fh: FileHandle, file: string): Promise<PlainTarArchive> {
  const index = new MemberIndex();
  const { size } = await fh.stat();
  const reader = new TarReader(FileRangeSource.over(fh, 0, size), { maxEntryBytes: MAX_ARCHIVE_ENTRY });
  for (let e = await reader.next(); e; e = await reader.next()) index.add(e, e.dataOffset);
  return new PlainTarArchive(file, index, fh, path);
}

interface InflatedCopy {
  path: string;
  remove: () => void;
}

/** Temp copies still on disk, removed at exit even when a scan fails before closing its archive. */
const liveCopies = new Set<string>();
let exitHookInstalled = false;

async function inflateToTemp(file: string, options: TarArchiveOptions): Promise<InflatedCopy> {
  const base = options.tempDir ?? process.env['LADING_TMPDIR'] ?? tmpdir();
  const dir = await mkdtemp(join(base, 'lading-archive-'));
  liveCopies.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const d of liveCopies) rmSync(d, { recursive: true, force: true });
    });
  }
  const remove = () => {
    liveCopies.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  const path = join(dir, 'archive.tar');
  const max = options.maxInflatedBytes ?? DEFAULT_MAX_ARCHIVE_INFLATE;
  let total = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > max) cb(new LadingError('LIMIT', `${file} inflates past the ${max}-byte limit`));
      else cb(null, chunk);
    },
  });
  try {
    const { stream } = await decompressSniffed(createReadStream(file, { highWaterMark: 1 << 20 }));
    await pipelineAsync(stream, cap, createWriteStream(path, { mode: 0o600 }));
  } catch (err) {
    remove();
    if (err instanceof LadingError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new LadingError('BAD_INPUT', `${file}: cannot inflate: ${message}`, { cause: err });
  }
  return { path, remove };
}
