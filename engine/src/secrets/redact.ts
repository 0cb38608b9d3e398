import { createHash } from 'node:crypto';

/** How a secret is shown anywhere: its first 4 characters, an ellipsis and its length (`ghp_…(40)`). */
export function redact(secret: string): string {
  return `${secret.slice(0, 4)}…(${secret.length})`;
}

/**
 * A stable id for one secret at one path, for suppressions and triage: sha256 of the rule, the path and the
 * secret, hex, truncated to 32 characters (128 bits). The same secret in another file is another finding.
 */
export function secretFingerprint(ruleId: string, path: string, secret: string): string {
  return createHash('sha256').update(`${ruleId}\0${path}\0${secret}`).digest('hex').slice(0, 32);
}

/** Shannon entropy of a string in bits per character (gitleaks' `entropy` threshold). */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
