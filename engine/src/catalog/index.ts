// The public API of catalog/: what other packages may import as `@lading/engine/catalog`. Files not listed here are
// internal and may change without notice.
export * from './cataloger.js';
export * from './registry.js';
export * from './run.js';
export * from './selector.js';
