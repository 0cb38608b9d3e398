import type { Finding } from '../model/finding.js';
import type { PolicyVerdict, Report } from '../model/report.js';
import { plural } from '../report/words.js';
import { atOrAbove } from './filters.js';
import { isAllowed, isDenied } from './licenses.js';
import { matchesPackagePattern } from './pattern.js';
import type {
  ImageRule,
  LicenseRule,
  MisconfigurationRule,
  PackageRule,
  Policy,
  PolicyRule,
  SecretsRule,
  VulnerabilityRule,
} from './policy-file.js';

type Violation = PolicyVerdict['violations'][number];

/** Evaluates every rule on a report whose findings already carry their suppressions (VEX, exceptions). */
export function evaluatePolicy(report: Report, policy: Policy): PolicyVerdict {
  const violations = policy.rules.flatMap((rule) => violationsOf(rule, report));
  return { pass: !violations.some((v) => v.action === 'fail'), violations };
}

function violationsOf(rule: PolicyRule, report: Report): Violation[] {
  switch (rule.type) {
    case 'vulnerabilities':
      return vulnerabilityViolations(rule, report.findings);
    case 'licenses':
      return licenseViolations(rule, report);
    case 'packages':
      return packageViolations(rule, report);
    case 'image':
      return imageViolations(rule, report);
    case 'misconfigurations':
      return misconfigurationViolations(rule, report);
    case 'secrets':
      return secretViolations(rule, report);
  }
}

/**
 * The secrets found (`secrets[]`, deleted ones included: they are still in the layers) that match the rule. A report
 * without the field had none, or was made with the scanner off. Messages show the secret only redacted.
 */
function secretViolations(rule: SecretsRule, report: Report): Violation[] {
  const ignored = new Set(rule.ignore ?? []);
  const hits = (report.secrets ?? []).filter(
    (s) =>
      !ignored.has(s.fingerprint) &&
      (!rule.ids || rule.ids.includes(s.ruleId)) &&
      (!rule.severity || atOrAbove(s.severity, rule.severity)),
  );
  const max = rule.max ?? 0;
  if (hits.length <= max) return [];
  const base = { rule: rule.id, action: rule.action };
  if (max > 0) return [{ ...base, message: `${plural(hits.length, 'secret')} found, at most ${max} allowed` }];
  return hits.map((s) => ({
    ...base,
    message: `${s.title} (${s.severity}) ${s.redacted} in ${s.path}:${s.line}${s.removedIn ? ', deleted by a later layer but still in the image' : ''} [${s.fingerprint}]`,
  }));
}

/**
 * The image checks that failed (`misconfigurations[]`) and match the rule. A report without the field had no failed
 * check, or was made with the checks off: either way there is nothing to hold against it.
 */
function misconfigurationViolations(rule: MisconfigurationRule, report: Report): Violation[] {
  const hits = (report.misconfigurations ?? []).filter(
    (m) => (!rule.ids || rule.ids.includes(m.id)) && (!rule.severity || atOrAbove(m.severity, rule.severity)),
  );
  const max = rule.max ?? 0;
  if (hits.length <= max) return [];
  const base = { rule: rule.id, action: rule.action };
  if (max > 0) return [{ ...base, message: `${plural(hits.length, 'failed image check')}, at most ${max} allowed` }];
  return hits.map((m) => {
    const more = m.evidence.length > 1 ? ` (+${m.evidence.length - 1} more)` : '';
    return { ...base, message: `${m.id} ${m.title} (${m.severity}): ${m.evidence[0]?.message ?? ''}${more}` };
  });
}

export function ruleMatchesFinding(rule: VulnerabilityRule, f: Finding): boolean {
  if (f.suppressed) return false;
  if (rule.severity && !atOrAbove(f.severity, rule.severity)) return false;
  if (rule.fixableOnly && f.fixedVersions.length === 0) return false;
  if (rule.kev && !f.kev) return false;
  if (rule.epssAtLeast !== undefined && !((f.epss ?? 0) >= rule.epssAtLeast)) return false;
  if (rule.ids && !rule.ids.some((id) => id === f.id || f.aliases.includes(id))) return false;
  return true;
}

