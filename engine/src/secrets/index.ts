export type { SecretFinding } from '../model/secret.js';
export { DEFAULT_MAX_SECRET_FILE_BYTES, isPackageFixture, isSecretCandidate } from './candidates.js';
export {
  SECRET_SCANNER_VERSION,
  type SecretScanOptions,
  secretFindings,
  secretInspector,
  secretsSelection,
} from './findings.js';
export { isKnownPublicSecret, KNOWN_PUBLIC_SECRETS } from './known-keys.js';
export { redact, secretFingerprint } from './redact.js';
export { GITLEAKS_COMMIT, REJECTED_GITLEAKS_RULES, SECRET_RULES, type SecretRule } from './rules.js';
export {
  type CompiledRules,
  compileRules,
  type FileSecretScan,
  OVERLAP,
  SecretFileScanner,
  type SecretMatch,
  scanBuffer,
} from './scanner.js';
export { isVendorContent, type VendorChecksums, vendorChecksums } from './vendor.js';
