// The public API of match/: what other packages may import as `@lading/engine/match`. Files not listed here are
// internal and may change without notice.
export * from './find-vulnerabilities.js';
export {
  type AdvisorySource,
  type MatchRules,
  matchInventory,
  neededEcosystems,
  neededReleases,
} from './match-inventory.js';
