import { eolStatusWords } from '../catalog/os/release/eol.js';
import type { Finding } from '../model/finding.js';
import type { Report } from '../model/report.js';
import { notCheckedLines } from './coverage-words.js';
import { fixText, visibleFindings } from './finding-order.js';
import { fitSections, mdCell } from './markdown-limit.js';
import type { RenderOptions } from './render-options.js';
import { plural } from './words.js';

const ICON: Record<Finding['severity'], string> = {
  CRITICAL: '🟥',
  HIGH: '🟧',
  MEDIUM: '🟨',
  LOW: '🟦',
  UNKNOWN: '⬜',
};

/** `-o markdown`: for PR comments. Verdict first, counts, then findings by severity; details collapsed. */
export function renderMarkdown(report: Report, options: RenderOptions): string {
  const s = report.summary.bySeverity;
  const findings = visibleFindings(report.findings, options.showSuppressed);
  const verdict = report.gate
    ? gateVerdict(report.gate)
    : report.policy
      ? policyVerdict(report.policy)
      : findingsVerdict(report);
  const head =
    `### Lading scan of \`${mdCell(report.target.ref)}\`\n\n${verdict}\n\n` +
    notCheckedLines(report)
      .map((line) => `> ⚠️ **${mdCell(line)}**\n\n`)
      .join('') +
    `| critical | high | medium | low | unknown | packages |\n|---:|---:|---:|---:|---:|---:|\n` +
    `| ${s.critical} | ${s.high} | ${s.medium} | ${s.low} | ${s.unknown} | ${report.summary.packages} |\n\n` +
    (report.os
      ? `OS: ${mdCell(report.os.name ?? `${report.os.family} ${report.os.version}`)}${eolStatusWords(report.os) ? ` (**${eolStatusWords(report.os)}**)` : ''}\n\n`
      : '');
  const policyRows = (report.policy?.violations ?? []).map(
    (v) => `| ${v.action} | ${mdCell(v.rule)} | ${mdCell(v.message)} |`,
  );
  const top = findings.filter((f) => f.severity === 'CRITICAL' || f.severity === 'HIGH');
  const rest = findings.filter((f) => !(f.severity === 'CRITICAL' || f.severity === 'HIGH'));
  const row = (f: Finding) =>
    `| ${ICON[f.severity]} ${f.severity} | ${f.advisory.url ? `[${f.id}](${f.advisory.url})` : f.id} | ${mdCell(f.package.name)} | ${mdCell(f.package.version)} | ${mdCell(fixText(f) || '—')} |${f.kev ? ' KEV' : ''}${f.suppressed ? ' suppressed' : ''}`;
  const tableHead = '| severity | vulnerability | package | installed | fixed in |\n|---|---|---|---|---|\n';
  return fitSections([
    { head, rows: [] },
    ...(policyRows.length
      ? [{ head: '#### Policy\n\n| action | rule | detail |\n|---|---|---|\n', rows: policyRows, tail: '\n' }]
      : []),
    ...(report.misconfigurations?.length
      ? [
          {
            head: '#### Image checks\n\n| severity | check | title | evidence |\n|---|---|---|---|\n',
            rows: report.misconfigurations.map(
              (m) =>
                `| ${ICON[m.severity]} ${m.severity} | ${m.id} | ${mdCell(m.title)} | ${mdCell(m.evidence[0]?.message ?? '')}${m.evidence.length > 1 ? ` (+${m.evidence.length - 1} more)` : ''} |`,
            ),
            tail: '\n',
          },
        ]
      : []),
    ...(report.secrets?.length
      ? [
          {
            head: '#### Secrets\n\n| severity | rule | path | match | layer |\n|---|---|---|---|---|\n',
            rows: report.secrets.map(
              (s) =>
                `| ${ICON[s.severity]} ${s.severity} | ${s.ruleId} | ${mdCell(`${s.path}:${s.line}`)} | ${mdCell(s.redacted)} | ${mdCell((s.layer ?? '').replace(/^sha256:/, '').slice(0, 12))}${s.removedIn ? ` (deleted in ${mdCell(s.removedIn.replace(/^sha256:/, '').slice(0, 12))})` : ''} |`,
            ),
            tail: '\n',
          },
        ]
      : []),
    ...(top.length ? [{ head: `#### Critical and high\n\n${tableHead}`, rows: top.map(row), tail: '\n' }] : []),
    ...(rest.length
      ? [
          {
            head: `<details><summary>${rest.length} medium, low and unrated</summary>\n\n${tableHead}`,
            rows: rest.map(row),
            tail: '\n</details>\n',
          },
        ]
      : []),
  ]);
}

function gateVerdict(gate: NonNullable<Report['gate']>): string {
  if (gate.pass) return '✅ **Gate passed**';
  const more = gate.reasons.length > 1 ? ` (and ${gate.reasons.length - 1} more)` : '';
  return `❌ **Gate failed**: ${mdCell(gate.reasons[0] ?? '')}${more}`;
}

function policyVerdict(policy: NonNullable<Report['policy']>): string {
  if (policy.pass) return '✅ **Policy passed**';
  return `❌ **Policy failed** (${plural(policy.violations.filter((v) => v.action === 'fail').length, 'rule violation')})`;
}

function findingsVerdict(report: Report): string {
  if (report.summary.findings === 0 && report.coverage) return '⚠️ **No vulnerabilities found in the packages checked**';
  return report.summary.findings === 0
    ? '✅ **No vulnerabilities found**'
    : `⚠️ **${plural(report.summary.findings, 'vulnerability', 'vulnerabilities')} found**`;
}
