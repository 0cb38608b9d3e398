// The public API of scan/: what other packages may import as `@lading/engine/scan`. Files not listed here are
// internal and may change without notice.
export * from './assess.js';
export * from './scan.js';
