// The public API of report/: what other packages may import as `@lading/engine/report`. Files not listed here are
// internal and may change without notice.
export * from './build.js';
export * from './formats.js';
export * from './json.js';
export * from './load.js';
export * from './render-options.js';
export * from './words.js';
