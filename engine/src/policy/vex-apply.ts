import type { Finding } from '../model/finding.js';
import { parsePurl } from '../model/purl.js';
import type { TargetInfo } from '../model/target.js';

/** One VEX statement, whatever format it came from. */
export interface VexStatement {
  /** Vulnerability ids the statement names (id and aliases). */
  vulnerabilities: string[];
  /** purls or image references the statement applies to; empty means the whole target. */
  products: string[];
  status: 'not_affected' | 'fixed' | 'affected' | 'under_investigation';
  justification?: string;
  detail?: string;
  source: string;
  timestamp?: string;
}

/**
 * Suppresses findings a VEX statement declares `not_affected` or `fixed`. Later statements override earlier ones
 * for the same vulnerability and product (OpenVEX's rule), so an `affected` update re-opens a finding.
 */
export function applyVex(
  findings: readonly Finding[],
  statements: readonly VexStatement[],
  target: TargetInfo,
): Finding[] {
  const ordered = [...statements].sort((a, b) => (a.timestamp ?? '').localeCompare(b.timestamp ?? ''));
  return findings.map((f) => {
    let decision: VexStatement | undefined;
    for (const s of ordered) {
      if (!s.vulnerabilities.some((id) => id === f.id || f.aliases.includes(id))) continue;
      if (s.products.length && !s.products.some((p) => productMatches(p, f, target))) continue;
      decision = s;
    }
    if (!decision || (decision.status !== 'not_affected' && decision.status !== 'fixed') || f.suppressed) return f;
    const reason = [decision.status, decision.justification, decision.detail].filter(Boolean).join(': ');
    return { ...f, suppressed: { kind: 'vex', reason, source: decision.source } };
  });
}

function productMatches(product: string, f: Finding, target: TargetInfo): boolean {
  if (product === f.packageId) return true;
  const wanted = parsePurl(product);
  if (wanted) {
    if (wanted.type === 'oci') return targetMatches(product, target);
    const have = parsePurl(f.package.purl);
    if (!have) return false;
    if (wanted.type !== have.type || (wanted.namespace ?? '') !== (have.namespace ?? '') || wanted.name !== have.name) {
      return false;
    }
    if (wanted.version && wanted.version !== have.version) return false;
    for (const [k, v] of Object.entries(wanted.qualifiers ?? {})) if (have.qualifiers?.[k] !== v) return false;
    return true;
  }
  return targetMatches(product, target);
}

/** An image product: by digest, or by reference. */
function targetMatches(product: string, target: TargetInfo): boolean {
  const digest = /sha256[:%]3?A?([0-9a-f]{64})/i.exec(product)?.[1];
  if (digest && target.digest) return target.digest.endsWith(digest);
  return product === target.ref || (target.repoTags ?? []).includes(product);
}
