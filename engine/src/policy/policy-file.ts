import { LadingError } from '../errors/lading-error.js';
import type { Severity } from '../model/finding.js';
import type { compileSchema } from './document.js';
import { parseSeverity } from './filters.js';

export type RuleAction = 'fail' | 'warn';

interface RuleBase {
  id: string;
  action: RuleAction;
  description?: string;
}

export interface VulnerabilityRule extends RuleBase {
  type: 'vulnerabilities';
  severity?: Severity;
  fixableOnly?: boolean;
  kev?: boolean;
  epssAtLeast?: number;
  ids?: string[];
  max?: number;
}

export interface LicenseRule extends RuleBase {
  type: 'licenses';
  allow?: string[];
  deny?: string[];
  packageTypes?: string[];
}

export interface PackageRule extends RuleBase {
  type: 'packages';
  deny: string[];
}

export interface ImageRule extends RuleBase {
  type: 'image';
  forbidRoot?: boolean;
  requireUser?: boolean;
  forbidLatestTag?: boolean;
  forbidEol?: boolean;
}

/** Gates on the image checks (`misconfigurations[]`): fails when more than `max` failed checks match. */
export interface MisconfigurationRule extends RuleBase {
  type: 'misconfigurations';
  /** Only these check ids (`IMG-001`…). */
  ids?: string[];
  /** Only checks at or above this severity. */
  severity?: Severity;
  max?: number;
}

/** Gates on the secrets found in the layers (`secrets[]`): fails when more than `max` matching secrets remain. */
export interface SecretsRule extends RuleBase {
  type: 'secrets';
  /** Only these secret rules (`github-pat`, `private-key`…). */
  ids?: string[];
  /** Only secrets at or above this severity. */
  severity?: Severity;
  /** Fingerprints (`secrets[].fingerprint`) triaged as harmless (revoked, test data): never counted. */
  ignore?: string[];
  max?: number;
}

export type PolicyRule = VulnerabilityRule | LicenseRule | PackageRule | ImageRule | MisconfigurationRule | SecretsRule;

export interface PolicyException {
  vulnerability?: string;
  package?: string;
  purl?: string;
  reason: string;
  expires?: string;
}

export interface Policy {
  version: 1;
  rules: PolicyRule[];
  exceptions: PolicyException[];
}

let validator: ReturnType<typeof compileSchema> | undefined;

/** Reads and validates a policy file (YAML or JSON); errors name the line and field (exit 2). */
export async function loadPolicy(file: string): Promise<Policy> {
  // The YAML parser and the JSON Schema validator load here, on first use: importing the policy module (for
  // parseSeverity, assess…) must not load them, so a scan without a policy never pays for them.
  const [{ compileSchema, loadDocument, validateDocument }, { POLICY_SCHEMA }] = await Promise.all([
    import('./document.js'),
    import('./policy-schema.js'),
  ]);
  const doc = await loadDocument(file, 'policy');
  validator ??= compileSchema(POLICY_SCHEMA);
  validateDocument(doc, validator, 'policy');
  const raw = doc.value as {
    version: 1;
    rules: (PolicyRule & { severity?: string })[];
    exceptions?: PolicyException[];
  };
  for (const [i, exception] of (raw.exceptions ?? []).entries()) {
    if (exception.expires !== undefined && !isCalendarDate(exception.expires.slice(0, 10))) {
      throw new LadingError(
        'CONFIG',
        `${doc.where(['exceptions', i, 'expires'])}: invalid policy: exceptions[${i}].expires: ${exception.expires} is not a date`,
      );
    }
  }
  const rules = raw.rules.map((r) =>
    (r.type === 'vulnerabilities' || r.type === 'misconfigurations' || r.type === 'secrets') && r.severity
      ? { ...r, severity: parseSeverity(r.severity) }
      : r,
  ) as PolicyRule[];
  return { version: 1, rules, exceptions: raw.exceptions ?? [] };
}

/** `YYYY-MM-DD` naming a day that exists (`2024-02-30` does not: it would silently mean 1 March). */
function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
