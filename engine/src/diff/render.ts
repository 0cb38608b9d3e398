import { LadingError } from '../errors/lading-error.js';
import type { Finding } from '../model/finding.js';
import type { SeverityCounts } from '../model/report.js';
import { bySeverityThenPackage, fixText } from '../report/finding-order.js';
import { fitSections, mdCell } from '../report/markdown-limit.js';
import type { ReportDiff } from './diff.js';
import { DIFF_FORMATS } from './formats.js';

export function renderDiff(diff: ReportDiff, format: string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(diff, null, 2)}\n`;
    case 'table':
      return renderDiffTable(diff);
    case 'markdown':
      return renderDiffMarkdown(diff);
    default:
      throw new LadingError('USAGE', `unknown diff format "${format}" (choose from ${DIFF_FORMATS.join(', ')})`);
  }
}

function deltaText(d: SeverityCounts): string {
  const sign = (n: number) => (n > 0 ? `+${n}` : String(n));
  return `critical ${sign(d.critical)}, high ${sign(d.high)}, medium ${sign(d.medium)}, low ${sign(d.low)}, unknown ${sign(d.unknown)}`;
}

function renderDiffTable(diff: ReportDiff): string {
  const lines = [
    `${diff.old.ref} → ${diff.new.ref}: ${diff.direction.toUpperCase()}${diff.incomplete ? ' (INCOMPLETE: not every package was checked)' : ''}`,
    ...(diff.incomplete?.reasons ?? []).map((r) => `NOT CHECKED ${r}`),
    `findings: ${diff.findings.new.length} new, ${diff.findings.fixed.length} fixed, ${diff.findings.unchanged} unchanged (${deltaText(diff.severityDelta)})`,
    `packages: ${diff.packages.added.length} added, ${diff.packages.removed.length} removed, ${diff.packages.changed.length} changed`,
  ];
  const findingLine = (mark: string) => (f: Finding) =>
    `  ${mark} ${f.severity.padEnd(8)} ${f.id.padEnd(20)} ${f.package.name} ${f.package.version}${fixText(f) ? ` (fixed in ${fixText(f)})` : ''}`;
  if (diff.findings.new.length)
    lines.push('', 'New findings:', ...[...diff.findings.new].sort(bySeverityThenPackage).map(findingLine('+')));
  if (diff.findings.fixed.length)
    lines.push('', 'Fixed findings:', ...[...diff.findings.fixed].sort(bySeverityThenPackage).map(findingLine('-')));
  if (diff.packages.changed.length) {
    lines.push(
      '',
      'Changed packages:',
      ...diff.packages.changed.map((c) => `  ~ ${c.type}/${c.name} ${c.from} → ${c.to}`),
    );
  }
  if (diff.packages.added.length)
    lines.push('', 'Added packages:', ...diff.packages.added.map((p) => `  + ${p.type}/${p.name} ${p.version}`));
  if (diff.packages.removed.length) {
    lines.push('', 'Removed packages:', ...diff.packages.removed.map((p) => `  - ${p.type}/${p.name} ${p.version}`));
  }
  return `${lines.join('\n')}\n`;
}

function renderDiffMarkdown(diff: ReportDiff): string {
  const verdict =
    diff.direction === 'worse'
      ? '❌ **Worse**'
      : diff.direction === 'better'
        ? '✅ **Better**'
        : '➖ **No change in risk**';
  const head =
    `### Lading: \`${mdCell(diff.old.ref)}\` → \`${mdCell(diff.new.ref)}\`\n\n${verdict}` +
    `${diff.incomplete ? ' (⚠️ **incomplete**: not every package was checked)' : ''}: ` +
    `${diff.findings.new.length} new, ${diff.findings.fixed.length} fixed, ${diff.findings.unchanged} unchanged findings ` +
    `(${deltaText(diff.severityDelta)}).\n\n` +
    (diff.incomplete?.reasons ?? []).map((r) => `> ⚠️ **Not checked** ${mdCell(r)}\n\n`).join('');
  const findingRow = (f: Finding) =>
    `| ${f.severity} | ${f.advisory.url ? `[${f.id}](${f.advisory.url})` : f.id} | ${mdCell(f.package.name)} | ${mdCell(f.package.version)} | ${mdCell(fixText(f) || '—')} |`;
  const table = '| severity | vulnerability | package | version | fixed in |\n|---|---|---|---|---|\n';
  const pkgRows = [
    ...diff.packages.changed.map(
      (c) => `| changed | ${c.type} | ${mdCell(c.name)} | ${mdCell(c.from)} → ${mdCell(c.to)} |`,
    ),
    ...diff.packages.added.map((p) => `| added | ${p.type} | ${mdCell(p.name)} | ${mdCell(p.version)} |`),
    ...diff.packages.removed.map((p) => `| removed | ${p.type} | ${mdCell(p.name)} | ${mdCell(p.version)} |`),
  ];
  return fitSections([
    { head, rows: [] },
    ...(diff.findings.new.length
      ? [
          {
            head: `#### New findings\n\n${table}`,
            rows: [...diff.findings.new].sort(bySeverityThenPackage).map(findingRow),
            tail: '\n',
          },
        ]
      : []),
    ...(diff.findings.fixed.length
      ? [
          {
            head: `#### Fixed\n\n${table}`,
            rows: [...diff.findings.fixed].sort(bySeverityThenPackage).map(findingRow),
            tail: '\n',
          },
        ]
      : []),
    ...(pkgRows.length
      ? [
          {
            head: `<details><summary>${pkgRows.length} package change(s)</summary>\n\n| change | type | package | version |\n|---|---|---|---|\n`,
            rows: pkgRows,
            tail: '\n</details>\n',
          },
        ]
      : []),
  ]);
}
