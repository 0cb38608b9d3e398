import type { Finding } from '../model/finding.js';
import { matchesPackagePattern } from './pattern.js';
import type { PolicyException } from './policy-file.js';

export interface ExceptionOutcome {
  findings: Finding[];
  /** Exceptions past their expiry date: they no longer apply, and the verdict lists them. */
  expired: PolicyException[];
}

/** Marks findings covered by a live exception as suppressed (they stay in JSON, leave the gates). */
export function applyExceptions(
  findings: readonly Finding[],
  exceptions: readonly PolicyException[],
  now: Date,
): ExceptionOutcome {
  const today = now.toISOString().slice(0, 10);
  const live = exceptions.filter((e) => !e.expires || e.expires.slice(0, 10) >= today);
  const expired = exceptions.filter((e) => e.expires && e.expires.slice(0, 10) < today);
  const out = findings.map((f) => {
    if (f.suppressed) return f;
    const hit = live.find((e) => exceptionCovers(e, f));
    if (!hit) return f;
    return {
      ...f,
      suppressed: { kind: 'policy-exception', reason: hit.reason, ...(hit.expires ? { expires: hit.expires } : {}) },
    };
  });
  return { findings: out, expired };
}

export function exceptionCovers(e: PolicyException, f: Finding): boolean {
  if (e.vulnerability && e.vulnerability !== f.id && !f.aliases.includes(e.vulnerability)) return false;
  if (e.package && !matchesPackagePattern(e.package, f.package)) return false;
  if (e.purl && !matchesPackagePattern(e.purl, f.package)) return false;
  return true;
}
