import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderJson } from '../../src/report/json.js';
import { assertValidReport as validateReport } from '../helpers/report-schema.js';
import { finding, pkg, report } from '../helpers/reports.js';

describe('report JSON schema', () => {
  it('accepts a report with findings, suppressions and a policy verdict', () => {
    const libc = pkg('deb', 'libc6', '2.36-9+deb12u1');
    const r = report(
      'x',
      [libc],
      [
        finding(libc, 'CVE-2023-4911', 'HIGH', {
          suppressed: { kind: 'vex', reason: 'not_affected' },
          cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', score: 7.8, source: 'nvd' }],
        }),
      ],
    );
    r.policy = { pass: false, violations: [{ rule: 'r', action: 'fail', message: 'm', findingId: 'CVE-2023-4911' }] };
    validateReport(JSON.parse(renderJson(r)));
  });

  it('rejects a report that breaks the contract', () => {
    const r = JSON.parse(renderJson(report('x', [], []))) as Record<string, unknown>;
    delete r['summary'];
    assert.throws(() => validateReport(r));
  });
});
