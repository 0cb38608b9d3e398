// The public API of sbom/: what other packages may import as `@lading/engine/sbom`. Files not listed here are
// internal and may change without notice.

export * from '../model/purl.js';
export * from './cyclonedx-writer.js';
export * from './read.js';
export * from './spdx-writer.js';
