import { comparatorFor } from './ecosystems.js';
import type { Cmp } from './scheme.js';

/**
 * The versions/ API the rest of Lading uses (implemented per scheme in this folder).
 * `ecosystem` is the OSV ecosystem name, with or without its release suffix (`Debian:12`, `Alpine:v3.19`).
 * Throws LadingError 'INVALID_VERSION' when either version cannot be ordered, 'USAGE' for an unknown ecosystem.
 */
export function compareVersions(ecosystem: string, a: string, b: string): Cmp {
  const scheme = comparatorFor(ecosystem);
  return scheme.compareParsed(scheme.parse(a), scheme.parse(b));
}

/** Whether the version is well-formed for the ecosystem's scheme (some schemes still order ill-formed ones). */
export function isValidVersion(ecosystem: string, version: string): boolean {
  return comparatorFor(ecosystem).isValid(version);
}

export * from './batch.js';
export { baseEcosystem, comparatorFor, isKnownEcosystem } from './ecosystems.js';
export { type AffectedVerdict, evaluateAffected } from './osv-range.js';
export type { Cmp, VersionScheme } from './scheme.js';
