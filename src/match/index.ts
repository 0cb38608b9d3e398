import { LadingError } from '../errors/lading-error.js';
import type { Finding } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { DbInfo } from '../model/report.js';
import type { ScanWarning } from '../model/warning.js';

export interface VulnerabilityOptions {
  dbDir: string;
  /** Never reach the network (no automatic update). */
  offline: boolean;
  now: Date;
}

export interface VulnerabilityResult {
  findings: Finding[];
  warnings: ScanWarning[];
  db: DbInfo;
}

/** Opens the local store, matches every package, closes it. Throws NO_DB (exit 3) when there is no data. */
export async function findVulnerabilities(
  _inventory: Inventory,
  _options: VulnerabilityOptions,
): Promise<VulnerabilityResult> {
  throw new LadingError('NO_DB', 'vulnerability matching is not implemented yet (use --sbom-only)');
}
