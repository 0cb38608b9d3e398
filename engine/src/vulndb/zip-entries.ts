import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { crc32, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { LadingError, thrownValueText } from '../errors/lading-error.js';

export interface ZipEntry {
  name: string;
  data?: Buffer;
  /** Set instead of `data` when the entry was skipped (too large, unreadable). */
  error?: string;
  /**
   * With `error`: the entry's bytes are damaged (bad CRC, size or compression), not merely over the size limit. The
   * archive is then not what its writer made, and importers refuse all of it (zipEntryRefused).
   */
  corrupt?: true;
}

/** A damaged entry refuses its whole archive: the transaction rolls back and nothing of it is imported. */
export function zipEntryRefused(archive: string, entry: ZipEntry): LadingError {
  return new LadingError('BAD_INPUT', `${archive}!${entry.name}: ${entry.error}; nothing imported`);
}

/** OSV records are a few KB; the largest real ones (kernel CVEs) stay well under this. */
export const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

/**
 * Streams a zip file's entries one at a time from disk (never the whole archive in memory), each bounded in
 * size. yauzl parses the archive (central directory, zip64, local headers, name checks); the reads under it are
 * synchronous positional reads and each entry is inflated in one bounded call with its CRC and size checked.
 * That keeps 100k small records off libuv's thread pool, which otherwise costs two round trips per record.
 */
export async function* readZipEntries(
  file: string,
  options: { maxEntryBytes?: number; label?: string } = {},
): AsyncGenerator<ZipEntry> {
  const maxEntryBytes = options.maxEntryBytes ?? MAX_ENTRY_BYTES;
  const label = options.label ?? file;
  const reader = new SyncFileReader(file);
  const zip = await openZip(reader, label);
  try {
    while (true) {
      const entry = await nextEntry(zip, label);
      if (!entry) return;
      if (entry.fileName.endsWith('/')) continue;
      if (entry.uncompressedSize > maxEntryBytes) {
        yield { name: entry.fileName, error: `entry is ${entry.uncompressedSize} bytes (limit ${maxEntryBytes})` };
        continue;
      }
      try {
        yield { name: entry.fileName, data: await readEntry(zip, reader, entry, maxEntryBytes) };
      } catch (err) {
        yield { name: entry.fileName, error: thrownValueText(err), corrupt: true };
      }
    }
  } finally {
    zip.close();
  }
}

class SyncFileReader extends yauzl.RandomAccessReader {
  readonly fd: number;
  readonly size: number;

  constructor(file: string) {
    super();
    try {
      this.fd = openSync(file, 'r');
    } catch (err) {
      throw new LadingError('IO', `${file}: cannot open: ${thrownValueText(err)}`);
    }
    this.size = fstatSync(this.fd).size;
  }

  readAt(length: number, position: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buffer, done, length - done, position + done);
      if (n === 0) throw new Error(`unexpected end of file at offset ${position + done}`);
      done += n;
    }
    return buffer;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ) {
    try {
      this.readAt(length, position).copy(buffer, offset);
    } catch (err) {
      queueMicrotask(() => callback(err as Error));
      return;
    }
    queueMicrotask(() => callback(null));
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from([this.readAt(end - start, start)]);
  }

  override close(callback: (err: Error | null) => void) {
    try {
      closeSync(this.fd);
      queueMicrotask(() => callback(null));
    } catch (err) {
      queueMicrotask(() => callback(err as Error));
    }
  }
}

function openZip(reader: SyncFileReader, label: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      reader,
      reader.size,
      { lazyEntries: true, autoClose: false, strictFileNames: false },
      (err, zip) => {
        if (err || !zip) {
          reader.close(() => {});
          reject(new LadingError('BAD_INPUT', `${label}: not a readable zip archive: ${err?.message}`));
        } else resolve(zip);
      },
    );
  });
}

function nextEntry(zip: yauzl.ZipFile, label: string): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new LadingError('BAD_INPUT', `${label}: corrupt zip archive: ${err.message}`));
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function readEntry(
  zip: yauzl.ZipFile,
  reader: SyncFileReader,
  entry: yauzl.Entry,
  maxEntryBytes: number,
): Promise<Buffer> {
  if (entry.isEncrypted()) return Promise.reject(new Error('entry is encrypted'));
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return Promise.reject(new Error(`unsupported compression method ${entry.compressionMethod}`));
  }
  return new Promise((resolve, reject) => {
    zip.readLocalFileHeader(entry, { minimal: true }, (err, header) => {
      if (err) {
        reject(err);
        return;
      }
      try {
        const raw = reader.readAt(entry.compressedSize, header.fileDataStart);
        const data =
          entry.compressionMethod === 0 ? raw : inflateRawSync(raw, { maxOutputLength: Math.max(1, maxEntryBytes) });
        if (data.length !== entry.uncompressedSize) {
          throw new Error(`size mismatch: ${data.length} bytes, the archive says ${entry.uncompressedSize}`);
        }
        if (crc32(data) !== entry.crc32) throw new Error('CRC mismatch');
        resolve(data);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(thrownValueText(e)));
      }
    });
  });
}
