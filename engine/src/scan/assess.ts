import { withEolStatus } from '../catalog/os/release/eol.js';
import type { Severity } from '../model/finding.js';
import type { Report } from '../model/report.js';
import { applySuppressionsAndPolicy, decideGates } from '../policy/gate.js';
import type { Policy } from '../policy/policy-file.js';
import type { VexStatement } from '../policy/vex-apply.js';

/** Everything a verdict depends on besides the report: plain data, read and parsed by the caller. */
export interface AssessOptions {
  /** VEX statements (`loadVex`): `not_affected`/`fixed` suppress the findings they name. */
  vex?: readonly VexStatement[];
  /** A policy (`loadPolicy`): its exceptions suppress findings, its rules fail or warn. */
  policy?: Policy;
  /** An earlier report: a new CRITICAL, or more findings at `baselineSeverity` or above, fail the gate. */
  baseline?: Report;
  /** The baseline's count threshold; HIGH when not given. */
  baselineSeverity?: Severity;
  /** Fail the gate when an unsuppressed finding at or above this severity remains. */
  failOn?: Severity;
  /** The moment the verdict is for: exception expiry and end-of-life status are judged against it. */
  now: Date;
}

/**
 * The verdict on a report, as one pure function: the CLI, the server and the GitHub Action give the same answer from
 * the same inputs. Suppressions first (VEX, then policy exceptions live on `now`), then the policy's rules on what
 * remains, then the gate over `failOn`, the policy and the baseline. Suppressed findings stay in the report, marked.
 *
 * The report comes back with `policy` (when a policy was given) and `gate` (when any of failOn, policy or baseline
 * was given; without them nothing was asked, so there is no gate). No I/O, no printing, no environment.
 */
export function assess(report: Report, options: AssessOptions): Report {
  const dated = report.os ? { ...report, os: withEolStatus(report.os, options.now) } : report;
  const suppressed = applySuppressionsAndPolicy(dated, {
    vex: [...(options.vex ?? [])],
    ...(options.policy ? { policy: options.policy } : {}),
    now: options.now,
  });
  if (!options.failOn && !options.policy && !options.baseline) return suppressed;
  const gate = decideGates(suppressed, {
    ...(options.failOn ? { failOn: options.failOn } : {}),
    ...(options.baseline ? { baseline: options.baseline } : {}),
    baselineSeverity: options.baselineSeverity ?? 'HIGH',
  });
  return { ...suppressed, gate };
}
