// The engine's root entry: the one composition of the flow and the types every caller needs. Each module also has
// its own entry (`@lading/engine/image`, `/match`, …); see this package's README for the whole map.
export * from './errors/index.js';
export type * from './model/index.js';
export { REPORT_SCHEMA_VERSION, SEVERITIES } from './model/index.js';
export * from './scan/index.js';
export { LADING_VERSION } from './version.js';
