import { LadingError } from '../errors/lading-error.js';
import type { Inventory } from '../model/inventory.js';
import type { TargetInfo } from '../model/target.js';

export interface SbomInput {
  target: TargetInfo;
  inventory: Inventory;
}

/** Reads a CycloneDX (1.4–1.7) or SPDX (2.2/2.3) JSON document into an inventory. */
export async function readSbomFile(path: string): Promise<SbomInput> {
  throw new LadingError('USAGE', `cannot read sbom:${path}: SBOM input is not implemented yet`);
}
