// Build gates through the CLI on two real Alpine 3.16 releases (A: 3.16.2's openssl 1.1.1q-r0, B: 1.1.1t-r0):
// report diffs, baselines, policy files with an expired exception, OpenVEX and CycloneDX VEX, PR markdown.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import type { Report } from '../../src/model/report.js';
import { readOfficialSchema } from '../helpers/official-schemas.js';
import {
  assertOneLineError,
  E2E_FIXTURES,
  findingLines,
  importedDb,
  lading,
  packageLines,
  parseReport,
  ROOTFS,
  readJson,
  readReport,
  removeDir,
} from './e2e-helpers.js';

const GATES = `${E2E_FIXTURES}gates/`;
const A = `dir:${ROOTFS.alpineA}`;
const B = `dir:${ROOTFS.alpineB}`;

/** Both openssl binaries of release A carry the four CVEs fixed in 1.1.1t-r0/-r1; zlib and busybox are past their fixes. */
const A_FINDINGS = ['libcrypto1.1', 'libssl1.1']
  .flatMap((p) => [
    `CVE-2022-4304 ${p} 1.1.1q-r0 MEDIUM fixed 1.1.1t-r0`,
    `CVE-2023-0215 ${p} 1.1.1q-r0 HIGH fixed 1.1.1t-r0`,
    `CVE-2023-0286 ${p} 1.1.1q-r0 HIGH fixed 1.1.1t-r0`,
    `CVE-2023-0464 ${p} 1.1.1q-r0 HIGH fixed 1.1.1t-r1`,
  ])
  .sort();
const B_FINDINGS = [
  'CVE-2023-0464 libcrypto1.1 1.1.1t-r0 HIGH fixed 1.1.1t-r1',
  'CVE-2023-0464 libssl1.1 1.1.1t-r0 HIGH fixed 1.1.1t-r1',
];

interface DiffJson {
  packages: {
    added: unknown[];
    removed: unknown[];
    changed: { name: string; type: string; from: string; to: string }[];
  };
  findings: { new: Report['findings']; fixed: Report['findings']; unchanged?: Report['findings'] };
  severityDelta: Record<string, number>;
  direction: string;
}

