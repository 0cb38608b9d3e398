import type { PackageType } from './package.js';

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN';

/** Most severe first. */
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

export type FindingStatus = 'fixed' | 'affected' | 'will-not-fix' | 'fix-deferred';

export interface CvssScore {
  /** `2.0`, `3.0`, `3.1`, `4.0`. */
  version: string;
  vector: string;
  score: number;
  /** Who rated it: `nvd`, `debian`, `ghsa`, the OSV record id, … */
  source: string;
}

export interface AdvisoryRef {
  /** The OSV record id that matched (`DSA-5678-1`, `GHSA-…`, `ALPINE-CVE-…`, `CVE-…`). */
  id: string;
  source: 'osv';
  url?: string;
  /** OSV ecosystem the record was found under. */
  ecosystem?: string;
  modified?: string;
}

export interface Suppression {
  /** `vex`, `policy-exception`, `baseline`. */
  kind: string;
  /** VEX status / justification or the exception's reason. */
  reason: string;
  source?: string;
  expires?: string;
}

export interface Finding {
  /** Preferred id: the CVE where one is known, else the record id. */
  id: string;
  /** Every other id of the same vulnerability (DSA, GHSA, ALPINE-…), sorted. */
  aliases: string[];
  packageId: string;
  package: { name: string; version: string; type: PackageType; purl: string };
  severity: Severity;
  /** Where the severity came from: `distro`, `cvss`, `ghsa`, … */
  severitySource?: string;
  cvss: CvssScore[];
  status: FindingStatus;
  /** Versions that fix it on each affected branch, lowest first. */
  fixedVersions: string[];
  title?: string;
  description?: string;
  epss?: number;
  epssPercentile?: number;
  kev: boolean;
  advisory: AdvisoryRef;
  references?: string[];
  published?: string;
  /** Diff-id of the layer that installed the package. */
  layer?: string;
  /** Set when a VEX statement or policy exception suppresses the finding; it stays in JSON. */
  suppressed?: Suppression;
}
