import type { EolStatus, OsInfo } from '../../../model/os.js';
import EOL_DATA from './eol-data.json' with { type: 'json' };

/**
 * End of life per release, kept as data in eol-data.json (with the source of each family's dates and the rule for
 * which date counts: the end of the security support anyone gets without a paid subscription). The JSON is bundled
 * into the engine's build and the CLI's bundle, so there is no file to find at run time.
 */
export interface EolRelease {
  /** ISO date after which the release gets no free security fixes. */
  eol: string;
  /** End of a paid extension (ESM, ELS, LTSS), for information; never used for the verdict. */
  extendedSupport?: string;
  /** False when the date could not be checked against the family's source when it was transcribed. */
  confirmed?: boolean;
}

export interface EolFamily {
  /** Where the dates come from. */
  source: string;
  /** A rolling distribution (Wolfi, Chainguard): no release ever reaches an end of life. */
  rolling?: boolean;
  releases?: Record<string, EolRelease>;
}

export const EOL_FAMILIES: Readonly<Record<string, EolFamily>> = EOL_DATA.families;

/** Families whose releases are keyed `major.minor` (others by major version). */
const MINOR_KEYED = new Set(['alpine', 'ubuntu', 'sles']);

/**
 * How a release is keyed: major version for most, major.minor for Alpine, Ubuntu and SLES (whose service packs have
 * their own dates). Amazon Linux AMI versions (`2018.03`, `2017.09`, …) are all release `1`.
 */
export function releaseKey(family: string, version: string): string {
  if (family === 'amzn' && /^20(0|1)\d\.\d\d/.test(version)) return 'amzn:1';
  if (MINOR_KEYED.has(family)) return `${family}:${version.match(/^\d+\.\d+/)?.[0] ?? version}`;
  return `${family}:${version.match(/^\d+/)?.[0] ?? version}`;
}

function releaseOf(family: string, version: string): EolRelease | undefined {
  const key = releaseKey(family, version);
  return EOL_FAMILIES[family]?.releases?.[key.slice(family.length + 1)];
}

export function eolDate(family: string, version: string): string | undefined {
  return releaseOf(family, version)?.eol;
}

/** True for a rolling distribution, whose releases have no end of life. */
export function isRollingRelease(family: string): boolean {
  return EOL_FAMILIES[family]?.rolling === true;
}

/** True when `scanDate` (ISO date or time) is after the release's end of life. */
export function isPastEol(date: string, scanDate: string): boolean {
  return scanDate.slice(0, 10) > date;
}

/**
 * The OS with its end-of-life verdict for `now`. The catalog records the release (and its end-of-life date, a fact);
 * whether it is past that date depends on when one asks, so a report is judged on its own date and an assessment on
 * the moment it is made, never on when the inventory was cataloged (a cached inventory must not freeze it).
 * A release with no known date is `eolStatus: 'unknown'`, said as such rather than left blank.
 */
export function withEolStatus(os: OsInfo, now: Date): OsInfo {
  if (isRollingRelease(os.family)) return { ...os, eolStatus: 'rolling' };
  const date = os.eolDate ?? (os.version ? eolDate(os.family, os.version) : undefined);
  if (!date) return { ...os, eolStatus: 'unknown' };
  const eol = isPastEol(date, now.toISOString());
  const status: EolStatus = eol ? 'end-of-life' : 'supported';
  return { ...os, eolDate: date, eol, eolStatus: status };
}

/** The words a report shows for the OS's end-of-life status; empty when there is nothing to flag. */
export function eolStatusWords(os: OsInfo): string {
  if (os.eol || os.eolStatus === 'end-of-life') return 'end of life';
  if (os.eolStatus === 'unknown') return 'end of life unknown';
  return '';
}
