/**
 * Image remediation latency over the study's official-image series: when a distribution shipped a fix, how long
 * until the image published a build with the fixed version. The unit is one distribution fix (release, source
 * package, fixed version); a digest is vulnerable to it when it runs that release and carries the source package
 * at a lower version (dpkg rules, on SOURCE versions: binNMUs such as `+b1` belong to their source). Latency runs
 * from the later of the fix's availability and the episode's start to the first digest without it.
 */
import { compareVersions } from '../versions/index.js';
import { PRIORITIES, type Priority, priorityOf } from './distro.js';
import { type Episode, exposureEpisodes } from './episodes.js';
import { type Duration, daysBetween, type LatencyStats, latencyStats, quantile } from './stats.js';
import type { StudyCve, StudyFix, StudyImage } from './study-data.js';

export interface SeriesLatency {
  series: string;
  /** The OS releases the series ran, in order (`Debian 8 (jessie)` → `Debian 9 (stretch)`). */
  releases: string[];
  builds: number;
  firstAt: string;
  lastAt: string;
  /** Latencies of every episode of a fix published while the series was observed. */
  latency: LatencyStats;
  /** The same, for fixes of CVEs Ubuntu rates high or critical. */
  highLatency: LatencyStats;
  regressions: number;
  /** Episodes ended by a move to another OS release rather than by an update within the release. */
  closedByReleaseChange: number;
  /** Time basis of the builds: how many had a registry push time, how many only the repo-info commit time. */
  timeBasis: { registryPush: number; repoInfoCommit: number };
}

export interface BaseLag {
  series: string;
  base: string;
  /** Fixes closed in both: how much later (days) the derived image shipped each fix than its base image. */
  n: number;
  medianDays: number | null;
  p90Days: number | null;
  /** Fixes the derived image shipped more than a day after its base image did. */
  later: number;
}

