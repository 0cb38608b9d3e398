import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LadingError } from '@lading/engine/errors';
import { FilesystemObjectStore, type ObjectStore, openObjectStore, type S3Options } from '@lading/engine/objects';

/**
 * The server's blob store: artifacts kept byte for byte, content-addressed (`cas/sha256/ab/cd/<hex>`) and immutable,
 * on a folder or an S3-compatible bucket through `@lading/engine/objects`. The database refers to blobs by SHA-256;
 * a blob nothing refers to (a crash between the upload and the transaction, a refused ingest) is removed by `gc`
 * once it is older than a day.
 */
export interface BlobStore {
  /**
   * Stores a body: hashed while it is staged in a temporary file, refused past `maxBytes` (BlobTooLargeError) or when
   * its hash is not `expectedSha256` (BlobDigestMismatchError), then put in place whole. `created` is false when the
   * store already had these bytes.
   */
  put(body: Readable | Uint8Array, opts: { maxBytes: number; expectedSha256?: string }): Promise<PutBlobResult>;
  /**
   * The first half of `put` for a bundle of several bodies: the body is hashed into a staged file, NOT yet flushed
   * nor in the store. `publish` then puts every staged body in place at once (their flushes run in parallel); a
   * staged body that is not published must be `discard`ed.
   */
  stage(body: Readable, opts: { maxBytes: number }): Promise<StagedBlob>;
  /** Flushes the staged files (in parallel), moves each into the store, flushes each folder once; then durable. */
  publish(staged: readonly StagedBlob[]): Promise<PutBlobResult[]>;
  /** Removes staged files that will not be published (a refused bundle). */
  discard(staged: readonly StagedBlob[]): Promise<void>;
  /** The blob's bytes; NOT_FOUND when the store does not have it. */
  open(sha256: string): Promise<Readable>;
  has(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
  list(): AsyncIterable<BlobInfo>;
  /** Removes every blob older than `olderThanMs` (default 24 h) at `now` that `isReferenced` does not claim. */
  gc(
    isReferenced: (sha256: string) => boolean | Promise<boolean>,
    olderThanMs: number | undefined,
    now: number,
  ): Promise<GcResult>;
}

/** A body hashed into a staging file, not yet durable nor in the store. */
export interface StagedBlob {
  readonly sha256: string;
  readonly size: number;
  /** The staging file. */
  readonly path: string;
}

export interface PutBlobResult {
  sha256: string;
  size: number;
  created: boolean;
}

export interface BlobInfo {
  sha256: string;
  size: number;
  modifiedAt: number;
}

export interface GcResult {
  /** The blobs removed. */
  deleted: string[];
  /** Blobs kept: referenced, or too young to judge. */
  kept: number;
}

/** A blob larger than the caller allows: the API answers 413 and names the part. */
export class BlobTooLargeError extends LadingError {
  constructor(readonly maxBytes: number) {
    super('LIMIT', `more than the ${maxBytes} bytes allowed`);
    this.name = 'BlobTooLargeError';
  }
}

/** A blob whose SHA-256 is not the one the caller announced: the API answers 422. */
export class BlobDigestMismatchError extends LadingError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super('DIGEST_MISMATCH', `its SHA-256 is ${actual}, not the ${expected} announced`);
    this.name = 'BlobDigestMismatchError';
  }
}

/** Orphans are judged after a day: long enough for any ingest between its upload and its transaction. */
export const DEFAULT_GC_AGE_MS = 24 * 60 * 60 * 1000;
const CAS_PREFIX = 'cas/sha256/';
const SHA256 = /^[0-9a-f]{64}$/;

export function blobKey(sha256: string): string {
  if (!SHA256.test(sha256))
    throw new LadingError('USAGE', `${JSON.stringify(sha256.slice(0, 80))} is not a SHA-256 hex digest`);
  return `${CAS_PREFIX}${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

/** The SHA-256 a CAS key names, when it is one. */
function shaOfKey(key: string): string | undefined {
  const m = /^cas\/sha256\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key);
  return m?.[3]?.startsWith(`${m[1]}${m[2]}`) ? m[3] : undefined;
}

export interface BlobStoreConfig {
  /** `file:///abs/dir` or `s3://bucket/prefix[?endpoint=URL&region=R]`. */
  blobs: string;
  /** Credentials (and endpoint/region unless in the URL) for an s3:// store. */
  blobsS3?: S3Options | undefined;
  /** Where uploads are staged while hashed; default the store's own folder (file://) or the OS temp folder (s3://). */
  stagingDir?: string | undefined;
  /** Time source for GC's "touch on re-upload" of filesystem blobs; default the wall clock. */
  now?: () => number;
}

