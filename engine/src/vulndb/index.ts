// The public API of vulndb/: what other packages may import as `@lading/engine/vulndb`. Files not listed here are
// internal and may change without notice.

export * from './coverage.js';
export * from './import-paths.js';
export * from './needed.js';
export * from './reader.js';
export { SCHEMA_VERSION } from './schema.js';
export * from './sources.js';
export * from './status.js';
export {
  type AdvisoryCandidate,
  DB_FILE,
  dbPath,
  type EcosystemState,
  type EpssScore,
  type KevEntry,
  type PackageKey,
  type StoreConnection,
} from './store.js';
export * from './update.js';
export * from './writer.js';
