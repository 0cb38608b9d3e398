import type { BlobStore } from '../blobs/index.js';
import type { ServerContext } from '../context.js';

/**
 * The context's blob store (ServerContext.blobs, opened once at start-up from config.blobs). Kept as the name the
 * ingest routes, the ingest job and the read routes first used, so that they all share the one store.
 */
export function blobStoreOf(ctx: ServerContext): BlobStore {
  return ctx.blobs;
}
