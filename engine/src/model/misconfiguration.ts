import type { Severity } from './finding.js';

/** One thing an image check saw (a file, an environment variable, a history step). */
export interface MisconfigurationEvidence {
  /** One line for people; a secret's value appears only masked (first characters and a SHA-256 prefix). */
  message: string;
  /** The file concerned, for file checks. */
  path?: string;
  /** Diff-id of the layer that last wrote `path`. */
  layer?: string;
}

/**
 * A hardening check that failed on an image (`checks/`, docs/report.md "misconfigurations"): one entry per check,
 * with every place it saw the problem.
 */
export interface Misconfiguration {
  /** Stable check id (`IMG-001`…): what policy rules and SARIF rules name. */
  id: string;
  severity: Severity;
  title: string;
  description: string;
  remediation: string;
  evidence: MisconfigurationEvidence[];
}

/**
 * A file the walk noted for the image checks by its path and mode alone (no bytes kept): setuid binaries, shells,
 * package managers and the like. Carried in the inventory so that a cached catalog keeps them.
 */
export interface NotedFile {
  path: string;
  /** Unix permission bits with setuid/setgid/sticky (e.g. 0o4755). */
  mode: number;
  /** Diff-id of the layer that last wrote the file (absent for root filesystems). */
  layer?: string;
}

/**
 * The account names the image defines, for the check that a USER exists (IMG-002): from `/etc/passwd` and
 * `/etc/group` as they stand in the image; a list is absent when its file is.
 */
export interface ImageAccounts {
  users?: string[];
  groups?: string[];
}
