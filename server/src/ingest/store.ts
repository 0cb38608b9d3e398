import { join } from 'node:path';
import { type BlobStore, openBlobStore } from '../blobs/index.js';
import type { ServerContext } from '../context.js';

const stores = new WeakMap<ServerContext, BlobStore>();

/**
 * The context's blob store, opened once per context (staging beside the data, on the same filesystem), shared by
 * the ingest routes and the ingest job. (When ServerContext carries its own blob store, this gives way to it.)
 */
export function blobStoreOf(ctx: ServerContext): BlobStore {
  let store = stores.get(ctx);
  if (!store) {
    store = openBlobStore({ blobs: ctx.config.blobs, stagingDir: join(ctx.config.dataDir, 'staging'), now: ctx.now });
    stores.set(ctx, store);
  }
  return store;
}
