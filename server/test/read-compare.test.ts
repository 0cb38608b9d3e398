// The server's diff and gate give exactly what the CLI gives on the same two reports: `lading diff -o json` byte for
// byte, and the verdict and reasons of `lading scan --baseline`. Reports are real: the CLI scans two Alpine 3.16
// releases (3.16.2's openssl 1.1.1q-r0 and 3.16.4's 1.1.1t-r0) against real OSV records.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '@lading/engine/model';
import {
  diffJson,
  evaluateGate,
  parseStoredReport,
  policyFromRequest,
  UnusableReportError,
} from '../src/queries/compare.js';
import { type CliReports, cliReports, runLading } from './helpers/reports.js';

describe('diff and gate of stored reports', () => {
  let r: CliReports;
  let a: Report;
  let b: Report;
  before(async () => {
    r = await cliReports();
    a = parseStoredReport(await readFile(r.aFile), 'a');
    b = parseStoredReport(await readFile(r.bFile), 'b');
  });
  after(() => r.dispose());

  it('diffs exactly as `lading diff -o json` does, both ways', async () => {
    const [forward, backward] = await Promise.all([
      runLading(['diff', r.aFile, r.bFile, '-o', 'json']),
      runLading(['diff', r.bFile, r.aFile, '-o', 'json']),
    ]);
    assert.equal(diffJson(a, b), forward.stdout);
    assert.equal(diffJson(b, a), backward.stdout);
    assert.match(forward.stdout, /"direction": "better"/);
  });

  it('gives the verdict of `lading scan --baseline`, passing and failing', async () => {
    const now = new Date();
    for (const [target, current, baseline, baselineFile, expected] of [
      [r.bTarget, b, a, r.aFile, 'pass'],
      [r.aTarget, a, b, r.bFile, 'fail'],
    ] as const) {
      const cli = await runLading(['scan', target, '--db-dir', r.dbDir, '--baseline', baselineFile, '-o', 'json'], {
        allowFailure: true,
      });
      const gated = JSON.parse(cli.stdout) as Report;
      const answer = evaluateGate(current, baseline, { now });
      assert.equal(answer.verdict, expected);
      assert.equal(cli.code, expected === 'pass' ? 0 : 1);
      assert.deepEqual(
        [answer.verdict === 'pass', answer.reasons, answer.notes],
        [gated.gate?.pass, gated.gate?.reasons, gated.gate?.notes],
      );
    }
    const worse = evaluateGate(a, b, { now });
    assert.equal(worse.direction, 'worse');
    assert.deepEqual(worse.deltaBySeverity, { critical: 0, high: 4, medium: 2, low: 0, unknown: 0 });
    assert.deepEqual(worse.newCritical, []);
  });

  it('applies a policy sent with the request as `lading scan --policy` applies the file', async () => {
    const policyYaml =
      'version: 1\nrules:\n  - id: no-high\n    type: vulnerabilities\n    severity: high\n    action: fail\n';
    const policy = await policyFromRequest(policyYaml);
    const answer = evaluateGate(b, a, { policy, now: new Date() });
    const policyFile = join(r.dbDir, '..', 'policy.yaml');
    await writeFile(policyFile, policyYaml);
    const cli = await runLading(
      ['scan', r.bTarget, '--db-dir', r.dbDir, '--baseline', r.aFile, '--policy', policyFile, '-o', 'json'],
      { allowFailure: true },
    );
    const gated = JSON.parse(cli.stdout) as Report;
    assert.equal(answer.verdict, 'fail');
    assert.equal(cli.code, 1);
    assert.deepEqual(answer.reasons, gated.gate?.reasons);
    assert.ok(
      answer.reasons.some((x) => /no-high/.test(x)),
      answer.reasons.join('\n'),
    );
    await assert.rejects(policyFromRequest('version: 1\nrules: 7\n'), (err: unknown) => {
      assert.ok(err instanceof UnusableReportError);
      assert.doesNotMatch(err.message, /lading-server-policy-|\/tmp\//);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });

  it('refuses stored documents that are not Lading reports in one line', () => {
    const refuse = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseStoredReport(Buffer.from(text), 'report sha256:ab'),
        (err: unknown) => {
          assert.ok(err instanceof UnusableReportError);
          assert.match(err.message, pattern);
          return true;
        },
      );
    refuse('{"schemaVersion": 1, "tool"', /^report sha256:ab: not JSON/);
    refuse('{"bomFormat": "CycloneDX"}', /not a Lading JSON report/);
    refuse('{"schemaVersion": 99, "tool": {"name": "lading"}}', /schema 99 is newer/);
    refuse('{"schemaVersion": 1, "tool": {"name": "lading"}}', /lacks packages, findings or target/);
  });
});
