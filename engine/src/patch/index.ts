// The public API of patch/: what other packages may import as `@lading/engine/patch`.
export { type ApplyPatchOptions, applyPatch, fixableFindings, type PatchOptions, planPatch } from './patch.js';
export type * from './types.js';
export { PATCH_BASE_DIGEST, PATCH_PACKAGES } from './write-image.js';
