// The public API of objects/: what other packages may import as `@lading/engine/objects`. Files not listed here are
// internal and may change without notice.
export { FilesystemObjectStore, fileObjectStream } from './filesystem.js';
export { checkObjectKey, checkObjectPrefix, MAX_KEY_BYTES } from './keys.js';
export { type OpenObjectStoreOptions, openObjectStore } from './open.js';
export { S3ObjectStore, type S3Options } from './s3.js';
export {
  canonicalRequest,
  type SigningCredentials,
  type SigningRequest,
  signRequest,
  UNSIGNED_PAYLOAD,
} from './sigv4.js';
export type {
  ListObjectsOptions,
  ObjectBody,
  ObjectInfo,
  ObjectPage,
  ObjectStore,
  ObjectStream,
  PutObjectOptions,
} from './store.js';