export interface EpisodeDetail {
  series: string;
  release: string;
  package: string;
  fixedVersion: string;
  fixAvailableAt: string;
  severity: Priority;
  cves: string[];
  startedIn: string;
  startedAt: string;
  closedIn: string | null;
  closedAt: string | null;
  latencyDays: number;
  censored: boolean;
  regression: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `debian:jessie` for Debian series' bases; Ubuntu images are their own base. */
export function baseSeriesFor(image: StudyImage): string | undefined {
  if (image.image === 'debian' || image.image === 'ubuntu') return undefined;
  if (image.os.family === 'debian') return `debian:${image.os.codename}`;
  if (image.os.family === 'ubuntu') return `ubuntu:${image.os.version}`;
  return undefined;
}

interface FixUnit {
  key: string;
  fix: StudyFix & { fixedVersion: string; availableAt: number };
  severity: Priority;
}

function distroOf(image: StudyImage): string {
  return image.os.family === 'ubuntu' ? 'ubuntu' : 'debian';
}

export interface SeriesAnalysis {
  latency: SeriesLatency;
  episodes: EpisodeDetail[];
  /** Close time of each fix unit's first closed episode, for the base comparison. */
  firstClose: Map<string, number>;
}

/** One series (builds of one `image:tag`), against the fixes published while it was observed. */
export function analyseSeries(
  series: string,
  builds: readonly StudyImage[],
  fixesByPackage: ReadonlyMap<string, readonly StudyFix[]>,
  cves: ReadonlyMap<string, StudyCve>,
): SeriesAnalysis {
  const ordered = builds.slice().sort((a, b) => a.availableAt - b.availableAt);
  const firstAt = ordered[0]?.availableAt ?? 0;
  const lastAt = ordered[ordered.length - 1]?.availableAt ?? 0;
  const units = new Map<string, FixUnit>();
  const versionCache = new Map<string, boolean>();
  const below = (version: string, fixed: string) => {
    const key = `${version}\u0000${fixed}`;
    let answer = versionCache.get(key);
    if (answer === undefined) {
      answer = compareVersions('Debian', version, fixed) < 0;
      versionCache.set(key, answer);
    }
    return answer;
  };
  const observations = ordered.map((build) => {
    const keys = new Set<string>();
    const sources = new Map<string, string>();
    for (const p of build.packages) sources.set(p.sourceName, p.sourceVersion);
    for (const [source, version] of sources) {
      const fixes = fixesByPackage.get(`${distroOf(build)}\u0000${build.os.codename}\u0000${source}`) ?? [];
      for (const fix of fixes) {
        if (fix.fixedVersion === null || fix.availableAt === null) continue;
        if (fix.availableAt < firstAt || fix.availableAt > lastAt) continue;
        if (!below(version, fix.fixedVersion)) continue;
        const key = `${fix.release}\u0000${fix.package}\u0000${fix.fixedVersion}`;
        keys.add(key);
        if (!units.has(key)) {
          const severity = fix.cves.reduce<Priority>((worst, id) => {
            const p = priorityOf(cves.get(id));
            return PRIORITIES.indexOf(p) > PRIORITIES.indexOf(worst) ? p : worst;
          }, 'untriaged');
          units.set(key, { key, fix: fix as FixUnit['fix'], severity });
        }
      }
    }
    return { id: build.imageId, at: build.availableAt, keys, release: build.os.codename };
  });
  const releaseAt = new Map(observations.map((o) => [o.id, o.release]));
  const { episodes } = exposureEpisodes(observations);
  const all: Duration[] = [];
  const high: Duration[] = [];
  const details: EpisodeDetail[] = [];
  const firstClose = new Map<string, number>();
  let regressions = 0;
  let closedByReleaseChange = 0;
  for (const episode of episodes) {
    const unit = units.get(episode.key);
    if (!unit) continue;
    const from = Math.max(unit.fix.availableAt, episode.startedAt);
    const end = episode.closedAt ?? lastAt;
    // An episode that ended before its fix existed was not remediated by it (the package left, or the series moved).
    if (episode.closedAt !== null && episode.closedAt < unit.fix.availableAt) continue;
    if (episode.closedIn !== null && releaseAt.get(episode.closedIn) !== unit.fix.release) {
      closedByReleaseChange += 1;
    }
    const value: Duration = { days: daysBetween(from, end), censored: episode.closedAt === null };
    all.push(value);
    if (unit.severity === 'high' || unit.severity === 'critical') high.push(value);
    if (episode.regression) regressions += 1;
    if (episode.closedAt !== null && !firstClose.has(episode.key)) firstClose.set(episode.key, episode.closedAt);
    details.push(detailOf(series, unit, episode, value));
  }
  const releases: string[] = [];
  for (const build of ordered) {
    const label = `${build.os.family === 'ubuntu' ? 'Ubuntu' : 'Debian'} ${build.os.version} (${build.os.codename})`;
    if (releases[releases.length - 1] !== label) releases.push(label);
  }
  return {
    latency: {
      series,
      releases,
      builds: ordered.length,
      firstAt: iso(firstAt),
      lastAt: iso(lastAt),
      latency: latencyStats(all),
      highLatency: latencyStats(high),
      regressions,
      closedByReleaseChange,
      timeBasis: {
        registryPush: ordered.filter((b) => b.availableBasis === 'registry-push').length,
        repoInfoCommit: ordered.filter((b) => b.availableBasis === 'repo-info-commit').length,
      },
    },
    episodes: details,
    firstClose,
  };
}

function detailOf(series: string, unit: FixUnit, episode: Episode, value: Duration): EpisodeDetail {
  return {
    series,
    release: unit.fix.release,
    package: unit.fix.package,
    fixedVersion: unit.fix.fixedVersion,
    fixAvailableAt: iso(unit.fix.availableAt),
    severity: unit.severity,
    cves: unit.fix.cves.slice().sort(),
    startedIn: episode.startedIn,
    startedAt: iso(episode.startedAt),
    closedIn: episode.closedIn,
    closedAt: episode.closedAt === null ? null : iso(episode.closedAt),
    latencyDays: value.days,
    censored: value.censored,
    regression: episode.regression,
  };
}

/**
 * How much later a derived series shipped each fix than its base series did, over fixes closed in both. The base is
 * looked up per fix, since a series can move from one release (and so one base) to the next.
 */
export function baseLag(
  series: string,
  bases: readonly string[],
  derived: ReadonlyMap<string, number>,
  baseCloseOf: (fixKey: string) => number | undefined,
): BaseLag {
  const lags: number[] = [];
  for (const [key, closedAt] of derived) {
    const baseClosed = baseCloseOf(key);
    if (baseClosed !== undefined) lags.push(daysBetween(baseClosed, closedAt));
  }
  return {
    series,
    base: bases.join(', '),
    n: lags.length,
    medianDays: quantile(lags, 0.5),
    p90Days: quantile(lags, 0.9),
    later: lags.filter((d) => d > 1).length,
  };
}
