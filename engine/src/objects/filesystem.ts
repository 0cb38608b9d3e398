import { randomBytes } from 'node:crypto';
import { constants, createReadStream, type Dirent } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline, type Readable, Transform } from 'node:stream';
import { describeError, LadingError } from '../errors/lading-error.js';
import { cannotWrite } from '../files/write-atomic.js';
import { checkObjectKey, checkObjectPrefix, TEMPORARY_SUFFIX } from './keys.js';
import {
  type ListObjectsOptions,
  listEveryObject,
  MAX_KEYS_PER_PAGE,
  type ObjectBody,
  type ObjectInfo,
  type ObjectPage,
  type ObjectStore,
  type ObjectStream,
} from './store.js';

/**
 * Objects as files under one folder: key `a/b/c` is `DIR/a/b/c`. Writes go to a temporary file beside the target,
 * are flushed (fsync), renamed over it and the folder flushed too, so after `put` resolves the object survives a
 * power loss and a reader never sees half of it. Listing walks the folder (no index): fine for the thousands of
 * objects a pipeline or a server's blob store holds; each page walks the whole subtree under the prefix.
 */
export class FilesystemObjectStore implements ObjectStore {
  readonly url: string;
  /** The folder, absolute. */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.url = `file://${this.root}`;
  }

  /** The file of a key; keys were checked, and this checks again that the path stays under the root. */
  private pathOf(key: string): string {
    checkObjectKey(key);
    const path = resolve(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) {
      throw new LadingError('USAGE', `object key ${JSON.stringify(key)} refused: it names a file outside the store`);
    }
    return path;
  }

  async put(key: string, body: ObjectBody): Promise<void> {
    const path = this.pathOf(key);
    await this.writeAtomically(path, async (temp) => {
      if (body instanceof Uint8Array) {
        const fh = await open(temp, 'wx', 0o644);
        try {
          await fh.writeFile(body);
          await fh.sync();
        } finally {
          await fh.close();
        }
        return;
      }
      const fh = await open(temp, 'wx', 0o644);
      try {
        for await (const chunk of sizedStream(body.open(), body.size, key) as AsyncIterable<Buffer>)
          await fh.write(chunk);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  async get(key: string): Promise<Readable | undefined> {
    const path = this.pathOf(key);
    try {
      const fh = await open(path, constants.O_RDONLY);
      const info = await fh.stat();
      if (!info.isFile()) {
        await fh.close();
        return undefined;
      }
      return fh.createReadStream();
    } catch (err) {
      if (isAbsence(err)) return undefined;
      throw cannotRead(path, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    try {
      const info = await stat(path);
      return info.isFile() ? { key, size: info.size, modifiedAt: Math.floor(info.mtimeMs) } : undefined;
    } catch (err) {
      if (isAbsence(err)) return undefined;
      throw cannotRead(path, err);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (isAbsence(err)) return;
      throw new LadingError('IO', `cannot delete ${path}: ${describeError(err)}`, { cause: err });
    }
  }

  async list(prefix: string, options: ListObjectsOptions = {}): Promise<ObjectPage> {
    checkObjectPrefix(prefix);
    const maxKeys = pageSize(options.maxKeys);
    const after = options.continuationToken;
    if (after !== undefined) {
      checkObjectKey(after, 'continuation token');
      if (!after.startsWith(prefix)) throw new LadingError('USAGE', 'continuation token is not from this listing');
    }
    // Walk from the deepest folder the prefix names whole; a partial last segment filters the names in it.
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut + 1);
    const keys: string[] = [];
    await this.walk(base, (key) => {
      if (key.startsWith(prefix) && (after === undefined || byteOrder(key, after) > 0)) keys.push(key);
    });
    keys.sort(byteOrder);
    const page = keys.slice(0, maxKeys);
    const items: ObjectInfo[] = [];
    for (const key of page) {
      const info = await this.head(key);
      // removed since the walk: skipped, as S3 would not have listed it either
      if (info) items.push(info);
    }
    const last = page[page.length - 1];
    return keys.length > maxKeys && last !== undefined ? { items, nextToken: last } : { items };
  }

  listAll(prefix: string): AsyncIterable<ObjectInfo> {
    return listEveryObject(this, prefix);
  }

  /**
   * Moves a finished file (already flushed by the caller) into place as `key`: a rename when it is on the same
   * filesystem, so a large upload staged beside the store is not written twice; a flushed copy otherwise. The
   * folder is flushed after the rename, as for `put`.
   */
  async adoptFile(key: string, file: string): Promise<void> {
    const path = this.pathOf(key);
    const folder = dirname(path);
    try {
      await mkdir(folder, { recursive: true });
      await rename(file, path);
      await syncFolder(folder);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw cannotWrite(path, err);
      await this.put(key, await fileObjectStream(file));
      await unlink(file).catch(() => {});
    }
  }

  /** Sets an object's modification time (the blob store's GC counts a blob's age from its last upload). */
  async touch(key: string, at: Date): Promise<void> {
    const path = this.pathOf(key);
    await utimes(path, at, at).catch((err: unknown) => {
      if (!isAbsence(err)) throw cannotWrite(path, err);
    });
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.pathOf(fromKey);
    const to = this.pathOf(toKey);
    await this.writeAtomically(to, async (temp) => {
      try {
        await copyFile(from, temp, constants.COPYFILE_EXCL);
      } catch (err) {
        if (isAbsence(err)) throw new LadingError('NOT_FOUND', `${this.url}: no object ${JSON.stringify(fromKey)}`);
        throw err;
      }
      const fh = await open(temp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  /** tmp → fsync → rename → folder fsync; the temporary file is removed on any failure. */
  private async writeAtomically(path: string, write: (temp: string) => Promise<void>): Promise<void> {
    const folder = dirname(path);
    const temp = join(folder, `.${randomBytes(8).toString('hex')}${TEMPORARY_SUFFIX}`);
    try {
      await mkdir(folder, { recursive: true });
      await write(temp);
      await rename(temp, path);
      await syncFolder(folder);
    } catch (err) {
      await unlink(temp).catch(() => {});
      if (err instanceof LadingError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new LadingError(
          'IO',
          `cannot write ${path}: a folder store cannot hold an object whose key is also the folder of another (like "a" and "a/b")`,
          { cause: err },
        );
      }
      throw cannotWrite(path, err);
    }
  }

  /** Calls `found` with every object key under the folder `base` (a '' or `/`-ended key prefix). */
  private async walk(base: string, found: (key: string) => void): Promise<void> {
    const folder = base === '' ? this.root : resolve(this.root, ...base.slice(0, -1).split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      if (isAbsence(err)) return;
      throw cannotRead(folder, err);
    }
    for (const entry of entries) {
      // Symbolic links are not followed: nothing outside the folder is ever listed.
      if (entry.isDirectory()) await this.walk(`${base}${entry.name}/`, found);
      else if (entry.isFile() && !entry.name.endsWith(TEMPORARY_SUFFIX)) found(`${base}${entry.name}`);
    }
  }
}

export function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MAX_KEYS_PER_PAGE;
  if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_KEYS_PER_PAGE) {
    throw new LadingError('USAGE', `keys per page must be a whole number from 1 to ${MAX_KEYS_PER_PAGE}`);
  }
  return maxKeys;
}

/** S3 lists keys in UTF-8 byte order; JavaScript's `<` compares UTF-16 units, which differs past U+FFFF. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Passes a stream through, failing when it gives more or fewer bytes than declared. */
export function exactSize(size: number, key: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > size) callback(sizeMismatch(key, size, 'more'));
      else callback(null, chunk);
    },
    flush(callback) {
      callback(seen < size ? sizeMismatch(key, size, `only ${seen}`) : null);
    },
  });
}

/** The stream checked against its declared size; an error of the source reaches the reader too. */
export function sizedStream(stream: Readable, size: number, key: string): Readable {
  return pipeline(stream, exactSize(size, key), () => {});
}

function sizeMismatch(key: string, size: number, got: string): LadingError {
  return new LadingError('IO', `object ${JSON.stringify(key)}: the body gave ${got} bytes, not the ${size} declared`);
}

async function syncFolder(folder: string): Promise<void> {
  const fh = await open(folder, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isAbsence(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function cannotRead(path: string, err: unknown): LadingError {
  return new LadingError('IO', `cannot read ${path}: ${describeError(err)}`, { cause: err });
}

/** A file as an upload body: its size now, and a fresh stream of it for each attempt. */
export async function fileObjectStream(path: string): Promise<ObjectStream> {
  const info = await stat(path).catch((err: unknown) => {
    throw cannotRead(path, err);
  });
  return { size: info.size, open: () => createReadStream(path) };
}