/** Opens the configured store: a folder (uploads staged inside it, then renamed) or an S3 bucket. */
export function openBlobStore(config: BlobStoreConfig): BlobStore {
  if (config.blobs.startsWith('s3://')) {
    const url = new URL(config.blobs);
    const endpoint = url.searchParams.get('endpoint') ?? config.blobsS3?.endpoint;
    const region = url.searchParams.get('region') ?? config.blobsS3?.region ?? 'us-east-1';
    if (!config.blobsS3) {
      throw new LadingError(
        'CONFIG',
        `${config.blobs.split('?')[0]}: an s3:// blob store needs an access key and its secret`,
      );
    }
    const s3: S3Options = { ...config.blobsS3, region, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) };
    const objects = openObjectStore(`s3://${url.host}${url.pathname}`, { s3 });
    return new ContentAddressedStore(objects, config.stagingDir ?? tmpdir(), config.now ?? Date.now);
  }
  const objects = openObjectStore(config.blobs);
  if (!(objects instanceof FilesystemObjectStore)) throw new LadingError('CONFIG', `${config.blobs}: not a blob store`);
  // By default staged inside the store's own folder, so the finished file is renamed into place, never copied (a
  // staging folder on another filesystem works too: the file is then copied and flushed).
  const staging = config.stagingDir ?? join(objects.root, 'staging');
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  return new ContentAddressedStore(objects, staging, config.now ?? Date.now);
}

/** Where a folder store's GC moves a blob before deleting it (outside cas/, so never listed as a blob). */
const SET_ASIDE_FOLDER = 'gc-aside';

/** Staged uploads end so; GC removes those a crash left behind. */
const STAGING_SUFFIX = '.lading-tmp';

export class ContentAddressedStore implements BlobStore {
  constructor(
    private readonly objects: ObjectStore,
    private readonly stagingDir: string,
    private readonly clock: () => number,
  ) {}

