import type { Finding } from '../model/finding.js';
import type { Report } from '../model/report.js';
import { gapWords } from './coverage-words.js';
import { fixText, visibleFindings } from './finding-order.js';
import type { RenderOptions } from './render-options.js';

/**
 * `-o junit`: one test suite per package type, one failing test case per finding (CI systems show failures),
 * and one passing case per package without findings so the totals mean something.
 */
export function renderJunit(report: Report, options: RenderOptions): string {
  const findings = visibleFindings(report.findings, options.showSuppressed);
  const byPackage = new Map<string, Finding[]>();
  for (const f of findings) byPackage.set(f.packageId, [...(byPackage.get(f.packageId) ?? []), f]);
  const types = [...new Set(report.packages.map((p) => p.type))].sort();
  const suites = types.map((type) => {
    const cases: string[] = [];
    let failures = 0;
    for (const pkg of report.packages.filter((p) => p.type === type)) {
      const mine = byPackage.get(pkg.id) ?? [];
      if (mine.length === 0) {
        cases.push(
          `    <testcase classname="${attr(`${type}.${pkg.name}`)}" name="${attr(`${pkg.name}@${pkg.version}`)}"/>`,
        );
        continue;
      }
      for (const f of mine) {
        if (!f.suppressed) failures++;
        const body = [
          `${f.id} (${f.severity}) in ${pkg.name} ${pkg.version}`,
          `Fixed in: ${fixText(f) || 'no fix yet'}`,
          f.advisory.url ? `Advisory: ${f.advisory.url}` : '',
          f.title ? `Title: ${f.title}` : '',
        ]
          .filter(Boolean)
          .join('\n');
        const inner = f.suppressed
          ? `<skipped message="${attr(`suppressed: ${f.suppressed.reason}`)}"/>`
          : `<failure type="${f.severity}" message="${attr(`${f.id} ${f.severity}${f.fixedVersions.length ? `, fixed in ${f.fixedVersions.join(', ')}` : ''}`)}">${text(body)}</failure>`;
        cases.push(
          `    <testcase classname="${attr(`${type}.${pkg.name}`)}" name="${attr(`${f.id} ${pkg.name}@${pkg.version}`)}">${inner}</testcase>`,
        );
      }
    }
    return `  <testsuite name="${attr(`${report.target.ref} ${type}`)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${cases.filter((c) => c.includes('<skipped')).length}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  // One failing case per coverage gap: a CI must not count unchecked packages as passed.
  const gaps = report.coverage?.gaps ?? [];
  if (gaps.length) {
    const cases = gaps.map(
      (gap) =>
        `    <testcase classname="${attr(`coverage.${gap.scope}`)}" name="${attr(`not checked: ${gap.scope}`)}"><failure type="not-checked" message="${attr(gapWords(gap))}">${text(`${gapWords(gap)}\nPackages not checked: ${(gap.packageIds ?? []).join(', ') || 'unknown'}`)}</failure></testcase>`,
    );
    suites.push(
      `  <testsuite name="${attr(`${report.target.ref} coverage`)}" tests="${cases.length}" failures="${cases.length}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  const total = suites.reduce((n, s) => n + Number(/tests="(\d+)"/.exec(s)?.[1] ?? 0), 0);
  const failures = findings.filter((f) => !f.suppressed).length + gaps.length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="lading" tests="${total}" failures="${failures}" errors="0">\n${suites.join('\n')}\n</testsuites>\n`;
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}

function text(s: string): string {
  // XML 1.0 forbids most control characters even when escaped.
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
