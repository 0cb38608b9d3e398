// The public API of image/: what other packages may import as `@lading/engine/image`. Files not listed here are
// internal and may change without notice.

export * from './config.js';
export * from './file.js';
export * from './image.js';
export * from './open.js';
export * from './progress.js';
export * from './target-spec.js';