  async put(body: Readable | Uint8Array, opts: { maxBytes: number; expectedSha256?: string }): Promise<PutBlobResult> {
    if (opts.expectedSha256 !== undefined) blobKey(opts.expectedSha256);
    if (body instanceof Uint8Array) {
      if (body.length > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
      const sha256 = createHash('sha256').update(body).digest('hex');
      if (opts.expectedSha256 !== undefined && opts.expectedSha256 !== sha256) {
        throw new BlobDigestMismatchError(opts.expectedSha256, sha256);
      }
      const key = blobKey(sha256);
      const existed = await this.refreshIfPresent(key);
      if (!existed || !(this.objects instanceof FilesystemObjectStore)) await this.objects.put(key, body);
      return { sha256, size: body.length, created: !existed };
    }
    await mkdir(this.stagingDir, { recursive: true });
    const staged = join(this.stagingDir, `${randomBytes(12).toString('hex')}${STAGING_SUFFIX}`);
    try {
      const { sha256, size } = await stageAndHash(body, staged, opts.maxBytes);
      if (opts.expectedSha256 !== undefined && opts.expectedSha256 !== sha256) {
        throw new BlobDigestMismatchError(opts.expectedSha256, sha256);
      }
      const key = blobKey(sha256);
      const existed = await this.refreshIfPresent(key);
      if (this.objects instanceof FilesystemObjectStore) {
        if (!existed) await this.objects.adoptFile(key, staged);
      } else {
        // S3: one PutObject of the staged file, after hashing. Also when it existed: the upload renews the
        // object's date, so GC does not take a blob that a new ingest is about to refer to.
        await this.objects.put(key, { size, open: () => createReadStream(staged) });
      }
      return { sha256, size, created: !existed };
    } finally {
      await unlink(staged).catch(() => {});
    }
  }

  async stage(body: Readable, opts: { maxBytes: number }): Promise<StagedBlob> {
    const path = join(this.stagingDir, `${randomBytes(12).toString('hex')}${STAGING_SUFFIX}`);
    // the staging folder exists (made when the store opened); only if something removed it is it made again: a
    // mkdir per part was the largest item of the HTTP thread's ingest profile
    const fh = await open(path, 'wx', 0o600).catch(async (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(this.stagingDir, { recursive: true });
      return open(path, 'wx', 0o600);
    });
    try {
      const { sha256, size } = await hashInto(body, fh, opts.maxBytes);
      const staged: StagedBlob = { sha256, size, path };
      // kept open until publish flushes it (or discard drops it): no second open just to fsync
      openStaged.set(staged, fh);
      return staged;
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw err;
    }
  }

  async publish(staged: readonly StagedBlob[]): Promise<PutBlobResult[]> {
    /** Staged files renamed into the store: nothing left to remove. */
    const adopted = new Set<StagedBlob>();
    try {
      const objects = this.objects;
      // one flush per file, all in flight together: a bundle's parts cost one fsync's latency, not one each (S3
      // needs none: the object is durable when PutObject answers)
      await Promise.all(
        staged.map(async (blob) => {
          const fh = openStaged.get(blob);
          openStaged.delete(blob);
          if (!fh) {
            if (objects instanceof FilesystemObjectStore) await flushFile(blob.path);
            return;
          }
          try {
            if (objects instanceof FilesystemObjectStore) await fh.sync();
          } finally {
            await fh.close();
          }
        }),
      );
      // a bundle may carry the same bytes twice (two parts): each blob is put in place once
      const firsts = new Map<string, StagedBlob>();
      for (const blob of staged) if (!firsts.has(blob.sha256)) firsts.set(blob.sha256, blob);
      const existed = new Map<string, boolean>();
      await Promise.all(
        [...firsts.values()].map(async (blob) => {
          const key = blobKey(blob.sha256);
          const present = await this.refreshIfPresent(key);
          existed.set(blob.sha256, present);
          if (objects instanceof FilesystemObjectStore) {
            // adoptFile renames and flushes the blob's folder (cas/sha256/ab/cd: one per blob, almost always)
            if (!present) {
              await objects.adoptFile(key, blob.path);
              adopted.add(blob);
            }
          } else {
            // S3: uploaded even when present, renewing its date (as put does), so GC spares it
            await objects.put(key, { size: blob.size, open: () => createReadStream(blob.path) });
          }
        }),
      );
      return staged.map((blob) => ({
        sha256: blob.sha256,
        size: blob.size,
        created: firsts.get(blob.sha256) === blob && existed.get(blob.sha256) === false,
      }));
    } finally {
      await this.discard(staged.filter((blob) => !adopted.has(blob)));
    }
  }

  async discard(staged: readonly StagedBlob[]): Promise<void> {
    await Promise.all(
      staged.map(async (blob) => {
        const fh = openStaged.get(blob);
        openStaged.delete(blob);
        await fh?.close().catch(() => {});
        await unlink(blob.path).catch(() => {});
      }),
    );
  }

  /** Whether the blob is there; a filesystem blob's date is renewed so GC counts its age from this upload. */
  private async refreshIfPresent(key: string): Promise<boolean> {
    const info = await this.objects.head(key);
    if (!info) return false;
    if (!(this.objects instanceof FilesystemObjectStore)) return true;
    await this.objects.touch(key, new Date(this.clock()));
    // touch passes over a missing file: GC may have set the blob aside between the head and the touch (gc below).
    // Present after the touch means either the touch renewed it, or GC sets it aside later and sees the new date;
    // absent means this upload writes the bytes again.
    return (await this.objects.head(key)) !== undefined;
  }

  async open(sha256: string): Promise<Readable> {
    const stream = await this.objects.get(blobKey(sha256));
    if (!stream) throw new LadingError('NOT_FOUND', `no blob sha256:${sha256}`);
    return stream;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.objects.head(blobKey(sha256))) !== undefined;
  }

  async delete(sha256: string): Promise<void> {
    await this.objects.delete(blobKey(sha256));
  }

  async *list(): AsyncIterable<BlobInfo> {
    for await (const info of this.objects.listAll(CAS_PREFIX)) {
      const sha256 = shaOfKey(info.key);
      if (sha256) yield { sha256, size: info.size, modifiedAt: info.modifiedAt };
    }
  }

  async gc(
    isReferenced: (sha256: string) => boolean | Promise<boolean>,
    olderThanMs: number | undefined,
    now: number,
  ): Promise<GcResult> {
    const cutoff = now - (olderThanMs ?? DEFAULT_GC_AGE_MS);
    const deleted: string[] = [];
    let kept = 0;
    await this.restoreSetAside();
    for await (const blob of this.list()) {
      if (blob.modifiedAt >= cutoff || (await isReferenced(blob.sha256))) {
        kept++;
        continue;
      }
      const outcome = await this.deleteUnlessRenewed(blob, isReferenced);
      if (outcome === 'deleted') deleted.push(blob.sha256);
      else if (outcome === 'kept') kept++;
    }
    await this.removeStaleStaging(cutoff);
    return { deleted, kept };
  }

