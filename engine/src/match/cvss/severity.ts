/** The qualitative rating FIRST publishes for CVSS v3.x and v4.0 scores. */
export type CvssSeverity = 'None' | 'Low' | 'Medium' | 'High' | 'Critical';

export function severityOf(score: number): CvssSeverity {
  if (score === 0) return 'None';
  if (score < 4) return 'Low';
  if (score < 7) return 'Medium';
  if (score < 9) return 'High';
  return 'Critical';
}

/** CVSS v2 has no None or Critical: NVD's v2 bands are Low 0–3.9, Medium 4–6.9, High 7–10. */
export function severityOfV2(score: number): CvssSeverity {
  if (score < 4) return 'Low';
  if (score < 7) return 'Medium';
  return 'High';
}
