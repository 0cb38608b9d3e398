// The public API of files/: what other packages may import as `@lading/engine/files`. Files not listed here are
// internal and may change without notice.

export { cannotWrite, type WriteFileOptions, writeFileAtomically } from './write-atomic.js';