  /**
   * Deletes a blob judged unreferenced from `listed`, unless an upload renewed it since. Between the listing and the
   * delete an ingest may upload the same bytes: `put`/`publish` then find the blob present, renew its date and
   * write nothing, and the ingest commits rows naming it. Deleting it then would leave those rows without their
   * bytes, so the date is compared again at the last moment and the reference asked again.
   *
   * On a folder this is exact: the blob is first renamed aside (atomic), so from then on an upload finds it absent
   * and writes it again (refreshIfPresent looks again after its touch for this reason); an upload that renewed it
   * before the rename shows in the set-aside file's date (a rename keeps it), and then the file is put back. A file
   * a crash left aside is put back by the next collection, before it lists.
   *
   * On S3 there is no rename nor conditional delete: the date is compared just before the DeleteObject, which
   * narrows the window to that one request; an upload inside it would have to be an ingest's whole upload.
   */
  private async deleteUnlessRenewed(
    listed: BlobInfo,
    isReferenced: (sha256: string) => boolean | Promise<boolean>,
  ): Promise<'deleted' | 'kept' | 'gone'> {
    const key = blobKey(listed.sha256);
    const current = await this.objects.head(key);
    if (!current) return 'gone';
    // S3 dates are whole seconds in a HEAD answer (a listing may show milliseconds): compared as such there
    const onFolder = this.objects instanceof FilesystemObjectStore;
    const renewed = onFolder
      ? current.modifiedAt !== listed.modifiedAt
      : Math.floor(current.modifiedAt / 1000) !== Math.floor(listed.modifiedAt / 1000);
    if (renewed || (await isReferenced(listed.sha256))) return 'kept';
    if (!(this.objects instanceof FilesystemObjectStore)) {
      await this.objects.delete(key);
      return 'deleted';
    }
    const path = join(this.objects.root, ...key.split('/'));
    const folder = join(this.objects.root, SET_ASIDE_FOLDER);
    const aside = join(folder, `${listed.sha256}.${randomBytes(6).toString('hex')}`);
    await mkdir(folder, { recursive: true });
    try {
      await rename(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw err;
    }
    try {
      const moved = await stat(aside);
      if (Math.floor(moved.mtimeMs) === listed.modifiedAt && !(await isReferenced(listed.sha256))) {
        await unlink(aside);
        // an upload after the rename wrote the bytes again: the store still has the blob
        return (await this.objects.head(key)) ? 'kept' : 'deleted';
      }
    } catch (err) {
      await rename(aside, path).catch(() => {});
      throw err;
    }
    // renewed (or named) meanwhile: put back; if an upload wrote the bytes again already, these are the same bytes
    await rename(aside, path);
    return 'kept';
  }

  /** Puts back the blobs a collection set aside and did not finish with (a crash between its rename and unlink). */
  private async restoreSetAside(): Promise<void> {
    if (!(this.objects instanceof FilesystemObjectStore)) return;
    const folder = join(this.objects.root, SET_ASIDE_FOLDER);
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      const sha256 = name.split('.')[0] ?? '';
      if (!SHA256.test(sha256)) continue;
      const key = blobKey(sha256);
      await mkdir(join(this.objects.root, ...key.split('/').slice(0, -1)), { recursive: true });
      await rename(join(folder, name), join(this.objects.root, ...key.split('/')));
    }
  }

  /** Staged files a crash left behind (a process killed mid-upload). */
  private async removeStaleStaging(cutoff: number): Promise<void> {
    const names = await readdir(this.stagingDir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.endsWith(STAGING_SUFFIX)) continue;
      const path = join(this.stagingDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await unlink(path).catch(() => {});
    }
  }
}

/** The staged files' handles, open from `stage` to `publish` or `discard`. */
const openStaged = new WeakMap<StagedBlob, FileHandle>();

/** Copies the stream into an open file, hashing and counting; not flushed (publish flushes). */
async function hashInto(body: Readable, fh: FileHandle, maxBytes: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) {
      body.destroy();
      throw new BlobTooLargeError(maxBytes);
    }
    hash.update(bytes);
    await fh.write(bytes);
  }
  return { sha256: hash.digest('hex'), size };
}

/** Copies the stream into `path`, hashing and counting; flushed to disk before it returns. */
async function stageAndHash(body: Readable, path: string, maxBytes: number): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(path, 'wx', 0o600);
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > maxBytes) {
        body.destroy();
        throw new BlobTooLargeError(maxBytes);
      }
      hash.update(bytes);
      await fh.write(bytes);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}

async function flushFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
