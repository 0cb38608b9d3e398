import type { FindingStatus, Severity } from '../model/finding.js';
import type { OsvAffected, OsvRecord } from '../model/osv.js';

/**
 * The distribution's own word on an unfixed vulnerability. Debian's tracker urgency `unimportant` (no security
 * impact worth a fix) and `end-of-life` mean no fix will come; `postponed` means later. Ubuntu and the rpm
 * distros carry a status string in `ecosystem_specific`/`database_specific` on some records.
 */
export function unfixedStatus(affected: OsvAffected, record: OsvRecord): FindingStatus {
  const words = [
    stringAt(affected.ecosystem_specific, 'urgency'),
    stringAt(affected.ecosystem_specific, 'status'),
    stringAt(affected.database_specific, 'status'),
    stringAt(record.database_specific, 'status'),
  ]
    .filter((w): w is string => !!w)
    .map((w) => w.toLowerCase());
  for (const word of words) {
    if (/unimportant|end[-_ ]of[-_ ]life|ignored|will[-_ ]not[-_ ]fix|wont[-_ ]?fix|not[-_ ]fixed/.test(word)) {
      return 'will-not-fix';
    }
    if (/postponed|deferred/.test(word)) return 'fix-deferred';
  }
  return 'affected';
}

const WORDS: Record<string, Severity> = {
  negligible: 'LOW',
  unimportant: 'LOW',
  low: 'LOW',
  medium: 'MEDIUM',
  moderate: 'MEDIUM',
  high: 'HIGH',
  important: 'HIGH',
  critical: 'CRITICAL',
};

/**
 * The distro's rating, where its record carries one: Debian urgency, Ubuntu priority (severity type `Ubuntu`),
 * Red Hat/SUSE-style severity words, the rpm distros' `Important:` titles. `not yet assigned` and unknown words
 * give nothing.
 */
export function distroSeverity(affected: OsvAffected, record: OsvRecord): Severity | undefined {
  const candidates = [
    stringAt(affected.ecosystem_specific, 'urgency'),
    // Ubuntu: newer records carry a severity of type `Ubuntu`, older ones `ecosystem_specific.ubuntu_priority`.
    ...(affected.severity ?? []).filter((s) => s.type === 'Ubuntu').map((s) => s.score),
    stringAt(affected.ecosystem_specific, 'ubuntu_priority'),
    ...(record.severity ?? []).filter((s) => s.type === 'Ubuntu').map((s) => s.score),
    stringAt(affected.ecosystem_specific, 'severity'),
    stringAt(affected.database_specific, 'severity'),
    stringAt(record.database_specific, 'severity'),
    // Red Hat, AlmaLinux and Rocky title their advisories with the rating: `Important: openssh security update`.
    impactOfSummary(record.summary),
  ];
  for (const word of candidates) {
    const severity = word ? WORDS[word.trim().toLowerCase().replace(/\*+$/, '')] : undefined;
    if (severity) return severity;
  }
  return undefined;
}

function impactOfSummary(summary: string | undefined): string | undefined {
  return summary ? /^(Low|Moderate|Important|Critical):\s/.exec(summary)?.[1] : undefined;
}

function stringAt(obj: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = obj?.[key];
  return typeof value === 'string' ? value : undefined;
}
