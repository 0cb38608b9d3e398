// The public API of diff/: what other packages may import as `@lading/engine/diff`. Files not listed here are
// internal and may change without notice.
export * from './diff.js';
export * from './formats.js';
export * from './gate.js';
export * from './render.js';
