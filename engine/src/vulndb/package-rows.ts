import type { OsvAffected, OsvRecord } from '../model/osv.js';
import { baseEcosystem, normalizePackageName, releaseKey } from './names.js';

/** One package a record names, with the `affected` entries that concern it (what the matcher evaluates). */
export interface PackageRow {
  ecosystem: string;
  name: string;
  /** `releaseKey` of the entries' ecosystem: a Debian 12 scan reads no Debian 11 rows. */
  release: string;
  /** JSON of `OsvAffected[]`: a few hundred bytes, so matching never inflates the whole record for a miss. */
  affected: string;
}

/**
 * Findings show at most 2,000 characters of `details` (match-inventory.ts); the head keeps twice that, so the
 * cut never shows, while a 50 kB GHSA write-up is not copied into every package row.
 */
const HEAD_DETAILS_LIMIT = 4096;

/**
 * The part of a record a finding is built from, stored beside each package row so a hit needs no second read
 * and no inflate: everything but `affected`, of which only per-package CVSS vectors are kept; `details` capped.
 */
export function recordHead(record: OsvRecord): string {
  const { affected, details, ...rest } = record;
  const head: OsvRecord = { ...rest };
  if (details !== undefined) head.details = details.slice(0, HEAD_DETAILS_LIMIT);
  const severities = (affected ?? []).filter((a) => a.severity?.length).map((a) => ({ severity: a.severity }));
  if (severities.length) head.affected = severities;
  return JSON.stringify(head);
}

/**
 * Splits a record's `affected` list by package (release + normalised name). The record's text fields
 * (details, references) stay in the records table: they are read only for the records that hit.
 */
export function packageRows(record: OsvRecord): PackageRow[] {
  const byKey = new Map<string, { ecosystem: string; name: string; release: string; entries: OsvAffected[] }>();
  for (const affected of record.affected ?? []) {
    const pkg = affected.package;
    if (!pkg?.ecosystem || !pkg.name) continue;
    const ecosystem = baseEcosystem(pkg.ecosystem);
    const name = normalizePackageName(pkg.ecosystem, pkg.name);
    const release = releaseKey(pkg.ecosystem);
    const key = `${release}\u0000${name}`;
    let row = byKey.get(key);
    if (!row) {
      row = { ecosystem, name, release, entries: [] };
      byKey.set(key, row);
    }
    row.entries.push(compactAffected(affected));
  }
  return [...byKey.values()].map((r) => ({
    ecosystem: r.ecosystem,
    name: r.name,
    release: r.release,
    affected: JSON.stringify(r.entries),
  }));
}

/** The fields range evaluation, module streams and distro status read; the purl only where it names a module. */
function compactAffected(affected: OsvAffected): OsvAffected {
  const pkg = affected.package!;
  const out: OsvAffected = { package: { ecosystem: pkg.ecosystem, name: pkg.name } };
  // Red Hat names a modular package's stream only in its purl (`rpmmod=nodejs:20:…`); the matcher needs it.
  if (pkg.purl && /[?&]rpmmod=/.test(pkg.purl)) out.package!.purl = pkg.purl;
  if (affected.ranges) {
    // GIT ranges are kept: module-stream checks look at every event, as they do on the whole record.
    out.ranges = affected.ranges.map((r) => ({ type: r.type, events: r.events }));
  }
  if (affected.versions?.length) out.versions = affected.versions;
  if (affected.severity) out.severity = affected.severity;
  if (affected.ecosystem_specific) out.ecosystem_specific = affected.ecosystem_specific;
  if (affected.database_specific) out.database_specific = affected.database_specific;
  return out;
}
