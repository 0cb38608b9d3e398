import { type CvssSeverity, severityOf, severityOfV2 } from './severity.js';
import { cvss2BaseScore } from './v2.js';
import { cvss3BaseScore } from './v3.js';
import { cvss4Score } from './v4.js';

export type { CvssSeverity } from './severity.js';
export { severityOf, severityOfV2 } from './severity.js';

export interface CvssResult {
  version: '2.0' | '3.0' | '3.1' | '4.0';
  score: number;
  severity: CvssSeverity;
}

/**
 * Scores a CVSS vector string as OSV and NVD carry them: `CVSS:4.0/…`, `CVSS:3.1/…`, `CVSS:3.0/…`, or a bare v2
 * vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`). Undefined for anything that is not a valid vector: unknown or repeated
 * metrics, missing base metrics, bad values, or absurd length. Never throws.
 */
export function cvssScore(vector: string): CvssResult | undefined {
  if (typeof vector !== 'string') return undefined;
  const v = vector.trim();
  if (v.startsWith('CVSS:4.0/')) {
    const score = cvss4Score(v);
    return score === undefined ? undefined : { version: '4.0', score, severity: severityOf(score) };
  }
  if (v.startsWith('CVSS:3.')) {
    const r = cvss3BaseScore(v);
    return r === undefined ? undefined : { ...r, severity: severityOf(r.score) };
  }
  const score = cvss2BaseScore(v);
  return score === undefined ? undefined : { version: '2.0', score, severity: severityOfV2(score) };
}

/** Just the number, for callers that only sort or gate on scores (the matcher's VectorScorer shape). */
export function cvssBaseScore(vector: string): number | undefined {
  return cvssScore(vector)?.score;
}
