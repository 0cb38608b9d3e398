import { type CatalogLimits, DEFAULT_LIMITS } from '../catalog/cataloger.js';
import { CATALOGERS } from '../catalog/registry.js';
import { runCatalogers } from '../catalog/run.js';
import { selectorFor } from '../catalog/selector.js';
import { type OpenOptions, openTarget } from '../image/open.js';
import type { Finding } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { DbInfo, Report } from '../model/report.js';
import type { TargetInfo } from '../model/target.js';
import type { ScanWarning } from '../model/warning.js';
import { type FindingFilters, filterFindings } from '../policy/filters.js';
import { buildReport } from '../report/build.js';

export interface ScanOptions extends OpenOptions, FindingFilters {
  /** Catalog only: no vulnerability data needed. */
  sbomOnly?: boolean;
  dbDir: string;
  /** Total bytes all layers may inflate to (`WalkOptions.maxInflatedBytes`, a decompression-bomb cap). */
  maxInflatedBytes?: number;
  limits?: Partial<CatalogLimits>;
  now?: Date;
  /** Told the OSV ecosystems the inventory needs, before matching (the CLI remembers them for `db update`). */
  onNeededEcosystems?: (names: string[]) => void;
}

/** The one composition of the flow (docs/architecture.md): target → walk → inventory → match → report model. */
export async function scan(spec: string, options: ScanOptions): Promise<Report> {
  const now = options.now ?? new Date();
  const limits: CatalogLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const { target, inventory } = await inventoryOf(spec, options, limits);

  let findings: Finding[] = [];
  const warnings: ScanWarning[] = [];
  let db: DbInfo | undefined;
  if (!options.sbomOnly) {
    // Loaded on demand: SBOM-only runs never load the database driver.
    const { findVulnerabilities } = await import('../match/find-vulnerabilities.js');
    const result = await findVulnerabilities(inventory, {
      dbDir: options.dbDir,
      offline: !!options.offline,
      now,
      ...(options.onNeededEcosystems ? { onNeededEcosystems: options.onNeededEcosystems } : {}),
    });
    findings = filterFindings(result.findings, options);
    warnings.push(...result.warnings);
    db = result.db;
  }
  const parts = { target, inventory, findings, warnings, createdAt: now };
  return buildReport(db ? { ...parts, db } : parts);
}

/** The inventory alone, from an image, a root filesystem or an SBOM. */
export async function inventoryOf(
  spec: string,
  options: OpenOptions & { maxInflatedBytes?: number },
  limits: CatalogLimits = DEFAULT_LIMITS,
): Promise<{ target: TargetInfo; inventory: Inventory }> {
  if (spec.startsWith('sbom:')) return (await import('../sbom/read.js')).readSbomFile(spec.slice('sbom:'.length));
  const opened = await openTarget(spec, options);
  try {
    const walked = await opened.walk(selectorFor(CATALOGERS), {
      maxFileBytes: limits.maxFileBytes,
      ...(options.maxInflatedBytes ? { maxInflatedBytes: options.maxInflatedBytes } : {}),
    });
    const inventory = await runCatalogers(walked.files, CATALOGERS, limits);
    inventory.warnings.unshift(...walked.warnings);
    return { target: opened.target, inventory };
  } finally {
    await opened.close();
  }
}
