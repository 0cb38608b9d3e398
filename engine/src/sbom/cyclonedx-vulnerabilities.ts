import type { CvssScore, Finding, Suppression } from '../model/finding.js';
import { PROP, type Property } from './properties.js';

/** CycloneDX `vulnerabilities`: one entry per vulnerability (and suppression state), affecting every package it hits. */
export function cyclonedxVulnerabilities(
  findings: readonly Finding[],
  bomRefOf: (packageId: string) => string | undefined,
): Record<string, unknown>[] {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const key = `${finding.id}\0${finding.advisory.id}\0${JSON.stringify(finding.suppressed ?? null)}`;
    const group = groups.get(key);
    if (group) group.push(finding);
    else groups.set(key, [finding]);
  }
  const out: Record<string, unknown>[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key) as Finding[];
    const entry = vulnerability(group, bomRefOf);
    if (entry) out.push(entry);
  }
  return out;
}

function vulnerability(
  group: readonly Finding[],
  bomRefOf: (packageId: string) => string | undefined,
): Record<string, unknown> | undefined {
  const first = group[0] as Finding;
  const affects = [...new Set(group.map((f) => bomRefOf(f.packageId)).filter((r): r is string => !!r))]
    .sort()
    .map((ref) => {
      const versions = [...new Set(group.filter((f) => bomRefOf(f.packageId) === ref).map((f) => f.package.version))];
      return { ref, versions: versions.sort().map((version) => ({ version, status: 'affected' })) };
    });
  if (affects.length === 0) return undefined;

  const entry: Record<string, unknown> = {
    id: first.id,
    source: {
      name: 'OSV',
      url: safeUrl(first.advisory.url) ?? `https://osv.dev/vulnerability/${encodeURIComponent(first.advisory.id)}`,
    },
  };
  const references = [...new Set([first.advisory.id, ...first.aliases])]
    .filter((id) => id !== first.id)
    .sort()
    .map((id) => ({ id, source: { name: 'OSV', url: `https://osv.dev/vulnerability/${encodeURIComponent(id)}` } }));
  if (references.length) entry['references'] = references;
  entry['ratings'] = ratings(first);
  const description = first.description ?? first.title;
  if (description) entry['description'] = description;
  const fixed = [...new Set(group.flatMap((f) => f.fixedVersions))];
  if (fixed.length) entry['recommendation'] = `Upgrade ${first.package.name} to ${fixed.join(' or ')}`;
  const advisories = [...new Set([first.advisory.url, ...(first.references ?? [])].map(safeUrl))]
    .filter((u): u is string => !!u)
    .sort()
    .map((url) => ({ url }));
  if (advisories.length) entry['advisories'] = advisories;
  const published = isoTime(first.published);
  if (published) entry['published'] = published;
  if (first.suppressed) entry['analysis'] = analysis(first.suppressed);
  entry['affects'] = affects;
  const properties = findingProperties(first);
  if (properties.length) entry['properties'] = properties;
  return entry;
}

function ratings(finding: Finding): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  out.push({ source: { name: finding.severitySource ?? 'lading' }, severity: finding.severity.toLowerCase() });
  const sorted = [...finding.cvss].sort(
    (a, b) => cmp(a.source, b.source) || cmp(a.version, b.version) || cmp(a.vector, b.vector),
  );
  for (const cvss of sorted) {
    const rating: Record<string, unknown> = { source: { name: cvss.source } };
    if (Number.isFinite(cvss.score)) {
      rating['score'] = cvss.score;
      rating['severity'] = cvssSeverity(cvss);
    }
    rating['method'] = cvssMethod(cvss.version);
    if (cvss.vector) rating['vector'] = cvss.vector;
    out.push(rating);
  }
  return out;
}

function cvssMethod(version: string): string {
  switch (version) {
    case '2.0':
    case '2':
      return 'CVSSv2';
    case '3.0':
      return 'CVSSv3';
    case '3.1':
      return 'CVSSv31';
    case '4.0':
    case '4':
      return 'CVSSv4';
    default:
      return 'other';
  }
}

/** Qualitative rating from the base score, per each CVSS version's own scale (v2 has no critical/none). */
function cvssSeverity(cvss: CvssScore): string {
  const s = cvss.score;
  if (cvss.version.startsWith('2')) return s >= 7 ? 'high' : s >= 4 ? 'medium' : 'low';
  if (s === 0) return 'none';
  return s >= 9 ? 'critical' : s >= 7 ? 'high' : s >= 4 ? 'medium' : 'low';
}

const VEX_STATE: Readonly<Record<string, string>> = {
  not_affected: 'not_affected',
  fixed: 'resolved',
  under_investigation: 'in_triage',
  affected: 'exploitable',
};

/** OpenVEX justification → the CycloneDX one that says the same thing. */
const VEX_JUSTIFICATION: Readonly<Record<string, string>> = {
  component_not_present: 'requires_dependency',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'requires_environment',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

const CDX_STATES = new Set([
  'resolved',
  'resolved_with_pedigree',
  'exploitable',
  'in_triage',
  'false_positive',
  'not_affected',
]);
const CDX_JUSTIFICATIONS = new Set([
  'code_not_present',
  'code_not_reachable',
  'requires_configuration',
  'requires_dependency',
  'requires_environment',
  'protected_by_compiler',
  'protected_at_runtime',
  'protected_at_perimeter',
  'protected_by_mitigating_control',
]);

/** VEX state/justification from a suppression's reason; other suppressions are accepted risk. */
function analysis(suppressed: Suppression): Record<string, unknown> {
  const words = suppressed.reason.toLowerCase().split(/[^a-z_]+/);
  const result: Record<string, unknown> = {};
  if (suppressed.kind === 'vex') {
    const state = words.map((w) => VEX_STATE[w] ?? (CDX_STATES.has(w) ? w : undefined)).find((s) => s);
    if (state) result['state'] = state;
    const justification = words
      .map((w) => VEX_JUSTIFICATION[w] ?? (CDX_JUSTIFICATIONS.has(w) ? w : undefined))
      .find((j) => j);
    if (justification && state === 'not_affected') result['justification'] = justification;
  } else {
    result['response'] = ['will_not_fix'];
  }
  const detail = [`${suppressed.kind}: ${suppressed.reason}`];
  if (suppressed.source) detail.push(`source: ${suppressed.source}`);
  if (suppressed.expires) detail.push(`expires: ${suppressed.expires}`);
  result['detail'] = detail.join('; ');
  return result;
}

function findingProperties(finding: Finding): Property[] {
  const props: Property[] = [{ name: PROP.findingStatus, value: finding.status }];
  if (finding.kev) props.push({ name: PROP.findingKev, value: 'true' });
  if (finding.epss !== undefined) props.push({ name: PROP.findingEpss, value: String(finding.epss) });
  if (finding.epssPercentile !== undefined)
    props.push({ name: PROP.findingEpssPercentile, value: String(finding.epssPercentile) });
  if (finding.severitySource) props.push({ name: PROP.findingSeveritySource, value: finding.severitySource });
  return props;
}

function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function isoTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
