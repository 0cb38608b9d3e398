import type { Cataloger } from '../catalog/cataloger.js';
import type { FileInspector, FileMeta, InspectedFile, WantedFiles } from '../image/file.js';
import type { Severity } from '../model/finding.js';
import type { SecretFinding } from '../model/secret.js';
import { DEFAULT_MAX_SECRET_FILE_BYTES, isSecretCandidate } from './candidates.js';
import { SECRET_RULES } from './rules.js';
import { type CompiledRules, compileRules, type FileSecretScan, SecretFileScanner } from './scanner.js';
import { isVendorContent, vendorChecksums, wantsVendorChecksums } from './vendor.js';

export interface SecretScanOptions {
  /** Largest file scanned, in bytes (default 10 MiB): larger files are skipped. */
  maxFileBytes?: number;
}

/** Bump when what the scanner keeps per file changes: part of the layer cache's scope. */
export const SECRET_SCANNER_VERSION = 1;

let compiled: CompiledRules | undefined;

/** The walk's inspector: scans candidate files of every layer as they stream past. */
export function secretInspector(options: SecretScanOptions = {}): FileInspector {
  const max = options.maxFileBytes ?? DEFAULT_MAX_SECRET_FILE_BYTES;
  compiled ??= compileRules();
  const rules = compiled;
  return {
    wants: (path: string, meta: FileMeta) => isSecretCandidate(path, meta, max),
    start: (path: string) => new SecretFileScanner(rules, path),
  };
}

/**
 * Takes part in the walk's file selection like a cataloger (its id and version enter the layer and result cache
 * keys, so a scan kept with other scanner options is not reused): wants the package databases' checksum lists,
 * catalogs nothing.
 */
export function secretsSelection(options: SecretScanOptions = {}): Cataloger {
  const max = options.maxFileBytes ?? DEFAULT_MAX_SECRET_FILE_BYTES;
  return {
    id: max === DEFAULT_MAX_SECRET_FILE_BYTES ? 'secrets' : `secrets-max-${max}`,
    version: SECRET_SCANNER_VERSION,
    wants: (path: string) => wantsVendorChecksums(path),
    catalog: async () => ({ packages: [], warnings: [] }),
  };
}

const RULES_BY_ID = new Map(SECRET_RULES.map((r) => [r.id, r]));

/**
 * The report's secrets from the walk's inspected files: files whose content the OS package database records are
 * dropped (vendor content), a secret kept through several layers (a file rewritten with the same secret) is one
 * finding from the layer that added it to the one that removed it, in a stable order.
 */
export function secretFindings(inspected: readonly InspectedFile[], files: WantedFiles): SecretFinding[] {
  // Read only when some file holds a secret: parsing an rpm database is not free.
  const sums = inspected.some((f) => (f.result as FileSecretScan | undefined)?.matches?.length)
    ? vendorChecksums(files)
    : undefined;
  const byFingerprint = new Map<string, SecretFinding>();
  const out: SecretFinding[] = [];
  for (const file of inspected) {
    const scan = file.result as FileSecretScan;
    if (!scan || !Array.isArray(scan.matches)) continue;
    if (sums && isVendorContent(sums, file.path, scan)) continue;
    for (const m of scan.matches) {
      const rule = RULES_BY_ID.get(m.rule);
      if (!rule) continue;
      const earlier = byFingerprint.get(m.fingerprint);
      // The same secret at the same path in the layer that replaced the earlier version: one finding, carried on.
      if (earlier && earlier.removedIn !== undefined && earlier.removedIn === file.layer) {
        if (file.removedIn === undefined) delete earlier.removedIn;
        else earlier.removedIn = file.removedIn;
        continue;
      }
      if (earlier && earlier.layer === file.layer) continue;
      const finding: SecretFinding = {
        ruleId: rule.id,
        title: rule.title,
        severity: rule.severity,
        path: file.path,
        line: m.line,
        redacted: m.redacted,
        fingerprint: m.fingerprint,
      };
      if (file.layer !== undefined) finding.layer = file.layer;
      if (file.removedIn !== undefined) finding.removedIn = file.removedIn;
      byFingerprint.set(m.fingerprint, finding);
      out.push(finding);
    }
  }
  return out.sort(compareSecrets);
}

const SEVERITY_ORDER: Record<Severity, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, UNKNOWN: 4 };

function compareSecrets(a: SecretFinding, b: SecretFinding): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    cmp(a.path, b.path) ||
    a.line - b.line ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.fingerprint, b.fingerprint)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
