import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Finding } from '../../src/model/finding.js';
import { GITLAB_CS_SCHEMA_VERSION, renderGitlabContainerScanning } from '../../src/report/gitlab-cs.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { finding, pkg, report } from '../helpers/reports.js';

// GitLab's published schema (security-report-schemas, dist/container-scanning-report-format.json) is not vendored
// in this repository yet; until it is, these tests hold the constraints its v15 documentation states: required
// top-level and scan fields, the severity enum, the time pattern, required identifiers and location.
const libc = pkg('deb', 'libc6', '2.36-9+deb12u1');
const lodash = pkg('npm', 'lodash', '4.17.20', { purl: 'pkg:npm/lodash@4.17.20' });
const findings: Finding[] = [
  finding(lodash, 'CVE-2021-23337', 'HIGH', {
    aliases: ['GHSA-35jh-r3h4-6jhm'],
    fixedVersions: ['4.17.21'],
    title: 'Command Injection in lodash',
    advisory: { id: 'GHSA-35jh-r3h4-6jhm', source: 'osv', url: 'https://osv.dev/vulnerability/GHSA-35jh-r3h4-6jhm' },
  }),
  finding(libc, 'CVE-2023-4911', 'CRITICAL', { fixedVersions: ['2.36-9+deb12u3'], description: 'x'.repeat(2_000_000) }),
  finding(libc, 'CVE-2010-4756', 'LOW', { status: 'will-not-fix' }),
  finding(libc, 'CVE-2099-0001', 'MEDIUM', { suppressed: { kind: 'vex', reason: 'not_affected' } as never }),
];

interface Document {
  version: string;
  scan: Record<string, unknown> & { analyzer: Record<string, unknown>; scanner: Record<string, unknown> };
  vulnerabilities: Record<string, unknown>[];
}

function render(ref = 'registry.example.com/app:1.0'): Document {
  const r = report(ref, [libc, lodash], findings);
  r.os = { family: 'debian', version: '12' };
  r.target.digest = `sha256:${'c'.repeat(64)}`;
  return JSON.parse(renderGitlabContainerScanning(r, DEFAULT_RENDER_OPTIONS)) as Document;
}

describe('gitlab-cs', () => {
  it('has the required top-level and scan fields of the v15 schema', () => {
    const doc = render();
    assert.equal(doc.version, GITLAB_CS_SCHEMA_VERSION);
    assert.match(doc.version, /^15\.\d+\.\d+$/);
    assert.equal(doc.scan['type'], 'container_scanning');
    assert.equal(doc.scan['status'], 'success');
    for (const key of ['start_time', 'end_time'])
      assert.match(String(doc.scan[key]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    for (const part of [doc.scan.analyzer, doc.scan.scanner]) {
      assert.equal(typeof part['id'], 'string');
      assert.equal(typeof part['name'], 'string');
      assert.equal(typeof part['version'], 'string');
      assert.equal(typeof (part['vendor'] as { name: string }).name, 'string');
    }
  });

  it('one vulnerability per unsuppressed finding, with identifiers, severity, solution and location', () => {
    const doc = render();
    assert.equal(doc.vulnerabilities.length, 3, 'the suppressed finding is left out');
    for (const v of doc.vulnerabilities) {
      assert.match(String(v['id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.ok(['Info', 'Unknown', 'Low', 'Medium', 'High', 'Critical'].includes(String(v['severity'])));
      assert.ok(String(v['name']).length <= 255);
      assert.ok(String(v['description']).length <= 1_048_576, 'a long description is cut to the cap');
      assert.ok(String(v['solution']).length <= 7000);
      const ids = v['identifiers'] as { type: string; name: string; value: string; url: string }[];
      assert.ok(ids.length >= 1);
      for (const id of ids)
        for (const key of ['type', 'name', 'value'] as const) assert.equal(typeof id[key], 'string');
      const location = v['location'] as Record<string, unknown>;
      assert.equal(location['operating_system'], 'debian:12');
      assert.equal(location['image'], `registry.example.com/app@sha256:${'c'.repeat(64)}`);
      assert.equal(typeof (location['dependency'] as { package: { name: string } }).package.name, 'string');
    }
    const lodashVuln = doc.vulnerabilities.find((v) => String(v['name']).startsWith('CVE-2021-23337'))!;
    assert.equal(lodashVuln['solution'], 'Upgrade lodash from 4.17.20 to 4.17.21');
    assert.deepEqual(
      (lodashVuln['identifiers'] as { type: string; value: string }[]).map((i) => `${i.type}:${i.value}`),
      ['cve:CVE-2021-23337', 'ghsa:GHSA-35jh-r3h4-6jhm'],
    );
  });

  it('ids stay the same for the same finding in a later tag of the image, so GitLab tracks rather than reopens', () => {
    const a = render('registry.example.com/app:1.0').vulnerabilities.map((v) => v['id']);
    const b = render('registry.example.com/app:1.1').vulnerabilities.map((v) => v['id']);
    assert.deepEqual(a, b);
    assert.equal(new Set(a).size, a.length);
  });
});
