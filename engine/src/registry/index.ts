// The public API of registry/: what other packages may import as `@lading/engine/registry`. Files not listed here are
// internal and may change without notice.
export * from './client.js';
export * from './credentials.js';
export * from './digest.js';
export * from './docker-config.js';
export * from './errors.js';
export * from './manifest.js';
export * from './media-types.js';
export * from './platform.js';
export * from './reference.js';
