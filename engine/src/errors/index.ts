// The public API of errors/: what other packages may import as `@lading/engine/errors`. Files not listed here are
// internal and may change without notice.

export * from './abort.js';
export * from './lading-error.js';
