import type { Hash } from '../model/package.js';

/** One component/package of a foreign or own SBOM, reduced to the facts the inventory needs. */
export interface SbomComponent {
  /** bom-ref / SPDXID, for dependencies. */
  ref?: string;
  name: string;
  /** CycloneDX `group` (maven groupId, npm scope, …). */
  group?: string;
  version?: string;
  purl?: string;
  cpes: string[];
  licenses: string[];
  hashes: Hash[];
  /** Tool-specific facts: CycloneDX properties, SPDX annotations / attribution texts as `name: value`. */
  properties: Map<string, string[]>;
  /** SPDX `sourceInfo` ("built package from: openssl 3.0.11-1"). */
  sourceInfo?: string;
  /** A hint of the package type when there is no purl (Syft's `syft:package:type`, its SPDXID). */
  typeHint?: string;
}

export function firstProp(component: SbomComponent, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = component.properties.get(name)?.[0];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}
