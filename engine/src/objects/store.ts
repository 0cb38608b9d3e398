import type { Readable } from 'node:stream';

/** What a store knows about one object. */
export interface ObjectInfo {
  /** The key, relative to the store's root or prefix (never the prefix itself). */
  key: string;
  size: number;
  /** Last modification, epoch milliseconds. */
  modifiedAt: number;
  /** The media type given at upload, when the store keeps it (S3 does, the filesystem does not). */
  contentType?: string;
}

/**
 * A body of known size read from a stream. `open` is called once per attempt (an S3 upload retried after a
 * connection reset sends it again from the start), so it must give the same bytes each time: open a file, not
 * hand back one already-consumed stream.
 */
export interface ObjectStream {
  size: number;
  open: () => Readable;
}

export type ObjectBody = Uint8Array | ObjectStream;

export interface PutObjectOptions {
  contentType?: string;
}

export interface ListObjectsOptions {
  /** Keys per page: at most 1000 (S3's own cap), default 1000. */
  maxKeys?: number;
  /** The `nextToken` of the previous page. */
  continuationToken?: string;
}

export interface ObjectPage {
  /** In ascending key order (UTF-8 byte order, S3's). */
  items: ObjectInfo[];
  /** Present when there are more keys: pass it as `continuationToken` for the next page. */
  nextToken?: string;
}

/**
 * One small object-store client for both the pipeline (`lading pipeline --store`) and the server's blob store:
 * a filesystem folder (`file://DIR`) or an S3-compatible bucket (`s3://bucket/prefix`). Keys are `/`-separated
 * relative paths; a key that could name something outside the store (`..`, absolute, NUL, control characters) is
 * refused with a USAGE error before anything is touched, on both backends alike. One difference remains: a folder
 * cannot hold both `a` and `a/b` (S3 can); the second write fails with an IO error that says so.
 */
export interface ObjectStore {
  /** The store's URL, as opened (for messages). */
  readonly url: string;
  /** Writes the whole object or nothing: a reader never sees a partial one. Replaces an existing object. */
  put(key: string, body: ObjectBody, options?: PutObjectOptions): Promise<void>;
  /** The object's bytes, or undefined when there is no such key. */
  get(key: string): Promise<Readable | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Removes the object; an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** One page of the keys starting with `prefix` ('' for all). */
  list(prefix: string, options?: ListObjectsOptions): Promise<ObjectPage>;
  /** Every key starting with `prefix`, page after page. */
  listAll(prefix: string): AsyncIterable<ObjectInfo>;
  /** Copies an object inside the store (NOT_FOUND when the source is absent). */
  copy(fromKey: string, toKey: string): Promise<void>;
}

export const MAX_KEYS_PER_PAGE = 1000;

/** Reads pages until the last: shared by both backends. */
export async function* listEveryObject(store: ObjectStore, prefix: string): AsyncIterable<ObjectInfo> {
  let continuationToken: string | undefined;
  do {
    const page = await store.list(prefix, continuationToken === undefined ? {} : { continuationToken });
    yield* page.items;
    continuationToken = page.nextToken;
  } while (continuationToken !== undefined);
}
