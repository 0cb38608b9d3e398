/**
 * The study's image functions over Lading's own reports: one image stream's builds (one report each, oldest to
 * newest by availability) give exposure episodes per (vulnerability, package), their remediation latency (first
 * build without it − first build with it), regressions, and the ages of episodes still open; a set of reports gives
 * the base-OS mix. Suppressed findings (VEX, exceptions) are not exposures.
 */
import { LadingError } from '../errors/lading-error.js';
import { SEVERITIES, type Severity } from '../model/finding.js';
import type { Report } from '../model/report.js';
import { exposureEpisodes } from './episodes.js';
import { type Duration, daysBetween, type LatencyStats, latencyStats } from './stats.js';

export type StreamTimeBasis = 'scanned' | 'image-created';

export interface StreamBuild {
  /** The report's file name as given, for messages and output. */
  file: string;
  report: Report;
}

export interface StreamEpisode {
  vulnerability: string;
  package: string;
  severity: Severity;
  /** The vulnerability's publication, where the data gives it. */
  published: string | null;
  startedIn: string;
  startedAt: string;
  closedIn: string | null;
  closedAt: string | null;
  /** Days from the first build with it to the first build without it, or to the last build when still open. */
  days: number;
  open: boolean;
  regression: boolean;
}

export interface StreamLatency {
  kind: 'lading-trace-image';
  version: 1;
  stream: string;
  timeBasis: StreamTimeBasis;
  builds: { file: string; digest: string | null; at: string }[];
  bySeverity: Record<Severity, LatencyStats>;
  all: LatencyStats;
  regressions: number;
  /** Open episodes with their ages at the last build: shown, not dropped. */
  open: { vulnerability: string; package: string; severity: Severity; ageDays: number }[];
  episodes: StreamEpisode[];
}

/** When a build became available: the report's scan time, or the image config's `created` (often a fixed epoch). */
export function buildTime(report: Report, basis: StreamTimeBasis): number | undefined {
  const text = basis === 'image-created' ? report.target.config?.created : report.createdAt;
  if (!text) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function streamLatency(builds: readonly StreamBuild[], basis: StreamTimeBasis): StreamLatency {
  const severityOf = new Map<string, Severity>();
  const publishedOf = new Map<string, string>();
  const observations = builds.map((build) => {
    const at = buildTime(build.report, basis);
    if (at === undefined) {
      const what = basis === 'scanned' ? 'scan time (createdAt)' : 'image created time';
      throw new LadingError('BAD_INPUT', `${build.file}: the report has no ${what} to order builds by`);
    }
    const keys = new Set<string>();
    for (const finding of build.report.findings) {
      if (finding.suppressed) continue;
      const key = `${finding.id}\u0000${finding.package.name}`;
      keys.add(key);
      // The newest report's severity wins: severity is "at close time" (ratings change as data improves).
      severityOf.set(key, finding.severity);
      if (finding.published) publishedOf.set(key, finding.published);
    }
    return { id: build.file, at, keys };
  });
  const { episodes, lastAt } = exposureEpisodes(observations);
  const values: Duration[] = [];
  const bySeverityValues = new Map<Severity, Duration[]>(SEVERITIES.map((s) => [s, []]));
  const out: StreamEpisode[] = [];
  const open: StreamLatency['open'] = [];
  for (const episode of episodes) {
    const [vulnerability = '', pkg = ''] = episode.key.split('\u0000');
    const severity = severityOf.get(episode.key) ?? 'UNKNOWN';
    const end = episode.closedAt ?? lastAt ?? episode.startedAt;
    const value: Duration = { days: daysBetween(episode.startedAt, end), censored: episode.closedAt === null };
    values.push(value);
    bySeverityValues.get(severity)?.push(value);
    if (episode.closedAt === null) open.push({ vulnerability, package: pkg, severity, ageDays: value.days });
    out.push({
      vulnerability,
      package: pkg,
      severity,
      published: publishedOf.get(episode.key) ?? null,
      startedIn: episode.startedIn,
      startedAt: new Date(episode.startedAt).toISOString(),
      closedIn: episode.closedIn,
      closedAt: episode.closedAt === null ? null : new Date(episode.closedAt).toISOString(),
      days: value.days,
      open: episode.closedAt === null,
      regression: episode.regression,
    });
  }
  const ordered = builds
    .map((b) => ({ file: b.file, digest: b.report.target.digest ?? null, at: buildTime(b.report, basis) ?? 0 }))
    .sort((a, b) => a.at - b.at);
  const bySeverity = Object.fromEntries(
    SEVERITIES.map((s) => [s, latencyStats(bySeverityValues.get(s) ?? [])]),
  ) as Record<Severity, LatencyStats>;
  return {
    kind: 'lading-trace-image',
    version: 1,
    stream: builds[0]?.report.target.ref ?? '',
    timeBasis: basis,
    builds: ordered.map((b) => ({ file: b.file, digest: b.digest, at: new Date(b.at).toISOString() })),
    bySeverity,
    all: latencyStats(values),
    regressions: out.filter((e) => e.regression).length,
    open: open.sort((a, b) => b.ageDays - a.ageDays),
    episodes: out,
  };
}

export interface BaseMix {
  kind: 'lading-trace-base';
  version: 1;
  images: number;
  shares: { os: string; images: number; share: number }[];
  perImage: { file: string; ref: string; os: string }[];
}

/** The base-OS mix of a set of images, from each report's detected OS (`none detected` for scratch-like images). */
export function baseMix(builds: readonly StreamBuild[]): BaseMix {
  const perImage = builds.map((b) => ({
    file: b.file,
    ref: b.report.target.ref,
    os: b.report.os ? `${b.report.os.family} ${b.report.os.version}`.trim() : 'none detected',
  }));
  const counts = new Map<string, number>();
  for (const p of perImage) counts.set(p.os, (counts.get(p.os) ?? 0) + 1);
  const shares = [...counts.entries()]
    .map(([os, images]) => ({ os, images, share: Math.round((images / Math.max(1, perImage.length)) * 1000) / 10 }))
    .sort((a, b) => b.images - a.images || a.os.localeCompare(b.os));
  return { kind: 'lading-trace-base', version: 1, images: perImage.length, shares, perImage };
}
