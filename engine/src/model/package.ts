import type { PackageType } from './ecosystems.js';

/** purl types Lading reports (docs/report.md, "packages[]"): the keys of the ecosystem table (model/ecosystems.ts). */
export type { PackageType };

/** Where a package was found: an absolute path inside the image root and the diff-id of the layer that wrote it. */
export interface Location {
  path: string;
  layer?: string;
}

export interface SourcePackage {
  name: string;
  /** Only when it differs from, or is given apart from, the binary package's version (dpkg `Source: x (1.2-3)`). */
  version?: string;
}

export interface Hash {
  /** CycloneDX spelling: `SHA-256`, `SHA-1`, `MD5`, `SHA-512`. */
  alg: string;
  content: string;
}

/** A package as a cataloger reports it, before the inventory gives it an id. */
export interface PackageFound {
  name: string;
  version: string;
  type: PackageType;
  purl: string;
  source?: SourcePackage;
  arch?: string;
  /** SPDX ids or expressions where known, otherwise the text found. */
  licenses: string[];
  locations: Location[];
  /** Cataloger id. */
  foundBy: string;
  /** Names (same type) of packages this one depends on, as its package manager records them. */
  dependsOn?: string[];
  hashes?: Hash[];
  /** Files the package manager says this package owns (absolute paths). OS catalogers only; not reported. */
  ownedFiles?: string[];
  /** Extra facts worth keeping (e.g. `rpm.modularitylabel`, `maven.groupId`); rendered as SBOM properties. */
  metadata?: Record<string, string>;
}

export interface Package extends Omit<PackageFound, 'ownedFiles'> {
  /** Stable within a report: derived from type, purl and first location. */
  id: string;
}
