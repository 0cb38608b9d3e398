// The public API of vulndb/: what other packages may import as `@lading/engine/vulndb`. Files not listed here are
// internal and may change without notice.

export * from './import-paths.js';
export * from './sources.js';
export * from './status.js';
export * from './store.js';
export * from './update.js';
