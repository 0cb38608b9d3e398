import type { Finding } from './finding.js';
import type { Misconfiguration } from './misconfiguration.js';
import type { OsInfo } from './os.js';
import type { Package } from './package.js';
import type { SecretFinding } from './secret.js';
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

/** Why part of an image was not checked. */
export type CoverageGapKind =
  /** No vulnerability data for the release or ecosystem its packages need (`Debian:12`, `npm`). */
  | 'no-data'
  /** A cataloger failed, hit a limit, or skipped a file: packages it covers may be missing from the report. */
  | 'catalog-incomplete';

/** One thing a scan could not look at, and what that leaves unchecked. */
export interface CoverageGap {
  kind: CoverageGapKind;
  /** What it concerns: an OSV ecosystem with its release (`Debian:12`, `Alpine:v3.19`, `npm`), or a cataloger id. */
  scope: string;
  /** The file concerned, for catalog gaps. */
  path?: string;
  /** One line for people. */
  message: string;
  /** `packages[].id` of the packages left unchecked by it, when they are known. */
  packageIds?: string[];
}

/**
 * What the scan covered. A report is complete only when every package was cataloged without error and matched
 * against data for its release or ecosystem; a gate never passes on an incomplete report (`assess`).
 */
export interface Coverage {
  complete: boolean;
  gaps: CoverageGap[];
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
  /** Present when anything was left unchecked (absent: everything was looked at). */
  coverage?: Coverage;
  /** Image checks that failed (`checks/`), in id order; absent when none failed or none ran. */
  misconfigurations?: Misconfiguration[];
  /** Secrets found in any layer of the image, also those a later layer deleted (`secrets/`); absent when none. */
  secrets?: SecretFinding[];
}

/** The coverage record for these gaps: undefined when there are none (a complete report carries no `coverage`). */
export function coverageOf(gaps: readonly CoverageGap[]): Coverage | undefined {
  return gaps.length === 0 ? undefined : { complete: false, gaps: [...gaps] };
}
