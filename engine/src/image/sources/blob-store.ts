import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LadingError } from '../../errors/lading-error.js';
import { checkDigest, parseDigest } from '../layer/verify.js';
import { readBoundedFile } from './regular-file.js';
import { MAX_METADATA_BYTES, type TarArchive } from './tar-archive.js';

/** The content-addressed store of an OCI layout, wherever it lives (a directory or an archive). */
export interface BlobStore {
  /** A top-level file of the layout (`index.json`, `oci-layout`). */
  readTopFile(name: string): Promise<Buffer>;
  hasBlob(digest: string): Promise<boolean>;
  /** A small blob (manifest, config), verified. */
  readBlob(digest: string, what: string): Promise<Buffer>;
  /** A blob as stored; the caller verifies as it streams. */
  openBlob(digest: string): Readable;
  /** The archive member holding a blob, for stores inside an archive. */
  memberOf?(digest: string): string;
  close(): Promise<void>;
}

/** `alg/hex`, refusing anything else: a digest is also a path here, so it must not be able to walk. */
function blobName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

function missingBlob(where: string, digest: string): LadingError {
  return new LadingError('NOT_FOUND', `${where}: blob ${digest} is missing`);
}

export class DirBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  async readTopFile(name: string): Promise<Buffer> {
    const path = join(this.dir, name);
    try {
      return await readBoundedFile(path, MAX_METADATA_BYTES);
    } catch (err) {
      if (err instanceof LadingError) throw err;
      throw new LadingError('NOT_FOUND', `${this.dir}: no ${name} (not an OCI layout?)`);
    }
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      return (await stat(join(this.dir, blobName(digest)))).isFile();
    } catch {
      return false;
    }
  }

  async readBlob(digest: string, what: string): Promise<Buffer> {
    const path = join(this.dir, blobName(digest));
    let data: Buffer;
    try {
      // Bounded whatever stat says (a link to /dev/zero has size 0); pipes and devices are refused unread.
      data = await readBoundedFile(path, MAX_METADATA_BYTES, `${this.dir}: ${what} blob ${digest}`);
    } catch (err) {
      if (err instanceof LadingError) throw err;
      throw missingBlob(this.dir, digest);
    }
    checkDigest(data, digest, `${what} ${digest}`);
    return data;
  }

  openBlob(digest: string): Readable {
    return createReadStream(join(this.dir, blobName(digest)), { highWaterMark: 1 << 20 });
  }

  async close(): Promise<void> {}
}

export class ArchiveBlobStore implements BlobStore {
  constructor(private readonly archive: TarArchive) {}

  async readTopFile(name: string): Promise<Buffer> {
    if (!this.archive.has(name)) {
      throw new LadingError('NOT_FOUND', `${this.archive.file}: no ${name} (not an OCI archive?)`);
    }
    return this.archive.readSmall(name);
  }

  async hasBlob(digest: string): Promise<boolean> {
    return this.archive.has(blobName(digest));
  }

  async readBlob(digest: string, what: string): Promise<Buffer> {
    const name = blobName(digest);
    if (!this.archive.has(name)) throw missingBlob(this.archive.file, digest);
    const data = await this.archive.readSmall(name);
    checkDigest(data, digest, `${what} ${digest}`);
    return data;
  }

  openBlob(digest: string): Readable {
    return this.archive.open(blobName(digest));
  }

  memberOf(digest: string): string {
    return blobName(digest);
  }

  async close(): Promise<void> {
    await this.archive.close();
  }
}