function vulnerabilityViolations(rule: VulnerabilityRule, findings: readonly Finding[]): Violation[] {
  const hits = findings.filter((f) => ruleMatchesFinding(rule, f));
  const max = rule.max ?? 0;
  if (hits.length <= max) return [];
  const base = { rule: rule.id, action: rule.action };
  if (max > 0) {
    return [{ ...base, message: `${plural(hits.length, 'matching finding')}, at most ${max} allowed` }];
  }
  return hits.map((f) => ({
    ...base,
    message: `${f.id} (${f.severity}${f.kev ? ', KEV' : ''}${f.epss !== undefined ? `, EPSS ${f.epss}` : ''}) in ${f.package.name} ${f.package.version}${f.fixedVersions.length ? `, fixed in ${f.fixedVersions.join(', ')}` : ''}`,
    findingId: f.id,
    packageId: f.packageId,
  }));
}

function licenseViolations(rule: LicenseRule, report: Report): Violation[] {
  const out: Violation[] = [];
  for (const pkg of report.packages) {
    if (rule.packageTypes && !rule.packageTypes.includes(pkg.type)) continue;
    if (pkg.licenses.length === 0) continue;
    const denied = rule.deny && isDenied(pkg.licenses, rule.deny);
    const notAllowed = rule.allow && !isAllowed(pkg.licenses, rule.allow);
    if (!denied && !notAllowed) continue;
    out.push({
      rule: rule.id,
      action: rule.action,
      message: `${pkg.name} ${pkg.version} (${pkg.type}) is licensed ${pkg.licenses.join(', ')}${denied ? ', a denied license' : ', not on the allow list'}`,
      packageId: pkg.id,
    });
  }
  return out;
}

function packageViolations(rule: PackageRule, report: Report): Violation[] {
  return report.packages
    .filter((pkg) => rule.deny.some((pattern) => matchesPackagePattern(pattern, pkg)))
    .map((pkg) => ({
      rule: rule.id,
      action: rule.action,
      message: `${pkg.name} ${pkg.version} (${pkg.purl}) is on the deny list`,
      packageId: pkg.id,
    }));
}

function imageViolations(rule: ImageRule, report: Report): Violation[] {
  const out: Violation[] = [];
  const add = (message: string) => out.push({ rule: rule.id, action: rule.action, message });
  const config = report.target.config;
  const user = config?.user?.trim() ?? '';
  const isImage = report.target.kind === 'image';
  if (rule.requireUser && isImage && !user) add('the image sets no USER');
  if (rule.forbidRoot && isImage && runsAsRoot(user)) add(`the image runs as root (USER ${user || 'unset'})`);
  if (rule.forbidLatestTag && isImage && usesLatestTag(report.target.ref)) {
    add(`the image is referenced by the latest tag (${report.target.ref})`);
  }
  if (rule.forbidEol && report.os?.eol) {
    add(
      `${report.os.name ?? `${report.os.family} ${report.os.version}`} is past its end of life${report.os.eolDate ? ` (${report.os.eolDate})` : ''}`,
    );
  } else if (rule.forbidEol && report.os?.eolStatus === 'unknown') {
    // No date known for this release: the rule cannot say "supported", and must not pass it silently either.
    out.push({
      rule: rule.id,
      action: 'warn',
      message: `${report.os.name ?? `${report.os.family} ${report.os.version}`}: end of life unknown (no date known for this release)`,
    });
  }
  return out;
}

export function runsAsRoot(user: string): boolean {
  const name = user.split(':')[0] ?? '';
  return name === '' || name === '0' || name === 'root';
}

/** Registry references only: local archives and folders have no tag to judge. */
export function usesLatestTag(ref: string): boolean {
  if (/^(docker-archive|oci|oci-archive|dir|sbom):/.test(ref)) return false;
  const bare = ref.replace(/^registry:/, '');
  if (bare.includes('@sha256:')) return false;
  const lastSegment = bare.split('/').pop() ?? '';
  const colon = lastSegment.indexOf(':');
  return colon === -1 || lastSegment.slice(colon + 1) === 'latest';
}