describe('gates on two Alpine releases', () => {
  let dbDir = '';
  let work = '';
  let aFile = '';
  let bFile = '';
  before(async () => {
    dbDir = await importedDb();
    work = await mkdtemp(join(tmpdir(), 'lading-e2e-gates-'));
    aFile = join(work, 'a.json');
    bFile = join(work, 'b.json');
    await Promise.all([
      lading(['scan', A, '--db-dir', dbDir, '-o', `json=${aFile}`]),
      lading(['scan', B, '--db-dir', dbDir, '-o', `json=${bFile}`]),
    ]);
  });
  after(async () => {
    await removeDir(dbDir);
    await removeDir(work);
  });

  it('scans both releases to exact reports', () => {
    const a = readReport(aFile);
    const b = readReport(bFile);
    assert.deepEqual(
      [a.os?.version, a.os?.ecosystem, b.os?.version, b.os?.ecosystem],
      ['3.16.2', 'Alpine:v3.16', '3.16.4', 'Alpine:v3.16'],
    );
    assert.equal(a.packages.length, 14);
    assert.deepEqual(
      packageLines(b).filter((l) => !packageLines(a).includes(l)),
      ['apk libcrypto1.1 1.1.1t-r0', 'apk libssl1.1 1.1.1t-r0'],
    );
    // Alpine records are keyed by the origin package: libcrypto1.1/libssl1.1 come from `o:openssl`.
    assert.deepEqual(a.packages.find((p) => p.name === 'libssl1.1')?.source?.name, 'openssl');
    assert.deepEqual(findingLines(a.findings), A_FINDINGS);
    assert.deepEqual(findingLines(b.findings), B_FINDINGS);
  });

  it('diffs the two reports, and the two targets the same way', async () => {
    const [files, targets, backwards] = await Promise.all([
      lading(['diff', aFile, bFile, '-o', 'json']),
      lading(['diff', A, B, '--db-dir', dbDir, '-o', 'json']),
      lading(['diff', bFile, aFile, '-o', 'json']),
    ]);
    const diff = JSON.parse(files.stdout) as DiffJson;
    assert.deepEqual(diff.packages, {
      added: [],
      removed: [],
      changed: [
        { name: 'libcrypto1.1', type: 'apk', from: '1.1.1q-r0', to: '1.1.1t-r0' },
        { name: 'libssl1.1', type: 'apk', from: '1.1.1q-r0', to: '1.1.1t-r0' },
      ],
    });
    assert.deepEqual(diff.findings.new, []);
    assert.deepEqual(
      findingLines(diff.findings.fixed),
      A_FINDINGS.filter((l) => !l.startsWith('CVE-2023-0464')),
    );
    assert.deepEqual(diff.severityDelta, { critical: 0, high: -4, medium: -2, low: 0, unknown: 0 });
    assert.equal(diff.direction, 'better');

    const fromTargets = JSON.parse(targets.stdout) as DiffJson;
    assert.deepEqual(
      { ...fromTargets, old: undefined, new: undefined },
      { ...diff, old: undefined, new: undefined },
      'diffing targets gives what diffing their reports gives',
    );

    const worse = JSON.parse(backwards.stdout) as DiffJson;
    assert.equal(worse.direction, 'worse');
    // --fail-on-worse gates on the same verdict: exit 1 on WORSE with its reason, the JSON byte for byte the same.
    const [gatedWorse, gatedBetter] = await Promise.all([
      lading(['diff', bFile, aFile, '-o', 'json', '--fail-on-worse'], 1),
      lading(['diff', aFile, bFile, '-o', 'json', '--fail-on-worse'], 0),
    ]);
    assert.equal(gatedWorse.stdout, backwards.stdout);
    assert.equal(gatedBetter.stdout, files.stdout);
    assert.match(gatedWorse.stderr, /^lading: diff: .* is worse than .* \(high \+4, medium \+2\)$/m);
    assert.equal(gatedBetter.stderr, '');
    assert.deepEqual(findingLines(worse.findings.new), findingLines(diff.findings.fixed));
    assert.deepEqual(worse.findings.fixed, []);
    assert.deepEqual(
      worse.packages.changed.map((c) => `${c.name} ${c.from} ${c.to}`),
      ['libcrypto1.1 1.1.1t-r0 1.1.1q-r0', 'libssl1.1 1.1.1t-r0 1.1.1q-r0'],
    );
  });

  it('passes a baseline when findings fall and updates it; fails and keeps it when they rise', async () => {
    const passed = join(work, 'baseline-passed.json');
    const refused = join(work, 'baseline-refused.json');
    const [down, up] = await Promise.all([
      lading(['scan', B, '--db-dir', dbDir, '--baseline', aFile, '--baseline-update', passed, '-o', 'json']),
      lading(['scan', A, '--db-dir', dbDir, '--baseline', bFile, '--baseline-update', refused, '-o', 'json'], 1),
    ]);
    assert.match(down.stderr, /baseline: findings at high or above fell from 6 to 2/);
    assert.deepEqual(findingLines(readReport(passed).findings), B_FINDINGS);
    assert.match(up.stderr, /^lading: baseline: findings at high or above rose from 2 to 6$/m, up.stderr);
    assert.equal(existsSync(refused), false, 'a failed gate never writes the new baseline');
    // The report is still printed, so CI can upload it.
    assert.deepEqual(findingLines(parseReport(up.stdout).findings), A_FINDINGS);
  });

  it('applies a policy: fail and warn rules, an expired exception and a live one; malformed is exit 2', async () => {
    const policy = `${GATES}policy.yaml`;
    const jsonFile = join(work, 'policy-b.json');
    const [b, a, malformed] = await Promise.all([
      lading(['scan', B, '--db-dir', dbDir, '--policy', policy, '-o', `json=${jsonFile}`, '-o', 'markdown'], 1),
      lading(['scan', A, '--db-dir', dbDir, '--policy', policy, '-o', 'json'], 1),
      lading(['scan', B, '--db-dir', dbDir, '--policy', `${GATES}policy-malformed.yaml`], 2),
    ]);
    assert.match(b.stderr, /policy exception for CVE-2023-0464 expired on 2024-06-30 and no longer applies/);
    assert.match(b.stderr, /policy warning: high-is-a-warning: CVE-2023-0464 \(HIGH\) in libssl1\.1/);
    assert.match(b.stderr, /policy rule no-x509-policy-dos: CVE-2023-0464 \(HIGH\) in libcrypto1\.1 1\.1\.1t-r0/);
    assert.doesNotMatch(b.stderr, /no-critical/);

    const report = readReport(jsonFile);
    assert.equal(report.policy?.pass, false);
    assert.deepEqual((report.policy?.violations ?? []).map((v) => `${v.action} ${v.rule}`).sort(), [
      'fail no-x509-policy-dos',
      'fail no-x509-policy-dos',
      'warn high-is-a-warning',
      'warn high-is-a-warning',
    ]);
    assert.deepEqual(
      report.findings.filter((f) => f.suppressed).map((f) => f.id),
      [],
      'an expired exception suppresses nothing',
    );

    // Markdown for a PR comment: the verdict comes right after the title.
    const lines = b.stdout.split('\n').filter((l) => l.trim());
    assert.match(lines[0] ?? '', /^### Lading scan of `dir:.*alpine-b`$/);
    assert.match(lines[1] ?? '', /^❌ \*\*Gate failed\*\*: policy rule no-x509-policy-dos: .* \(and 1 more\)$/);
    assert.match(b.stdout, /\| fail \| no-x509-policy-dos \|/);

    // On release A the exception without an expiry suppresses both CVE-2022-4304 findings, and they stay in JSON.
    const aReport = parseReport(a.stdout);
    const suppressed = aReport.findings.filter((f) => f.suppressed);
    assert.deepEqual(suppressed.map((f) => `${f.id} ${f.package.name} ${f.suppressed?.kind}`).sort(), [
      'CVE-2022-4304 libcrypto1.1 policy-exception',
      'CVE-2022-4304 libssl1.1 policy-exception',
    ]);
    assert.equal(aReport.summary.suppressed, 2);

    assertOneLineError(
      malformed.stderr,
      /^lading: .*policy-malformed\.yaml:10:\d+: invalid policy: rules\[1\]\.action: must be one of fail, warn$/,
    );
  });

  it('suppresses findings with OpenVEX and CycloneDX VEX: out of the gate, still in JSON, shown on request', async () => {
    const openvex = `${GATES}openvex-libcrypto.json`;
    const cdxVex = `${GATES}cyclonedx-libssl.vex.json`;
    const validate = new Ajv2020.default({ strict: false, validateFormats: false }).compile(
      readOfficialSchema('openvex.schema.json'),
    );
    assert.ok(validate(readJson(openvex)), JSON.stringify(validate.errors));

    const jsonFile = join(work, 'vex-b.json');
    const [both, shown, openvexOnly] = await Promise.all([
      lading([
        'scan',
        B,
        '--db-dir',
        dbDir,
        '--vex',
        openvex,
        '--vex',
        cdxVex,
        '--fail-on',
        'high',
        '-o',
        'table',
        '-o',
        `json=${jsonFile}`,
      ]),
      lading(['scan', B, '--db-dir', dbDir, '--vex', openvex, '--vex', cdxVex, '--show-suppressed', '-o', 'table']),
      lading(['scan', B, '--db-dir', dbDir, '--vex', openvex, '--fail-on', 'high', '-o', 'json'], 1),
    ]);
    const report = readReport(jsonFile);
    assert.deepEqual(
      report.findings
        .map((f) => `${f.id} ${f.package.name} ${f.suppressed?.kind} ${f.suppressed?.source?.split('/').pop()}`)
        .sort(),
      [
        'CVE-2023-0464 libcrypto1.1 vex openvex-libcrypto.json',
        'CVE-2023-0464 libssl1.1 vex cyclonedx-libssl.vex.json',
      ],
    );
    assert.equal(report.summary.suppressed, 2);
    assert.doesNotMatch(both.stdout, /CVE-2023-0464/, 'the table hides suppressed findings by default');
    assert.match(both.stdout, /2 suppressed/);
    assert.match(
      shown.stdout,
      /libcrypto1\.1@1\.1\.1t-r0 \(apk\)\s+CVE-2023-0464\s+HIGH\s+1\.1\.1t-r1\s+suppressed \(vex\)/,
    );
    assert.match(
      shown.stdout,
      /libssl1\.1@1\.1\.1t-r0 \(apk\)\s+CVE-2023-0464\s+HIGH\s+1\.1\.1t-r1\s+suppressed \(vex\)/,
    );
    // One document covers libcrypto1.1 only, so libssl1.1's finding still fails the gate.
    assert.match(openvexOnly.stderr, /lading: 1 finding at or above high/);
    const partly = parseReport(openvexOnly.stdout);
    assert.deepEqual(
      partly.findings.filter((f) => !f.suppressed).map((f) => f.package.name),
      ['libssl1.1'],
    );
  });
});
