import { eolStatusWords } from '../catalog/os/release/eol.js';
import type { Finding, Severity } from '../model/finding.js';
import type { Misconfiguration } from '../model/misconfiguration.js';
import type { Report } from '../model/report.js';
import type { SecretFinding } from '../model/secret.js';
import { notCheckedLines } from './coverage-words.js';
import { fixText, visibleFindings } from './finding-order.js';
import type { RenderOptions } from './render-options.js';
import { plural } from './words.js';

const COLORS: Record<Severity, string> = {
  CRITICAL: '\x1b[1;31m',
  HIGH: '\x1b[31m',
  MEDIUM: '\x1b[33m',
  LOW: '\x1b[36m',
  UNKNOWN: '\x1b[37m',
};
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';

/** `-o table`: a summary line, then the findings grouped by package (or the package list for SBOM-only runs). */
export function renderTable(report: Report, options: RenderOptions): string {
  const paint = (code: string, text: string) => (options.color ? `${code}${text}${RESET}` : text);
  const lines: string[] = [];
  const t = report.target;
  const eolWords = report.os ? eolStatusWords(report.os) : '';
  const os = report.os
    ? ` (${report.os.name ?? `${report.os.family} ${report.os.version}`}${eolWords ? `, ${eolWords}` : ''})`
    : '';
  lines.push(paint(BOLD, `${t.ref}${t.digest ? ` @ ${t.digest}` : ''}${os}`));

  const s = report.summary.bySeverity;
  const findings = visibleFindings(report.findings, options.showSuppressed);
  if (report.db || report.findings.length) {
    lines.push(
      `${plural(report.summary.packages, 'package')}, ${plural(report.summary.findings, 'vulnerability', 'vulnerabilities')} ` +
        `(critical: ${s.critical}, high: ${s.high}, medium: ${s.medium}, low: ${s.low}, unknown: ${s.unknown})` +
        (report.summary.suppressed ? `, ${report.summary.suppressed} suppressed` : '') +
        fixableNote(report.findings),
    );
    // Above the findings: what was not looked at, so no reader takes the table for the whole image.
    for (const line of notCheckedLines(report)) lines.push(paint(BOLD, line));
    lines.push('');
    if (findings.length === 0) {
      lines.push(report.coverage ? 'No vulnerabilities found in the packages checked.' : 'No vulnerabilities found.');
    } else {
      const table = options.summary
        ? packageSummaryTable(findings, paint)
        : findingsTable(findings, paint, options.width);
      for (const line of table) lines.push(line);
    }
  } else {
    lines.push(plural(report.summary.packages, 'package'));
    lines.push('');
    lines.push(
      ...formatColumns(
        ['PACKAGE', 'VERSION', 'TYPE', 'PATH'],
        report.packages.map((p) => [p.name, p.version, p.type, p.locations[0]?.path ?? '']),
      ),
    );
  }
  if (report.misconfigurations?.length) {
    lines.push('');
    for (const line of misconfigurationLines(report.misconfigurations, paint)) lines.push(line);
  }
  if (report.secrets?.length) {
    lines.push('');
    for (const line of secretLines(report.secrets, paint)) lines.push(line);
  }
  if (report.gate) {
    lines.push('');
    lines.push(report.gate.pass ? paint(BOLD, 'Gate: pass') : paint(COLORS.CRITICAL, 'Gate: FAIL'));
    for (const r of [...report.gate.reasons, ...report.gate.notes]) lines.push(`  ${r}`);
  }
  if (report.policy) {
    lines.push('');
    lines.push(report.policy.pass ? paint(BOLD, 'Policy: pass') : paint(COLORS.CRITICAL, 'Policy: FAIL'));
    for (const v of report.policy.violations) lines.push(`  [${v.action}] ${v.rule}: ${v.message}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `, N fixable`: of the findings that count (not suppressed), how many have a fixed version to upgrade to, the
 * first thing a newcomer wants to know after how many there are. Nothing when there are none.
 */
function fixableNote(findings: readonly Finding[]): string {
  const counted = findings.filter((f) => !f.suppressed);
  if (counted.length === 0) return '';
  return `, ${counted.filter((f) => f.fixedVersions.length > 0).length} fixable`;
}

const SEVERITY_ORDER: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

/** Findings grouped by their package (`name@version (type)`), in the order the packages first appear. */
function findingsByPackage(findings: readonly Finding[]): Map<string, Finding[]> {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.package.name}@${f.package.version} (${f.package.type})`;
    const list = groups.get(key) ?? [];
    list.push(f);
    groups.set(key, list);
  }
  return groups;
}

/**
 * The summary view (`scan --summary`): one line per vulnerable package, most severe first, with its findings counted
 * by severity and how many of them a newer version fixes, then how many packages that makes.
 */
function packageSummaryTable(findings: Finding[], paint: (code: string, text: string) => string): string[] {
  const groups = findingsByPackage(findings);
  const rank = (list: Finding[]) =>
    list.reduce((worst, f) => Math.min(worst, SEVERITY_ORDER.indexOf(f.severity)), SEVERITY_ORDER.length);
  // `findings` come most severe first, so a stable sort on the worst severity keeps that order within a rank.
  const ordered = [...groups].sort((a, b) => rank(a[1]) - rank(b[1]));
  const rows = ordered.map(([pkg, list]) => [
    pkg,
    SEVERITY_ORDER[rank(list)]!,
    SEVERITY_ORDER.map((sev) => list.filter((f) => f.severity === sev).length)
      .map((n, i) => (n ? `${n} ${SEVERITY_ORDER[i]!.toLowerCase()}` : ''))
      .filter(Boolean)
      .join(', '),
    `${list.filter((f) => f.fixedVersions.length > 0).length} of ${list.length}`,
  ]);
  const out = formatColumns(['PACKAGE', 'WORST', 'VULNERABILITIES', 'FIXABLE'], rows);
  const colored = out.map((line, i) =>
    i < 2 ? line : paintSeverity(line, SEVERITY_ORDER[rank(ordered[i - 2]![1])]!, paint),
  );
  return [
    ...colored,
    '',
    `${plural(ordered.length, 'package')} with vulnerabilities; the full table lists each finding.`,
  ];
}

function findingsTable(findings: Finding[], paint: (code: string, text: string) => string, width: number): string[] {
  // Grouped by package: the question a reader asks is "what do I upgrade".
  const groups = findingsByPackage(findings);
  const rows: string[][] = [];
  const colors: Severity[] = [];
  for (const [pkg, list] of groups) {
    list.forEach((f, i) => {
      rows.push([
        i === 0 ? pkg : '',
        f.id,
        f.severity,
        fixText(f),
        `${f.kev ? 'KEV ' : ''}${f.suppressed ? `suppressed (${f.suppressed.kind}) ` : ''}`.trim(),
        // The advisory's one-line summary (OSV `summary`): what the finding is about, at a glance.
        f.title ?? '',
      ]);
      colors.push(f.severity);
    });
  }
  // NOTES only when a finding has one (KEV, suppressed), so the common table stays narrow.
  const withNotes = rows.some((r) => r[4]);
  const header = ['PACKAGE', 'VULNERABILITY', 'SEVERITY', 'FIXED IN', ...(withNotes ? ['NOTES'] : []), 'TITLE'];
  const cells = withNotes ? rows : rows.map((r) => [...r.slice(0, 4), r[5]!]);
  const out = formatColumns(header, cells, width);
  return out.map((line, i) => (i < 2 ? line : paintSeverity(line, colors[i - 2]!, paint)));
}

/** The image checks that failed, after the vulnerabilities: one row per check, with its first piece of evidence. */
function misconfigurationLines(
  misconfigurations: readonly Misconfiguration[],
  paint: (code: string, text: string) => string,
): string[] {
  const rows = misconfigurations.map((m) => {
    const more = m.evidence.length > 1 ? ` (+${m.evidence.length - 1} more)` : '';
    return [m.id, m.severity, m.title, `${m.evidence[0]?.message ?? ''}${more}`];
  });
  const out = formatColumns(['CHECK', 'SEVERITY', 'TITLE', 'EVIDENCE'], rows);
  const head = `${misconfigurations.length} image ${misconfigurations.length === 1 ? 'check' : 'checks'} failed`;
  return [
    head,
    '',
    ...out.map((line, i) => (i < 2 ? line : paintSeverity(line, misconfigurations[i - 2]!.severity, paint))),
  ];
}

/** The secrets found, redacted, with the layer that added each and the one that deleted it. */
function secretLines(secrets: readonly SecretFinding[], paint: (code: string, text: string) => string): string[] {
  const short = (id: string | undefined) => (id ? id.replace(/^sha256:/, '').slice(0, 12) : '');
  const rows = secrets.map((s) => [
    s.severity,
    s.ruleId,
    `${s.path}:${s.line}`,
    s.redacted,
    s.removedIn ? `${short(s.layer)} (deleted in ${short(s.removedIn)})` : short(s.layer),
  ]);
  const out = formatColumns(['SEVERITY', 'RULE', 'PATH', 'MATCH', 'LAYER'], rows);
  const head = `${secrets.length} ${secrets.length === 1 ? 'secret' : 'secrets'} found`;
  return [head, '', ...out.map((line, i) => (i < 2 ? line : paintSeverity(line, secrets[i - 2]!.severity, paint)))];
}

function paintSeverity(line: string, severity: Severity, paint: (code: string, text: string) => string): string {
  return line.replace(new RegExp(`\\b${severity}\\b`), paint(COLORS[severity], severity));
}

/**
 * Left-aligned columns, each cell clipped at 60 characters. With `width`, the last column is clipped further to fit
 * the line into it (never below 20 characters: a title cut to nothing tells nothing).
 */
function formatColumns(header: string[], rows: string[][], width?: number): string[] {
  const maxWidth = 60;
  const clipAt = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const clipped = [header, ...rows].map((r) => r.map((cell) => clipAt(cell, maxWidth)));
  const widths = header.map((_, c) => clipped.reduce((widest, r) => Math.max(widest, (r[c] ?? '').length), 0));
  const last = header.length - 1;
  const cells =
    width === undefined
      ? clipped
      : clipped.map((r) => {
          const room = Math.max(20, width - widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0));
          return r.map((cell, c) => (c === last ? clipAt(cell, room) : cell));
        });
  const fmt = (r: string[]) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const lastWidth = cells.reduce((widest, r) => Math.max(widest, (r[last] ?? '').length), 0);
  return [
    fmt(cells[0]!),
    [...widths.slice(0, last), lastWidth].map((w) => '─'.repeat(w)).join('  '),
    ...cells.slice(1).map(fmt),
  ];
}
