import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { LadingError } from '../../src/errors/lading-error.js';
import { compareWithBaseline } from '../../src/policy/baseline.js';
import { runsAsRoot, usesLatestTag } from '../../src/policy/evaluate.js';
import { applySuppressionsAndPolicy } from '../../src/policy/gate.js';
import { loadPolicy, type Policy } from '../../src/policy/policy-file.js';
import { applyVex, loadVex } from '../../src/policy/vex.js';
import { readOfficialSchema } from '../helpers/official-schemas.js';
import { finding, pkg, report } from '../helpers/reports.js';

const FIX = new URL('../fixtures/policy/', import.meta.url).pathname;
const NOW = new Date('2026-11-22T00:00:00Z');

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof LadingError, String(err));
    assert.equal(err.exitCode, 2);
    assert.match(err.message, pattern);
    assert.equal(err.message.split('\n').length, 1);
    return true;
  });
}

describe('policy files', () => {
  it('loads the documented example', async () => {
    const policy = await loadPolicy(`${FIX}policy.example.yaml`);
    assert.equal(policy.rules.length, 7);
    const first = policy.rules[0]!;
    assert.equal(first.type === 'vulnerabilities' && first.severity, 'CRITICAL');
    assert.equal(policy.exceptions[0]?.vulnerability, 'CVE-2023-45853');
  });

  it('names the line and field of a bad value', async () => {
    await rejects(
      loadPolicy(`${FIX}bad-severity.yaml`),
      /bad-severity\.yaml:9:\d+: invalid policy: rules\[1\]\.severity: must be one of/,
    );
  });

  it('requires a reason on exceptions', async () => {
    await rejects(
      loadPolicy(`${FIX}bad-exception.yaml`),
      /bad-exception\.yaml:4:\d+: .*exceptions\[0\].*missing required field "reason"/,
    );
  });

  it('reports YAML syntax errors with their position', async () => {
    await rejects(loadPolicy(`${FIX}bad-yaml.yaml`), /bad-yaml\.yaml:\d+:\d+: invalid policy/);
    await rejects(loadPolicy(`${FIX}does-not-exist.yaml`), /cannot read policy .*ENOENT/);
  });
});

const zlib = pkg('deb', 'zlib1g', '1:1.2.13.dfsg-1', {
  purl: 'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12',
  source: { name: 'zlib' },
  licenses: ['Zlib'],
});
const libc = pkg('deb', 'libc6', '2.36-9+deb12u1', {
  purl: 'pkg:deb/debian/libc6@2.36-9+deb12u1?arch=amd64&distro=debian-12',
  licenses: ['LGPL-2.1-or-later'],
});
const ghostscript = pkg('deb', 'libgs10', '10.0.0~dfsg-11', { licenses: ['AGPL-3.0-or-later'] });
const base = report(
  'registry.example.com/app:latest',
  [zlib, libc, ghostscript],
  [
    finding(zlib, 'CVE-2023-45853', 'CRITICAL', { aliases: ['GHSA-mq29-j5xf-cjwr'] }),
    finding(libc, 'CVE-2023-4911', 'HIGH', { fixedVersions: ['2.36-9+deb12u3'], kev: true, epss: 0.71 }),
    finding(ghostscript, 'CVE-2023-36664', 'CRITICAL', { fixedVersions: ['10.0.0~dfsg-11+deb12u1'], epss: 0.9 }),
  ],
  {
    target: {
      kind: 'image',
      ref: 'registry.example.com/app:latest',
      digest: `sha256:${'1'.repeat(64)}`,
      layers: [],
      config: { user: '', env: [], entrypoint: [], cmd: [], labels: {} },
    },
  },
);

