import { withEolStatus } from '../catalog/os/release/eol.js';
import type { Finding } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import {
  type CoverageGap,
  coverageOf,
  type DbInfo,
  REPORT_SCHEMA_VERSION,
  type Report,
  type SeverityCounts,
} from '../model/report.js';
import type { TargetInfo } from '../model/target.js';
import type { ScanWarning } from '../model/warning.js';
import { LADING_VERSION } from '../version.js';

export interface ReportParts {
  target: TargetInfo;
  inventory: Inventory;
  findings: Finding[];
  warnings: ScanWarning[];
  db?: DbInfo;
  /** What was left unchecked (no vulnerability data for a release, …): the report's `coverage`. */
  gaps?: CoverageGap[];
  createdAt: Date;
}

export function buildReport(parts: ReportParts): Report {
  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'lading', version: LADING_VERSION },
    createdAt: parts.createdAt.toISOString(),
    target: parts.target,
    packages: parts.inventory.packages,
    findings: parts.findings,
    warnings: [...parts.inventory.warnings, ...parts.warnings],
    summary: summarize(parts.inventory.packages.length, parts.findings),
  };
  // End of life is judged on the report's own date, from the release the inventory recorded.
  if (parts.inventory.os) report.os = withEolStatus(parts.inventory.os, parts.createdAt);
  if (parts.db) report.db = parts.db;
  // What the catalogers could not read, then what there was no data to match against.
  const coverage = coverageOf((parts.inventory.gaps ?? []).concat(parts.gaps ?? []));
  if (coverage) report.coverage = coverage;
  return report;
}

export function summarize(packages: number, findings: readonly Finding[]): Report['summary'] {
  const bySeverity: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  let suppressed = 0;
  for (const f of findings) {
    if (f.suppressed) {
      suppressed++;
      continue;
    }
    const key = f.severity.toLowerCase() as keyof SeverityCounts;
    bySeverity[key]++;
  }
  return { packages, findings: findings.length - suppressed, bySeverity, suppressed };
}
