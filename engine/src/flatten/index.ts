// The public API of flatten/: what other packages may import as `@lading/engine/flatten`.
export { type FlattenOptions, type FlattenResult, flattenImage } from './flatten.js';