describe('policy evaluation', () => {
  it('applies exceptions until they expire and reports expired ones', async () => {
    const policy = await loadPolicy(`${FIX}policy.example.yaml`);
    const live = applySuppressionsAndPolicy(base, { vex: [], policy, now: NOW });
    const zf = live.findings.find((f) => f.id === 'CVE-2023-45853')!;
    assert.equal(zf.suppressed?.kind, 'policy-exception');
    assert.equal(live.policy?.expiredExceptions, undefined);
    const later = applySuppressionsAndPolicy(base, { vex: [], policy, now: new Date('2027-07-01T00:00:00Z') });
    assert.equal(later.findings.find((f) => f.id === 'CVE-2023-45853')!.suppressed, undefined);
    assert.equal(later.policy?.expiredExceptions?.[0]?.id, 'CVE-2023-45853');
    assert.ok(later.policy?.violations.some((v) => v.rule === 'no-critical' && v.findingId === 'CVE-2023-45853'));
  });

  it('lists which rule failed for which finding', async () => {
    const policy = await loadPolicy(`${FIX}policy.example.yaml`);
    const r = applySuppressionsAndPolicy(base, { vex: [], policy, now: NOW });
    const v = r.policy!;
    assert.equal(v.pass, false);
    const byRule = (rule: string) => v.violations.filter((x) => x.rule === rule);
    assert.deepEqual(
      byRule('no-critical').map((x) => x.findingId),
      ['CVE-2023-36664'],
    );
    assert.deepEqual(
      byRule('known-exploited').map((x) => x.findingId),
      ['CVE-2023-4911'],
    );
    assert.deepEqual(
      byRule('likely-exploited').map((x) => [x.findingId, x.action]),
      [
        ['CVE-2023-4911', 'warn'],
        ['CVE-2023-36664', 'warn'],
      ],
    );
    assert.deepEqual(
      byRule('copyleft').map((x) => x.packageId),
      [ghostscript.id],
    );
    assert.deepEqual(
      byRule('hardening').map((x) => x.message),
      [
        'the image runs as root (USER unset)',
        'the image is referenced by the latest tag (registry.example.com/app:latest)',
      ],
    );
    assert.equal(r.summary.suppressed, 1);
  });

  it('passes when nothing is hit, and max counts allow some findings', () => {
    const policy: Policy = {
      version: 1,
      rules: [{ id: 'few-high', type: 'vulnerabilities', severity: 'HIGH', max: 3, action: 'fail' }],
      exceptions: [],
    };
    assert.equal(applySuppressionsAndPolicy(base, { vex: [], policy, now: NOW }).policy?.pass, true);
    policy.rules[0] = { id: 'few-high', type: 'vulnerabilities', severity: 'HIGH', max: 2, action: 'fail' };
    const v = applySuppressionsAndPolicy(base, { vex: [], policy, now: NOW }).policy!;
    assert.equal(v.pass, false);
    assert.match(v.violations[0]!.message, /3 matching findings, at most 2 allowed/);
  });

  it('denies packages by name and purl pattern, fixable-only counts only fixable', () => {
    const policy: Policy = {
      version: 1,
      rules: [
        { id: 'no-zlib', type: 'packages', deny: ['pkg:deb/debian/zlib1g'], action: 'fail' },
        { id: 'no-libgs', type: 'packages', deny: ['libgs*'], action: 'warn' },
        { id: 'fixable', type: 'vulnerabilities', severity: 'CRITICAL', fixableOnly: true, action: 'fail' },
        { id: 'allow', type: 'licenses', allow: ['Zlib', 'LGPL-2.1-or-later'], action: 'warn' },
      ],
      exceptions: [],
    };
    const v = applySuppressionsAndPolicy(base, { vex: [], policy, now: NOW }).policy!;
    assert.deepEqual(
      v.violations.map((x) => `${x.rule}:${x.packageId}`),
      [`no-zlib:${zlib.id}`, `no-libgs:${ghostscript.id}`, `fixable:${ghostscript.id}`, `allow:${ghostscript.id}`],
    );
  });

  it('judges image users and tags', () => {
    assert.equal(runsAsRoot(''), true);
    assert.equal(runsAsRoot('0:0'), true);
    assert.equal(runsAsRoot('root'), true);
    assert.equal(runsAsRoot('65532:65532'), false);
    assert.equal(runsAsRoot('nonroot'), false);
    assert.equal(usesLatestTag('docker.io/library/alpine'), true);
    assert.equal(usesLatestTag('docker.io/library/alpine:latest'), true);
    assert.equal(usesLatestTag('localhost:5000/app'), true);
    assert.equal(usesLatestTag('localhost:5000/app:1.2'), false);
    assert.equal(usesLatestTag(`ghcr.io/a/b@sha256:${'a'.repeat(64)}`), false);
    assert.equal(usesLatestTag('docker-archive:/tmp/x.tar'), false);
  });
});

