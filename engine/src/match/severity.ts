import type { CvssScore, Severity } from '../model/finding.js';
import type { OsvRecord, OsvSeverity } from '../model/osv.js';

/** Base score of a CVSS vector; undefined when it cannot be scored (malformed, or no scorer for that version). */
export type VectorScorer = (vector: string) => number | undefined;

/** `CVSS:3.1/…` → `3.1`; a vector without the prefix is v2. */
export function cvssVersionOf(vector: string): string {
  const m = /^CVSS:(\d\.\d)\//.exec(vector);
  return m?.[1] ?? '2.0';
}

/** Every CVSS vector a record carries, top level and per affected package, each scored once. */
export function cvssScores(record: OsvRecord, scorer: VectorScorer): CvssScore[] {
  const severities: OsvSeverity[] = [...(record.severity ?? [])];
  for (const affected of record.affected ?? []) {
    for (const severity of affected.severity ?? []) severities.push(severity);
  }
  const out: CvssScore[] = [];
  const seen = new Set<string>();
  for (const s of severities) {
    if (!s.type.startsWith('CVSS_') || seen.has(s.score)) continue;
    seen.add(s.score);
    const score = scorer(s.score);
    if (score === undefined || !Number.isFinite(score)) continue;
    out.push({ version: cvssVersionOf(s.score), vector: s.score, score, source: record.id });
  }
  return out;
}

/** FIRST's bands (v3.x and v4.0 share them); NVD's v2 bands have no CRITICAL. */
export function severityFromScore(score: number, version: string): Severity {
  if (version.startsWith('2')) return score >= 7 ? 'HIGH' : score >= 4 ? 'MEDIUM' : 'LOW';
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score > 0) return 'LOW';
  return 'UNKNOWN';
}

/** v3.x first (what most feeds and tools rate by), then v4.0, then v2; the highest score within a version. */
export function severityFromCvss(scores: CvssScore[]): Severity | undefined {
  for (const prefix of ['3', '4', '2']) {
    const same = scores.filter((s) => s.version.startsWith(prefix));
    if (same.length === 0) continue;
    const best = same.reduce((a, b) => (b.score > a.score ? b : a));
    return severityFromScore(best.score, best.version);
  }
  return undefined;
}

/** GitHub's label in GHSA records (`MODERATE`, not `MEDIUM`). */
export function ghsaSeverity(record: OsvRecord): Severity | undefined {
  const label = record.database_specific?.['severity'];
  if (typeof label !== 'string') return undefined;
  switch (label.toUpperCase()) {
    case 'LOW':
      return 'LOW';
    case 'MODERATE':
    case 'MEDIUM':
      return 'MEDIUM';
    case 'HIGH':
      return 'HIGH';
    case 'CRITICAL':
      return 'CRITICAL';
    default:
      return undefined;
  }
}
