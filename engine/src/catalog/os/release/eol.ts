import type { OsInfo } from '../../../model/os.js';

/**
 * End of security support per release, from the vendors' published lifecycles as collected by endoflife.date
 * (transcribed 2026-11-22). For releases with paid extended support (Ubuntu ESM, RHEL ELS) the date is the end
 * of the free/standard security support, which is what a scan without a subscription sees; Debian's includes LTS.
 * Keys are `<os-release ID>:<release>`, the release as `releaseKey` derives it.
 */
const EOL_DATES: Record<string, string> = {
  'debian:8': '2020-06-30',
  'debian:9': '2022-06-30',
  'debian:10': '2024-06-30',
  'debian:11': '2026-08-31',
  'debian:12': '2028-06-30',
  'debian:13': '2030-06-30',
  'ubuntu:14.04': '2019-04-30',
  'ubuntu:16.04': '2021-04-30',
  'ubuntu:18.04': '2023-05-31',
  'ubuntu:20.04': '2025-05-31',
  'ubuntu:22.04': '2027-06-01',
  'ubuntu:23.10': '2024-07-11',
  'ubuntu:24.04': '2029-05-31',
  'ubuntu:24.10': '2025-07-10',
  'ubuntu:25.04': '2026-01-15',
  'alpine:3.15': '2023-11-01',
  'alpine:3.16': '2024-05-23',
  'alpine:3.17': '2024-11-22',
  'alpine:3.18': '2025-05-09',
  'alpine:3.19': '2025-11-01',
  'alpine:3.20': '2026-04-01',
  'alpine:3.21': '2026-11-01',
  'alpine:3.22': '2027-05-01',
  'rhel:7': '2024-06-30',
  'rhel:8': '2029-05-31',
  'rhel:9': '2032-05-31',
  'centos:7': '2024-06-30',
  'centos:8': '2021-12-31',
  'rocky:8': '2029-05-31',
  'rocky:9': '2032-05-31',
  'almalinux:8': '2029-03-01',
  'almalinux:9': '2032-05-31',
  'amzn:2': '2026-06-30',
  'amzn:2023': '2029-06-30',
  'mariner:2': '2025-07-31',
};

/** How a release is keyed: major version for most, major.minor for Alpine and Ubuntu. */
export function releaseKey(family: string, version: string): string {
  if (family === 'alpine' || family === 'ubuntu') return `${family}:${version.match(/^\d+\.\d+/)?.[0] ?? version}`;
  return `${family}:${version.match(/^\d+/)?.[0] ?? version}`;
}

export function eolDate(family: string, version: string): string | undefined {
  return EOL_DATES[releaseKey(family, version)];
}

/** True when `scanDate` (ISO date or time) is after the release's end of life. */
export function isPastEol(date: string, scanDate: string): boolean {
  return scanDate.slice(0, 10) > date;
}

/**
 * The OS with its end-of-life verdict for `now`. The catalog records the release (and its end-of-life date, a fact);
 * whether it is past that date depends on when one asks, so a report is judged on its own date and an assessment on
 * the moment it is made, never on when the inventory was cataloged (a cached inventory must not freeze it).
 */
export function withEolStatus(os: OsInfo, now: Date): OsInfo {
  const date = os.eolDate ?? (os.version ? eolDate(os.family, os.version) : undefined);
  if (!date) return os;
  return { ...os, eolDate: date, eol: isPastEol(date, now.toISOString()) };
}
