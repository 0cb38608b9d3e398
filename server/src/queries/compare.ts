// The two answers the server gives by comparing two images' reports: `GET /diff` (exactly `lading diff -o json`) and
// `POST /gates/evaluate` (exactly the verdict of `lading scan --baseline`). Both run the engine's own code on the
// reports queries/diff-input.ts builds from the server's findings, so the server can never disagree with the CLI on
// the same two documents.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffReports, renderDiff, severityDirection } from '@lading/engine/diff';
import type { Report, SeverityCounts } from '@lading/engine/model';
import { REPORT_SCHEMA_VERSION } from '@lading/engine/model';
import type { Policy } from '@lading/engine/policy';
import { assess } from '@lading/engine/scan';

/** Why a stored document cannot be compared: the route turns it into a 422 problem document. */
export class UnusableReportError extends Error {}

/**
 * A stored report's bytes as a Report, with the checks `loadReport` makes on a file (a Lading report, a schema this
 * engine understands, packages/findings/target present). `label` names the document in the one-line reason.
 */
export function parseStoredReport(bytes: Uint8Array, label: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new UnusableReportError(`${label}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const report = value as Partial<Report> | null;
  if (
    !report ||
    typeof report !== 'object' ||
    report.tool?.name !== 'lading' ||
    typeof report.schemaVersion !== 'number'
  ) {
    throw new UnusableReportError(`${label}: not a Lading JSON report`);
  }
  if (report.schemaVersion > REPORT_SCHEMA_VERSION) {
    throw new UnusableReportError(
      `${label}: report schema ${report.schemaVersion} is newer than this server understands (${REPORT_SCHEMA_VERSION})`,
    );
  }
  if (!Array.isArray(report.packages) || !Array.isArray(report.findings) || !report.target) {
    throw new UnusableReportError(`${label}: report lacks packages, findings or target`);
  }
  return report as Report;
}

/** `lading diff OLD NEW -o json`, byte for byte. */
export function diffJson(before: Report, after: Report): string {
  return renderDiff(diffReports(before, after), 'json');
}

export interface GateAnswer {
  verdict: 'pass' | 'fail';
  reasons: string[];
  notes: string[];
  /** `CVE-… package version` of each CRITICAL finding the baseline did not have. */
  newCritical: string[];
  deltaBySeverity: SeverityCounts;
  direction: 'better' | 'worse' | 'stable';
  /** The image's unsuppressed findings per severity as judged (what its counters, and so `/trends`, hold). */
  counts: SeverityCounts;
}

/**
 * The verdict `lading scan --baseline BASELINE [--policy P]` gives on `report`: the engine's `assess` with the same
 * inputs (HIGH as the baseline threshold, the CLI's default), judged at `now`.
 */
export function evaluateGate(report: Report, baseline: Report, options: { policy?: Policy; now: Date }): GateAnswer {
  const assessed = assess(report, {
    baseline,
    baselineSeverity: 'HIGH',
    ...(options.policy ? { policy: options.policy } : {}),
    now: options.now,
  });
  // assess always returns a gate when a baseline is given; the fallback only keeps the type honest.
  const gate = assessed.gate ?? { pass: true, reasons: [], notes: [] };
  const diff = diffReports(baseline, assessed);
  return {
    verdict: gate.pass ? 'pass' : 'fail',
    reasons: gate.reasons,
    notes: gate.notes,
    newCritical: diff.findings.new
      .filter((f) => f.severity === 'CRITICAL')
      .map((f) => `${f.id} ${f.package.name} ${f.package.version}`),
    deltaBySeverity: diff.severityDelta,
    direction: severityDirection(diff.severityDelta),
    counts: unsuppressedCounts(assessed.findings),
  };
}

function unsuppressedCounts(findings: Report['findings']): SeverityCounts {
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const f of findings) if (!f.suppressed) counts[f.severity.toLowerCase() as keyof SeverityCounts]++;
  return counts;
}

/** The largest policy document a gate request may carry (the JSON body limit is 1 MiB anyway). */
export const MAX_POLICY_BYTES = 256 * 1024;

/**
 * A policy sent with a gate request (YAML or JSON text, or a JSON object), read by the engine's `loadPolicy` so it
 * is validated exactly as `lading scan --policy` validates a file: it is written to a private temporary folder
 * because that reader takes a path, and removed at once.
 */
export async function policyFromRequest(policy: unknown): Promise<Policy> {
  const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) {
    throw new UnusableReportError(`policy: larger than ${MAX_POLICY_BYTES} bytes`);
  }
  const { loadPolicy } = await import('@lading/engine/policy');
  const dir = await mkdtemp(join(tmpdir(), 'lading-server-policy-'));
  try {
    const file = join(dir, typeof policy === 'string' ? 'policy.yaml' : 'policy.json');
    await writeFile(file, text, { mode: 0o600 });
    try {
      return await loadPolicy(file);
    } catch (err) {
      // The engine names the file it read; the caller sent no file, so its reason names the request field instead.
      const message = err instanceof Error ? err.message : String(err);
      throw new UnusableReportError(message.split(file).join('policy'));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
