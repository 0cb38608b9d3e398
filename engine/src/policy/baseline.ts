import { releaseKey } from '../catalog/os/release/eol.js';
import { diffReports } from '../diff/diff.js';
import type { Severity } from '../model/finding.js';
import type { Report } from '../model/report.js';
import { formatRepository, parseReference } from '../registry/reference.js';
import { atOrAbove } from './filters.js';

export interface BaselineVerdict {
  pass: boolean;
  /** One line each: why it failed, or why it passed. */
  reasons: string[];
  /**
   * What the comparison should be read with, whatever the verdict: a baseline of another image or another OS release
   * is still compared (a rebased image is a legitimate baseline), but its numbers are not like for like.
   */
  notes: string[];
}

/**
 * The blocking rule against a baseline: fail when any CRITICAL finding is new, or when the number of findings at or
 * above `threshold` rises; pass when it stays or falls (fixes pay for nothing else, they are simply allowed).
 */
export function compareWithBaseline(baseline: Report, current: Report, threshold: Severity): BaselineVerdict {
  const diff = diffReports(baseline, current);
  const reasons: string[] = [];
  const newCritical = diff.findings.new.filter((f) => f.severity === 'CRITICAL');
  for (const f of newCritical) reasons.push(`new CRITICAL ${f.id} in ${f.package.name} ${f.package.version}`);
  const count = (r: Report) => r.findings.filter((f) => !f.suppressed && atOrAbove(f.severity, threshold)).length;
  const before = count(baseline);
  const after = count(current);
  const label = threshold === 'UNKNOWN' ? 'all' : `${threshold.toLowerCase()} or above`;
  if (after > before) reasons.push(`findings at ${label} rose from ${before} to ${after}`);
  const pass = reasons.length === 0;
  if (pass) {
    reasons.push(
      after < before
        ? `findings at ${label} fell from ${before} to ${after} (${diff.findings.fixed.length} fixed, ${diff.findings.new.length} new)`
        : `findings at ${label} stayed at ${after}, no new critical`,
    );
  }
  return { pass, reasons, notes: mismatchNotes(baseline, current) };
}

function mismatchNotes(baseline: Report, current: Report): string[] {
  const notes: string[] = [];
  const [was, is] = [imageName(baseline), imageName(current)];
  if (was && is && was !== is) {
    notes.push(`baseline is of another image: ${baseline.target.ref} (this scan: ${current.target.ref})`);
  }
  const [wasOs, isOs] = [baseline.os, current.os];
  if (wasOs && isOs && releaseKey(wasOs.family, wasOs.version) !== releaseKey(isOs.family, isOs.version)) {
    notes.push(`baseline is of another OS: ${osName(wasOs)} (this scan: ${osName(isOs)})`);
  }
  return notes;
}

function osName(os: NonNullable<Report['os']>): string {
  return os.name ?? `${os.family} ${os.version}`;
}

/**
 * The repository a report's image is known by (`docker.io/library/alpine`), without tag or digest: from a registry
 * reference, else from the image's first repository tag. Undefined for folders, SBOMs and untagged archives.
 */
function imageName(report: Report): string | undefined {
  const ref = report.target.ref;
  const candidate = /^(docker-archive|oci|oci-archive|dir|sbom):/.test(ref)
    ? report.target.repoTags?.find((t) => !t.includes('@'))
    : ref.replace(/^(registry|docker):(\/\/)?/, '');
  if (!candidate) return undefined;
  try {
    const parsed = parseReference(candidate);
    return formatRepository({ registry: parsed.registry, repository: parsed.repository });
  } catch {
    return undefined;
  }
}
