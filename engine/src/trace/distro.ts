/**
 * Distribution fix latency: for each CVE published in the window and each (release, source package) the
 * distribution fixed or still owed a fix for, the time from the CVE's publication to the fix's availability.
 * Fixes that had not shipped by the end of observation are censored there (not dropped); `end-of-life` and
 * `not-affected` answers are counted on their own, never as latencies. Latencies keep their sign: embargoed CVEs
 * are often published the day their fix ships, or after.
 */
import { type Duration, daysBetween, type LatencyStats, latencyStats } from './stats.js';
import type { StudyCve, StudyFix } from './study-data.js';

/** Ubuntu's priorities, least to most severe; a CVE without one is `untriaged`. */
export const PRIORITIES = ['untriaged', 'negligible', 'low', 'medium', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export function priorityOf(cve: StudyCve | undefined): Priority {
  const value = cve?.priority ?? 'untriaged';
  return (PRIORITIES as readonly string[]).includes(value) ? (value as Priority) : 'untriaged';
}

/** Release codenames the data names, with their version numbers (for readers who know releases by number). */
const RELEASE_VERSIONS: Record<string, string> = {
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  trusty: '14.04',
  xenial: '16.04',
  bionic: '18.04',
  focal: '20.04',
  jammy: '22.04',
  noble: '24.04',
};

/**
 * Release days (facts: the distributions' release announcements). A CVE published before its release shipped was
 * fixed in the development branch, which neither DSAs nor ubuntu-cve-tracker's release lines record, so such
 * pairs are not measured against the release (they would show the wait for the first post-release advisory).
 */
export const RELEASE_DAYS: Record<string, string> = {
  wheezy: '2013-05-04',
  jessie: '2015-04-25',
  stretch: '2017-06-17',
  buster: '2019-07-06',
  bullseye: '2021-08-14',
  bookworm: '2023-06-10',
  trusty: '2014-04-17',
  xenial: '2016-04-21',
  bionic: '2018-04-26',
  focal: '2020-04-23',
  jammy: '2022-04-21',
};

export function releaseLabel(distro: string, release: string): string {
  const version = RELEASE_VERSIONS[release];
  const name = distro === 'ubuntu' ? 'Ubuntu' : distro === 'debian' ? 'Debian' : distro;
  return version ? `${name} ${version} (${release})` : `${name} ${release}`;
}

export interface DistroLatencyOptions {
  /** CVEs published in [from, to) are studied (epoch ms). */
  from: number;
  to: number;
  /** Observation ends here: fixes later than this are censored at it. */
  observedUntil: number;
  /**
   * Only these release codenames (all when absent). The study passes the releases its images ran: advisories for
   * long-gone releases name CVEs published years after their fix (retroactive CVE assignment), which is no latency.
   */
  releases?: readonly string[];
}

export interface DistroLatencyRow {
  distro: string;
  release: string;
  label: string;
  severity: Priority | 'all';
  latency: LatencyStats;
  /** (CVE, package) pairs answered `end-of-life` / `not-affected` instead of a fix. */
  endOfLife: number;
  notAffected: number;
}

export interface DistroLatency {
  rows: DistroLatencyRow[];
  /** Fix records naming only ids that are not CVEs, or CVEs with no publication date: they cannot be measured. */
  skipped: {
    notCve: number;
    noPublicationDate: number;
    outsideWindow: number;
    otherRelease: number;
    beforeRelease: number;
  };
}

interface Unit {
  distro: string;
  release: string;
  severity: Priority;
  published: number;
  firstFix: number | null;
  unfixed: boolean;
  endOfLife: boolean;
  notAffected: boolean;
}

export function distroFixLatency(
  fixes: readonly StudyFix[],
  cves: ReadonlyMap<string, StudyCve>,
  options: DistroLatencyOptions,
): DistroLatency {
  const units = new Map<string, Unit>();
  const skipped = { notCve: 0, noPublicationDate: 0, outsideWindow: 0, otherRelease: 0, beforeRelease: 0 };
  const releases = options.releases ? new Set(options.releases) : undefined;
  for (const fix of fixes) {
    if (releases && !releases.has(fix.release)) {
      skipped.otherRelease += 1;
      continue;
    }
    for (const id of fix.cves) {
      if (!id.startsWith('CVE-')) {
        skipped.notCve += 1;
        continue;
      }
      const cve = cves.get(id);
      const published = cve?.publishedAt ?? null;
      if (published === null) {
        skipped.noPublicationDate += 1;
        continue;
      }
      if (published < options.from || published >= options.to) {
        skipped.outsideWindow += 1;
        continue;
      }
      const releaseDay = RELEASE_DAYS[fix.release];
      if (releaseDay !== undefined && published < Date.parse(`${releaseDay}T00:00:00Z`)) {
        skipped.beforeRelease += 1;
        continue;
      }
      const key = `${fix.distro}\u0000${fix.release}\u0000${fix.package}\u0000${id}`;
      let unit = units.get(key);
      if (!unit) {
        unit = {
          distro: fix.distro,
          release: fix.release,
          severity: priorityOf(cve),
          published,
          firstFix: null,
          unfixed: false,
          endOfLife: false,
          notAffected: false,
        };
        units.set(key, unit);
      }
      if (fix.status === 'fixed' && fix.availableAt !== null) {
        unit.firstFix = unit.firstFix === null ? fix.availableAt : Math.min(unit.firstFix, fix.availableAt);
      } else if (fix.status === 'unfixed') unit.unfixed = true;
      else if (fix.status === 'end-of-life') unit.endOfLife = true;
      else if (fix.status === 'not-affected') unit.notAffected = true;
    }
  }

  const groups = new Map<
    string,
    { distro: string; release: string; severity: Priority | 'all'; values: Duration[]; eol: number; na: number }
  >();
  const groupFor = (distro: string, release: string, severity: Priority | 'all') => {
    const key = `${distro}\u0000${release}\u0000${severity}`;
    let group = groups.get(key);
    if (!group) {
      group = { distro, release, severity, values: [], eol: 0, na: 0 };
      groups.set(key, group);
    }
    return group;
  };
  for (const unit of units.values()) {
    const targets = [groupFor(unit.distro, unit.release, unit.severity), groupFor(unit.distro, unit.release, 'all')];
    const fixedInTime = unit.firstFix !== null && unit.firstFix <= options.observedUntil;
    if (fixedInTime && unit.firstFix !== null) {
      for (const g of targets) g.values.push({ days: daysBetween(unit.published, unit.firstFix), censored: false });
    } else if (unit.firstFix !== null || unit.unfixed) {
      for (const g of targets)
        g.values.push({ days: daysBetween(unit.published, options.observedUntil), censored: true });
    } else if (unit.endOfLife) {
      for (const g of targets) g.eol += 1;
    } else if (unit.notAffected) {
      for (const g of targets) g.na += 1;
    }
  }
  const order = (s: Priority | 'all') => (s === 'all' ? -1 : PRIORITIES.indexOf(s));
  const rows = [...groups.values()]
    .map(
      (g): DistroLatencyRow => ({
        distro: g.distro,
        release: g.release,
        label: releaseLabel(g.distro, g.release),
        severity: g.severity,
        latency: latencyStats(g.values),
        endOfLife: g.eol,
        notAffected: g.na,
      }),
    )
    .filter((row) => row.latency.n > 0 || row.endOfLife > 0 || row.notAffected > 0)
    .sort(
      (a, b) =>
        a.distro.localeCompare(b.distro) ||
        Number(RELEASE_VERSIONS[a.release] ?? 0) - Number(RELEASE_VERSIONS[b.release] ?? 0) ||
        a.release.localeCompare(b.release) ||
        order(b.severity) - order(a.severity),
    );
  return { rows, skipped };
}
