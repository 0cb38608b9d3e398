// The public API of oci/: what other packages may import as `@lading/engine/oci`. The one model of OCI (and Docker
// v2 schema 2) documents that every image source and the signing code share: media types, descriptors, manifest and
// index parsing, and the one rule for choosing a platform. Files not listed here are internal.
export * from './descriptor.js';
export * from './manifest.js';
export * from './media-types.js';
export * from './platform.js';
