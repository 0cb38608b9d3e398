import type { Severity } from './finding.js';

/** A credential found in a file of the image (docs/report.md, `secrets[]`). The secret itself is never kept. */
export interface SecretFinding {
  /** The rule that matched (`github-pat`, `private-key`, …). */
  ruleId: string;
  title: string;
  severity: Severity;
  path: string;
  /** 1-based line of the secret in the file. */
  line: number;
  /** First 4 characters, an ellipsis and the length: `ghp_…(40)`. */
  redacted: string;
  /** sha256 of rule, path and secret, hex, 32 characters: stable across scans, for suppressions. */
  fingerprint: string;
  /** Diff-id of the layer that added the file holding the secret (absent for `dir:` targets). */
  layer?: string;
  /** Diff-id of the later layer that deleted or replaced it: the secret is still in the image's layers. */
  removedIn?: string;
}
