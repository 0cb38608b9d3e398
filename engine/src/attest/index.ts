// The public API of attest/: what other packages may import as `@lading/engine/attest`. Files not listed here are
// internal and may change without notice.
export * from './annotations.js';
export * from './blob.js';
export * from './blob-file.js';
export * from './bundle.js';
export * from './ci-environment.js';
export * from './dsse.js';
export * from './files.js';
export * from './image-attestations.js';
export * from './image-signatures.js';
export * from './image-target.js';
export * from './keys.js';
export * from './kyverno.js';
export * from './predicate-check.js';
export * from './predicate-types.js';
export * from './provenance.js';
export * from './registry-adapter.js';
export * from './registry-port.js';
export * from './report-binding.js';
export * from './signer.js';
export * from './simple-signing.js';
export * from './statement.js';
export * from './subjects.js';
