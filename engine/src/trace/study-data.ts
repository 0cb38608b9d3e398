/**
 * The study's input records: official-image package lists over time, Debian DSA/DLA fix records, Ubuntu
 * (ubuntu-cve-tracker) fix records and CVE metadata. These are the formats of the public dataset shipped in
 * examples/study (its README gives the sources). Each record is checked field by field as it is read: a record of
 * the wrong shape is reported by line, never half-used.
 */
import { LadingError } from '../errors/index.js';

export interface StudyPackage {
  name: string;
  version: string;
  sourceName: string;
  sourceVersion: string;
}

/** One distinct package list of an image series (`image:tag`), with the time it became available. */
export interface StudyImage {
  image: string;
  tag: string;
  /** Epoch ms: the registry push time where known, else the repo-info commit time (an upper bound). */
  availableAt: number;
  availableBasis: 'registry-push' | 'repo-info-commit';
  imageId: string;
  os: { family: string; version: string; codename: string };
  packages: StudyPackage[];
}

/** A distribution's fix of one source package in one release, for one or more CVEs. */
export interface StudyFix {
  distro: 'debian' | 'ubuntu';
  /** Codename: `jessie`, `xenial`. */
  release: string;
  /** Source package. */
  package: string;
  /** `null` with a non-`fixed` status. */
  fixedVersion: string | null;
  status: 'fixed' | 'unfixed' | 'not-affected' | 'end-of-life';
  /** Epoch ms the fix became available (advisory day, or when ubuntu-cve-tracker first recorded it). */
  availableAt: number | null;
  basis: 'dsa' | 'dla' | 'usn-tracker';
  advisory?: string;
  cves: string[];
}

export interface StudyCve {
  cve: string;
  /** Epoch ms, or `null` when the tracker says "unknown". */
  publishedAt: number | null;
  /** Ubuntu's priority: negligible, low, medium, high, critical (or untriaged / null). */
  priority: string | null;
}

type Json = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new LadingError('BAD_INPUT', `${where}: ${message}`);
}

function str(record: Json, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string' || value.length === 0) fail(where, `field "${key}" must be a non-empty string`);
  return value;
}

function optStr(record: Json, key: string, where: string): string | null {
  const value = record[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') fail(where, `field "${key}" must be a string or null`);
  return value;
}

function obj(value: unknown, where: string, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `${what} must be an object`);
  return value as Json;
}

/**
 * Parses the tracker's date forms: `2017-08-28`, `2017-08-28 19:29:00 UTC`, RFC 3339. `unknown` (and empty) → null.
 * Anything else is an error: a silently wrong date would move every latency.
 */
export function parseStudyDate(text: string | null, where: string): number | null {
  if (text === null || text === '' || text === 'unknown') return null;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
  const spaced = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2})?)(?: UTC)?$/.exec(text);
  const iso = spaced ? `${spaced[1]}T${spaced[2]}Z` : text;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(iso)) {
    fail(where, `unreadable date "${text.slice(0, 40)}"`);
  }
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) fail(where, `unreadable date "${text.slice(0, 40)}"`);
  return ms;
}

export function parseStudyImage(value: unknown, where: string): StudyImage {
  const record = obj(value, where, 'an image record');
  const os = obj(record.os, where, 'field "os"');
  const packagesValue = record.packages;
  if (!Array.isArray(packagesValue)) fail(where, 'field "packages" must be an array');
  const packages: StudyPackage[] = [];
  for (const [i, p] of packagesValue.entries()) {
    const pkg = obj(p, where, `packages[${i}]`);
    packages.push({
      name: str(pkg, 'name', where),
      version: str(pkg, 'version', where),
      sourceName: str(pkg, 'sourceName', where),
      sourceVersion: str(pkg, 'sourceVersion', where),
    });
  }
  const published = parseStudyDate(optStr(record, 'publishedAt', where), where);
  const committed = parseStudyDate(str(record, 'commitDate', where), where);
  if (committed === null) fail(where, 'field "commitDate" must be a date');
  return {
    image: str(record, 'image', where),
    tag: str(record, 'tag', where),
    availableAt: published ?? committed,
    availableBasis: published === null ? 'repo-info-commit' : 'registry-push',
    imageId: str(record, 'imageId', where),
    os: { family: str(os, 'family', where), version: str(os, 'version', where), codename: str(os, 'codename', where) },
    packages,
  };
}

const DEBIAN_STATUSES = new Set(['fixed', 'unfixed', 'not-affected', 'end-of-life']);

/**
 * Returns `null` for an advisory that names no release (the list has a few headers without release lines, such as
 * DSA-2819-1): there is nothing to attribute.
 */
export function parseDebianAdvisory(value: unknown, where: string): StudyFix | null {
  const record = obj(value, where, 'an advisory record');
  if (record.release === null && record.fixedVersion === null && record.status === null) return null;
  const kind = str(record, 'kind', where);
  if (kind !== 'DSA' && kind !== 'DLA') fail(where, `field "kind" must be DSA or DLA, not "${kind.slice(0, 20)}"`);
  const fixedVersion = optStr(record, 'fixedVersion', where);
  const statusText = optStr(record, 'status', where) ?? (fixedVersion === null ? 'unfixed' : 'fixed');
  if (!DEBIAN_STATUSES.has(statusText)) fail(where, `unknown status "${statusText.slice(0, 30)}"`);
  const status = statusText as StudyFix['status'];
  if (status === 'fixed' && fixedVersion === null) fail(where, 'a fixed record needs "fixedVersion"');
  const cves = record.cves;
  if (!Array.isArray(cves) || cves.some((c) => typeof c !== 'string')) fail(where, 'field "cves" must be strings');
  return {
    distro: 'debian',
    release: str(record, 'release', where),
    package: str(record, 'package', where),
    fixedVersion,
    status,
    availableAt: parseStudyDate(str(record, 'date', where), where),
    basis: kind === 'DSA' ? 'dsa' : 'dla',
    advisory: str(record, 'advisory', where),
    cves: cves as string[],
  };
}

/** ubuntu-cve-tracker marks each release's initial package set on the day of the release, not as security fixes. */
const UBUNTU_RELEASE_DAYS: Record<string, number> = {
  trusty: Date.UTC(2014, 3, 18),
  xenial: Date.UTC(2016, 3, 21),
};

/** Returns `null` for a record that is a release's initial state rather than a fix (see UBUNTU_RELEASE_DAYS). */
export function parseUbuntuFix(value: unknown, where: string): StudyFix | null {
  const record = obj(value, where, 'a fix record');
  const release = str(record, 'release', where);
  const firstSeen = parseStudyDate(optStr(record, 'firstSeenReleased', where), where);
  const releaseDay = UBUNTU_RELEASE_DAYS[release];
  if (firstSeen !== null && releaseDay !== undefined && firstSeen < releaseDay + 86_400_000) return null;
  return {
    distro: 'ubuntu',
    release,
    package: str(record, 'package', where),
    fixedVersion: str(record, 'fixedVersion', where),
    status: 'fixed',
    availableAt: firstSeen,
    basis: 'usn-tracker',
    cves: [str(record, 'cve', where)],
  };
}

export function parseCveMetadata(value: unknown, where: string): StudyCve {
  const record = obj(value, where, 'a CVE record');
  return {
    cve: str(record, 'cve', where),
    publishedAt: parseStudyDate(optStr(record, 'publicDate', where), where),
    priority: optStr(record, 'priority', where),
  };
}
