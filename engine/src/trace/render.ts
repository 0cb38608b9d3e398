/** Markdown and SVG renderings of trace results (the JSON is the result itself). */
import { SEVERITIES } from '../model/finding.js';
import type { BaseMix, StreamLatency } from './reports.js';
import type { LatencyStats } from './stats.js';
import type { StudyResult } from './study.js';
import { type Bar, barChartSvg } from './svg.js';

const d = (x: number | null) => (x === null ? 'not reached' : x.toFixed(1));
const stat = (s: LatencyStats) => `${d(s.medianDays)} | ${d(s.p90Days)} | ${s.n} | ${s.censored}`;

export function studyMarkdown(result: StudyResult): string {
  const lines: string[] = [];
  lines.push(
    `## Distribution fix latency (CVE published ${result.window.from.slice(0, 10)} to ${result.window.to.slice(0, 10)})`,
  );
  lines.push('');
  lines.push(
    'Days from CVE publication to the fix; Kaplan–Meier median and p90 with unfixed CVEs censored at the end of observation.',
  );
  lines.push('');
  lines.push('| release | priority | median | p90 | n | censored | events-only median | end-of-life |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const row of result.distro.rows) {
    lines.push(
      `| ${row.label} | ${row.severity} | ${stat(row.latency)} | ${d(row.latency.eventsOnlyMedianDays)} | ${row.endOfLife} |`,
    );
  }
  const s = result.distro.skipped;
  lines.push('');
  lines.push(
    `Not measured: ${s.noPublicationDate} (CVE, fix) pairs with no CVE publication date, ${s.outsideWindow} outside the window, ${s.otherRelease} for releases no image ran, ${s.beforeRelease} published before their release shipped, ${s.notCve} ids that are not CVEs.`,
  );
  lines.push('');
  lines.push('## Image remediation latency');
  lines.push('');
  lines.push(
    'Days from the later of fix availability and exposure start to the first build without the vulnerable version.',
  );
  lines.push('');
  lines.push(
    '| image | releases | builds | median | p90 | n | censored | high+ median | high+ n | regressions | closed by release move |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const image of result.images) {
    lines.push(
      `| ${image.series} | ${image.releases.join(' → ')} | ${image.builds} | ${stat(image.latency)} | ${d(image.highLatency.medianDays)} | ${image.highLatency.n} | ${image.regressions} | ${image.closedByReleaseChange} |`,
    );
  }
  lines.push('');
  lines.push('## Images that lag their base image');
  lines.push('');
  lines.push('Per fix shipped by both: days the derived image shipped it after its base image did.');
  lines.push('');
  lines.push('| image | base | fixes compared | median lag | p90 lag | shipped > 1 day later |');
  lines.push('|---|---|---:|---:|---:|---:|');
  if (result.baseLag.length === 0) lines.push('| (no derived images in the data) | | | | | |');
  for (const lag of result.baseLag) {
    lines.push(`| ${lag.series} | ${lag.base} | ${lag.n} | ${d(lag.medianDays)} | ${d(lag.p90Days)} | ${lag.later} |`);
  }
  lines.push('');
  lines.push('## Base OS mix');
  lines.push('');
  lines.push('| OS | series (newest build) | builds |');
  lines.push('|---|---:|---:|');
  for (const share of result.baseOs) lines.push(`| ${share.os} | ${share.series} | ${share.builds} |`);
  lines.push('');
  lines.push('## Method');
  lines.push('');
  for (const m of result.method) lines.push(`- ${m}`);
  lines.push('');
  return `${lines.join('\n')}`;
}

/** The study's charts, by file name. */
export function studyCharts(result: StudyResult): { name: string; svg: string }[] {
  const distroBars: Bar[] = result.distro.rows
    .filter((r) => r.severity === 'all' || r.severity === 'high' || r.severity === 'critical')
    .map((r) => ({
      label: `${r.label} · ${r.severity}`,
      value: r.latency.medianDays,
      back: r.latency.p90Days,
      note: `(n=${r.latency.n}, ${r.latency.censored} censored)`,
    }));
  const imageBars: Bar[] = result.images
    .slice()
    .sort((a, b) => (b.latency.medianDays ?? 0) - (a.latency.medianDays ?? 0))
    .map((i) => ({
      label: i.series,
      value: i.latency.medianDays,
      back: i.latency.p90Days,
      note: `(n=${i.latency.n})`,
    }));
  const lagBars: Bar[] = result.baseLag.map((l) => ({ label: l.series, value: l.medianDays, note: `(n=${l.n})` }));
  return [
    {
      name: 'distro-fix-latency.svg',
      svg: barChartSvg('Distribution fix latency per release and priority', 'days after CVE publication', distroBars, [
        'Kaplan–Meier median',
        'p90',
      ]),
    },
    {
      name: 'image-remediation-latency.svg',
      svg: barChartSvg('Image remediation latency per official image', 'days after the fix was available', imageBars, [
        'median',
        'p90',
      ]),
    },
    {
      name: 'base-lag.svg',
      svg: barChartSvg('How much later than their base image derived images shipped fixes', 'days', lagBars, [
        'median lag',
      ]),
    },
  ];
}

export function streamMarkdown(result: StreamLatency): string {
  const lines = [
    `## Remediation latency: ${result.stream}`,
    '',
    `${result.builds.length} builds, ordered by ${result.timeBasis === 'scanned' ? 'scan time' : 'image created time'}; ${result.regressions} regressions; ${result.open.length} episodes open at the last build.`,
    '',
    '| severity | median days | p90 days | n | open |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const s of SEVERITIES) lines.push(`| ${s} | ${stat(result.bySeverity[s])} |`);
  lines.push(`| all | ${stat(result.all)} |`);
  if (result.open.length > 0) {
    lines.push(
      '',
      '### Open exposures (age at the last build)',
      '',
      '| vulnerability | package | severity | age (days) |',
      '|---|---|---|---:|',
    );
    for (const o of result.open)
      lines.push(`| ${o.vulnerability} | ${o.package} | ${o.severity} | ${o.ageDays.toFixed(1)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

export function baseMixMarkdown(result: BaseMix): string {
  const lines = [`## Base OS mix (${result.images} images)`, '', '| OS | images | share |', '|---|---:|---:|'];
  for (const s of result.shares) lines.push(`| ${s.os} | ${s.images} | ${s.share}% |`);
  lines.push('');
  return lines.join('\n');
}
