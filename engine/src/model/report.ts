import type { Finding } from './finding.js';
import type { OsInfo } from './os.js';
import type { Package } from './package.js';
import type { TargetInfo } from './target.js';
import type { ScanWarning } from './warning.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  unknown: number;
}

export interface DbInfo {
  builtAt?: string;
  /** OSV ecosystem → when its data was last updated (ISO time). */
  ecosystems: Record<string, string>;
}

export interface PolicyVerdict {
  pass: boolean;
  /** One line per failed or warned rule. */
  violations: { rule: string; action: 'fail' | 'warn'; message: string; findingId?: string; packageId?: string }[];
  expiredExceptions?: { id: string; reason: string; expires: string }[];
}

/** The combined decision of `--fail-on`, `--policy` and `--baseline`: what makes the exit status 1. */
export interface GateVerdict {
  pass: boolean;
  /** One line per reason the gate failed. */
  reasons: string[];
  /** Lines worth reading when it passed (e.g. how the baseline count moved). */
  notes: string[];
}

/** `lading scan -o json` (docs/report.md): a contract, change only additively. */
export interface Report {
  schemaVersion: number;
  tool: { name: 'lading'; version: string };
  createdAt: string;
  target: TargetInfo;
  os?: OsInfo;
  packages: Package[];
  findings: Finding[];
  warnings: ScanWarning[];
  summary: { packages: number; findings: number; bySeverity: SeverityCounts; suppressed?: number };
  db?: DbInfo;
  policy?: PolicyVerdict;
  gate?: GateVerdict;
}
