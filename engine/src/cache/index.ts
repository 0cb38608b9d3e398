// The public API of cache/: what other packages may import as `@lading/engine/cache`. Files not listed here are
// internal and may change without notice.
export * from './result-cache.js';
