// The server's content-addressed blob store (artifacts byte for byte, by SHA-256), over @lading/engine/objects.
export { collectOrphanBlobs } from './collect.js';
export {
  BlobDigestMismatchError,
  type BlobInfo,
  type BlobStore,
  type BlobStoreConfig,
  BlobTooLargeError,
  blobKey,
  ContentAddressedStore,
  DEFAULT_GC_AGE_MS,
  type GcResult,
  openBlobStore,
  type PutBlobResult,
} from './store.js';