describe('VEX', () => {
  it('our OpenVEX fixture is valid against the official OpenVEX schema', () => {
    const schema = readOfficialSchema('openvex.schema.json');
    const ajv = new Ajv2020.default({ strict: false, validateFormats: false });
    const validate = ajv.compile(schema);
    const doc = JSON.parse(readFileSync(`${FIX}openvex-not-affected.json`, 'utf8'));
    assert.ok(validate(doc), JSON.stringify(validate.errors));
  });

  it('suppresses OpenVEX not_affected for the named subcomponent only', async () => {
    const statements = await loadVex(`${FIX}openvex-not-affected.json`);
    assert.equal(statements.length, 2);
    const out = applyVex(base.findings, statements, base.target);
    const z = out.find((f) => f.id === 'CVE-2023-45853')!;
    assert.equal(z.suppressed?.kind, 'vex');
    assert.match(z.suppressed!.reason, /^not_affected: vulnerable_code_not_present: minizip/);
    assert.equal(
      out.find((f) => f.id === 'CVE-2023-4911')!.suppressed,
      undefined,
      'under_investigation suppresses nothing',
    );
    const otherImage = { ...base.target, digest: `sha256:${'2'.repeat(64)}` };
    // Subcomponents narrow the statement to packages; the product digest is informative for them.
    assert.equal(applyVex(base.findings, statements, otherImage).filter((f) => f.suppressed).length, 1);
  });

  it('reads CycloneDX VEX (the spec example) and applies it by purl', async () => {
    const caseOne = await loadVex(`${FIX}cyclonedx-case-1.vex.json`);
    assert.deepEqual(
      caseOne.map((s) => [s.vulnerabilities[0], s.status, s.justification]),
      [['CVE-2020-25649', 'not_affected', 'code_not_reachable']],
    );
    const jackson = pkg('maven', 'jackson-databind', '2.10.0', {
      purl: 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0',
    });
    const f = [finding(jackson, 'CVE-2020-25649', 'HIGH', { aliases: ['GHSA-288c-cq4h-88gq'] })];
    assert.equal(applyVex(f, caseOne, base.target)[0]!.suppressed, undefined, 'Acme Product is not this package');
    const byPurl = await loadVex(`${FIX}cyclonedx-jackson.vex.json`);
    assert.equal(applyVex(f, byPurl, base.target)[0]!.suppressed?.kind, 'vex');
  });

  it('rejects malformed VEX with line and field (exit 2)', async () => {
    await rejects(
      loadVex(`${FIX}openvex-bad-status.json`),
      /openvex-bad-status\.json:11:\d+: invalid VEX document: statements\[0\]\.status: must be one of/,
    );
    await rejects(loadVex(`${FIX}bad-yaml.yaml`), /invalid VEX document/);
  });
});

describe('baselines', () => {
  const ssl = pkg('apk', 'libssl3', '3.1.4-r1');
  const high = finding(ssl, 'CVE-2023-6129', 'HIGH');
  const crit = finding(ssl, 'CVE-2024-0727', 'CRITICAL');
  const med = finding(ssl, 'CVE-2023-5678', 'MEDIUM');

  it('fails on a new CRITICAL even when the count at the threshold stays', () => {
    const v = compareWithBaseline(report('a', [ssl], [high]), report('b', [ssl], [crit]), 'HIGH');
    assert.equal(v.pass, false);
    assert.deepEqual(v.reasons, ['new CRITICAL CVE-2024-0727 in libssl3 3.1.4-r1']);
  });

  it('fails when findings at or above the threshold rise, passes when they stay or fall', () => {
    const before = report('a', [ssl], [high]);
    const more = compareWithBaseline(before, report('b', [ssl], [high, finding(ssl, 'CVE-2024-2511', 'HIGH')]), 'HIGH');
    assert.equal(more.pass, false);
    assert.match(more.reasons[0]!, /rose from 1 to 2/);
    assert.equal(compareWithBaseline(before, report('b', [ssl], [high, med]), 'HIGH').pass, true);
    assert.equal(compareWithBaseline(before, report('b', [ssl], [high, med]), 'MEDIUM').pass, false);
    const fewer = compareWithBaseline(before, report('b', [ssl], []), 'HIGH');
    assert.equal(fewer.pass, true);
    assert.match(fewer.reasons[0]!, /fell from 1 to 0/);
  });
});
