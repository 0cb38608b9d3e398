// The public API of pipeline/: what other packages may import as `@lading/engine/pipeline`. Files not listed here
// are internal and may change without notice.
export { runPipeline } from './pipeline.js';
export { archLabel } from './source.js';
export { byDigestKeys, seed004Keys } from './storage-layout.js';
export * from './types.js';
