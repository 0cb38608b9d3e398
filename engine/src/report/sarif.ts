import type { Finding, Severity } from '../model/finding.js';
import type { Misconfiguration } from '../model/misconfiguration.js';
import type { Report } from '../model/report.js';
import type { SecretFinding } from '../model/secret.js';
import { gapWords } from './coverage-words.js';
import { fixText, visibleFindings } from './finding-order.js';
import type { RenderOptions } from './render-options.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
};

/** GitHub sorts and colours code-scanning alerts by this number (string, 0.0–10.0). */
const SECURITY_SEVERITY: Record<Severity, string> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  UNKNOWN: '0.0',
};

/**
 * `-o sarif`: SARIF 2.1.0 as GitHub code scanning accepts it: one rule per vulnerability, one result per
 * (vulnerability, package), located at the file the package was found in (relative URI inside the image).
 */
export function renderSarif(report: Report, options: RenderOptions): string {
  const findings = visibleFindings(report.findings, options.showSuppressed);
  const rules = new Map<string, object>();
  for (const f of findings) if (!rules.has(f.id)) rules.set(f.id, ruleFor(f));
  // Image checks after the vulnerabilities, as rules `LADING-IMG-nnn` (a check id never clashes with an advisory's).
  const misconfigurations = report.misconfigurations ?? [];
  for (const m of misconfigurations) rules.set(checkRuleId(m.id), checkRuleFor(m));
  // Secrets last, as rules `LADING-SECRET-<rule>`; the secret itself appears only redacted.
  const secrets = report.secrets ?? [];
  for (const s of secrets) if (!rules.has(secretRuleId(s.ruleId))) rules.set(secretRuleId(s.ruleId), secretRuleFor(s));
  const ruleIndex = new Map([...rules.keys()].map((id, i) => [id, i]));
  // Looked up once per finding: a linear search per finding is quadratic on large images.
  const pathOf = new Map(report.packages.map((p) => [p.id, p.locations[0]?.path]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'lading',
            version: report.tool.version,
            informationUri: 'https://github.com/lading-dev/lading',
            rules: [...rules.values()],
          },
        },
        results: [
          ...findings.map((f) =>
            resultFor(f, ruleIndex.get(f.id)!, pathOf.get(f.packageId) ?? report.target.ref, report),
          ),
          ...misconfigurations.flatMap((m) => checkResultsFor(m, ruleIndex.get(checkRuleId(m.id))!, report)),
          ...secrets.map((s) => secretResultFor(s, ruleIndex.get(secretRuleId(s.ruleId))!, report)),
        ],
        // Packages left unchecked are told as tool notifications: code scanning shows them beside the results.
        ...(report.coverage?.gaps.length
          ? {
              invocations: [
                {
                  executionSuccessful: true,
                  toolExecutionNotifications: report.coverage.gaps.map((gap) => ({
                    level: 'warning',
                    descriptor: { id: `lading-coverage-${gap.kind}` },
                    message: { text: `not checked: ${gapWords(gap)}` },
                  })),
                },
              ],
            }
          : {}),
        originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
        properties: {
          target: report.target.ref,
          ...(report.target.digest ? { digest: report.target.digest } : {}),
        },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function ruleFor(f: Finding): object {
  const best = f.cvss[0];
  const help = [
    `Vulnerability ${f.id}${f.aliases.length ? ` (${f.aliases.join(', ')})` : ''}`,
    `Severity: ${f.severity}${best ? ` (CVSS ${best.version} ${best.score})` : ''}`,
    `Package: ${f.package.name} ${f.package.version}`,
    `Fixed in: ${fixText(f) || 'no fix yet'}`,
    f.advisory.url ? `Advisory: ${f.advisory.url}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return {
    id: f.id,
    name: ruleName(f.id),
    shortDescription: { text: f.title ? `${f.id}: ${oneLine(f.title)}` : `${f.id} in ${f.package.name}` },
    fullDescription: { text: oneLine(f.description ?? f.title ?? f.id).slice(0, 1000) },
    ...(f.advisory.url ? { helpUri: f.advisory.url } : {}),
    help: { text: help, markdown: help.replace(/\n/g, '  \n') },
    defaultConfiguration: { level: LEVEL[f.severity] },
    properties: {
      'security-severity': best ? best.score.toFixed(1) : SECURITY_SEVERITY[f.severity],
      precision: 'very-high',
      tags: ['vulnerability', 'security', f.severity],
    },
  };
}

function resultFor(f: Finding, ruleIndex: number, path: string, report: Report): object {
  return {
    ruleId: f.id,
    ruleIndex,
    level: LEVEL[f.severity],
    message: {
      text:
        `${f.package.name} ${f.package.version} is affected by ${f.id} (${f.severity.toLowerCase()})` +
        (f.fixedVersions.length ? `; fixed in ${f.fixedVersions.join(', ')}` : '; no fixed version yet') +
        ` [image ${report.target.ref}]`,
    },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: path.replace(/^\/+/, ''), uriBaseId: 'ROOTPATH' },
          region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
        },
        message: { text: `${report.target.ref}: ${f.package.purl}` },
      },
    ],
    partialFingerprints: { 'ladingFinding/v1': `${f.id}:${f.package.purl}` },
    ...(f.suppressed
      ? { suppressions: [{ kind: 'external', status: 'accepted', justification: f.suppressed.reason }] }
      : {}),
  };
}

function checkRuleId(id: string): string {
  return `LADING-${id}`;
}

function checkRuleFor(m: Misconfiguration): object {
  const help = `${m.description}\n\nRemediation: ${m.remediation}`;
  return {
    id: checkRuleId(m.id),
    name: ruleName(m.title),
    shortDescription: { text: `${m.id}: ${m.title}` },
    fullDescription: { text: oneLine(m.description) },
    help: { text: help, markdown: help.replace(/\n/g, '  \n') },
    defaultConfiguration: { level: LEVEL[m.severity] },
    properties: {
      'security-severity': SECURITY_SEVERITY[m.severity],
      precision: 'high',
      tags: ['misconfiguration', 'security', m.severity],
    },
  };
}

/** One result per piece of evidence: a file check's evidence is located at its file, the others at the image. */
function checkResultsFor(m: Misconfiguration, ruleIndex: number, report: Report): object[] {
  return m.evidence.map((e) => ({
    ruleId: checkRuleId(m.id),
    ruleIndex,
    level: LEVEL[m.severity],
    message: { text: `${m.title}: ${oneLine(e.message)} [image ${report.target.ref}]` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: (e.path ?? report.target.ref).replace(/^\/+/, ''), uriBaseId: 'ROOTPATH' },
          region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
        },
        message: { text: `${report.target.ref}: ${m.id}` },
      },
    ],
    partialFingerprints: { 'ladingFinding/v1': `${m.id}:${e.path ?? oneLine(e.message)}` },
  }));
}

function secretRuleId(ruleId: string): string {
  return `LADING-SECRET-${ruleId}`;
}

function secretRuleFor(s: SecretFinding): object {
  const help = `${s.title} found in a file of the image. Revoke and rotate it, then rebuild without it: a secret deleted by a later layer is still in the image's layers.`;
  return {
    id: secretRuleId(s.ruleId),
    name: ruleName(s.title),
    shortDescription: { text: `Secret: ${s.title}` },
    fullDescription: { text: help },
    help: { text: help, markdown: help },
    defaultConfiguration: { level: LEVEL[s.severity] },
    properties: {
      'security-severity': SECURITY_SEVERITY[s.severity],
      precision: 'high',
      tags: ['secret', 'security', s.severity],
    },
  };
}

/** One result per secret, at its file and line; the fingerprint lets code scanning track it across runs. */
function secretResultFor(s: SecretFinding, ruleIndex: number, report: Report): object {
  const where = s.removedIn
    ? ` (layer ${s.layer ?? '?'}, deleted in ${s.removedIn})`
    : s.layer
      ? ` (layer ${s.layer})`
      : '';
  return {
    ruleId: secretRuleId(s.ruleId),
    ruleIndex,
    level: LEVEL[s.severity],
    message: { text: `${s.title} ${s.redacted} in ${s.path}${where} [image ${report.target.ref}]` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: s.path.replace(/^\/+/, ''), uriBaseId: 'ROOTPATH' },
          region: { startLine: s.line, startColumn: 1, endLine: s.line, endColumn: 1 },
        },
        message: { text: `${report.target.ref}: ${s.ruleId}` },
      },
    ],
    partialFingerprints: { 'ladingFinding/v1': `secret:${s.fingerprint}` },
  };
}

function ruleName(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, '');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
