import type { ImageAccounts, NotedFile } from './misconfiguration.js';
import type { OsInfo } from './os.js';
import type { Package } from './package.js';
import type { CoverageGap } from './report.js';
import type { SecretFinding } from './secret.js';
import type { ScanWarning } from './warning.js';

/** What is inside the target: the output of catalog/ (or of an SBOM reader), the input of sbom/ and match/. */
export interface Inventory {
  os?: OsInfo;
  packages: Package[];
  /** What the catalogers could not read (`catalog-incomplete`, catalog/gaps.ts): the report's coverage gaps. */
  gaps?: CoverageGap[];
  warnings: ScanWarning[];
  /** Files noted by path and mode for the image checks (`checks/`), in path order; absent when none were. */
  notedFiles?: NotedFile[];
  /** The users and groups the image defines, for the image checks; absent when neither file exists. */
  accounts?: ImageAccounts;
  /** Secrets found in the image's layers (`secrets/`); absent when none were or the scanner was off. */
  secrets?: SecretFinding[];
}
