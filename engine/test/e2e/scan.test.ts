// `lading scan` as a user runs it: real root filesystem excerpts, real OSV records imported with `lading db import`,
// real argv and exit codes. Each CLI run costs ~0.5 s of startup, so assertions are batched per run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readOfficialSchema } from '../helpers/official-schemas.js';
import { tempDir } from '../helpers/tmp.js';
import { cyclonedxValidator, errorsOf, spdxValidator } from '../sbom/schemas.js';
import {
  assertOneLineError,
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

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const TARGET = `dir:${ROOTFS.debian12}`;

/** What the debian12 fixture holds: seven dpkg packages, pip once (the venv copy) and lodash. */
const EXPECTED_PACKAGES = [
  'deb coreutils 9.1-1',
  'deb libc6 2.36-9+deb12u3',
  'deb libssl3 3.0.11-1~deb12u1',
  'deb openssl 3.0.11-1~deb12u1',
  'deb python3-pip 23.0.1+dfsg-1',
  'deb python3-yaml 6.0-3+b2',
  'deb zlib1g 1:1.2.13.dfsg-1',
  'npm lodash 4.17.20',
  'pypi pip 23.0.1',
];

/**
 * The findings the real records must produce. Not here, on purpose: CVE-2023-4911 (glibc fixed in exactly the
 * installed 2.36-9+deb12u3), DSA-5417-1 (openssl, but Debian 11 only) and every Alpine record.
 */
const EXPECTED_FINDINGS = [
  'CVE-2016-2781 coreutils 9.1-1 LOW will-not-fix ',
  'CVE-2020-28500 lodash 4.17.20 MEDIUM fixed 4.17.21',
  'CVE-2021-23337 lodash 4.17.20 HIGH fixed 4.17.21',
  'CVE-2023-5363 libssl3 3.0.11-1~deb12u1 HIGH fixed 3.0.11-1~deb12u2',
  'CVE-2023-5363 openssl 3.0.11-1~deb12u1 HIGH fixed 3.0.11-1~deb12u2',
  'CVE-2023-5752 pip 23.0.1 MEDIUM fixed 23.3',
];

describe('lading scan dir:debian12 against imported OSV records', () => {
  let dbDir = '';
  before(async () => {
    dbDir = await importedDb();
  });
  after(() => removeDir(dbDir));

  it('reports the exact packages and findings, with source-package matching and merged aliases', async () => {
    const r = await lading(['scan', TARGET, '--db-dir', dbDir, '-o', 'json']);
    const report = parseReport(r.stdout);

    assert.equal(report.target.kind, 'rootfs');
    assert.deepEqual(
      { family: report.os?.family, version: report.os?.version, ecosystem: report.os?.ecosystem },
      { family: 'debian', version: '12', ecosystem: 'Debian:12' },
    );
    assert.deepEqual(packageLines(report), EXPECTED_PACKAGES);
    assert.deepEqual(findingLines(report.findings), EXPECTED_FINDINGS);

    const byName = new Map(report.packages.map((p) => [`${p.type}/${p.name}`, p]));
    // dpkg's Source: field, with and without its own version.
    assert.deepEqual(byName.get('deb/libssl3')?.source, { name: 'openssl' });
    assert.deepEqual(byName.get('deb/zlib1g')?.source, { name: 'zlib' });
    assert.deepEqual(byName.get('deb/python3-yaml')?.source, { name: 'pyyaml', version: '6.0-3' });
    assert.equal(byName.get('deb/zlib1g')?.purl, 'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12');
    // The dist-info that python3-pip.list owns is the deb; only the venv copy is a PyPI package.
    const pip = byName.get('pypi/pip');
    assert.deepEqual(
      pip?.locations.map((l) => l.path),
      ['/opt/app/venv/lib/python3.11/site-packages/pip-23.0.1.dist-info/METADATA'],
    );
    assert.equal(pip?.purl, 'pkg:pypi/pip@23.0.1');
    assert.deepEqual(
      byName.get('npm/lodash')?.locations.map((l) => l.path),
      ['/app/node_modules/lodash/package.json'],
    );
    assert.equal(byName.get('npm/lodash')?.licenses.join(), 'MIT');

    const find = (id: string, pkg: string) => report.findings.find((f) => f.id === id && f.package.name === pkg);
    // DSA-5532-1 and DEBIAN-CVE-2023-5363 are keyed by the source package and merge into one finding per binary.
    for (const binary of ['libssl3', 'openssl']) {
      const f = find('CVE-2023-5363', binary);
      assert.deepEqual([...(f?.aliases ?? [])].sort(), ['DEBIAN-CVE-2023-5363', 'DSA-5532-1']);
      assert.equal(f?.advisory.ecosystem, 'Debian:12');
    }
    // GHSA and PYSEC records name each other only through the CVE: still one finding.
    assert.deepEqual([...(find('CVE-2023-5752', 'pip')?.aliases ?? [])].sort(), [
      'GHSA-mq26-g339-26xf',
      'PYSEC-2023-228',
    ]);
    assert.deepEqual(find('CVE-2021-23337', 'lodash')?.aliases, ['GHSA-35jh-r3h4-6jhm']);
    assert.equal(find('CVE-2021-23337', 'lodash')?.cvss[0]?.vector, 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H');
    assert.equal(find('CVE-2021-23337', 'lodash')?.cvss[0]?.score, 7.2);
    // Debian's urgency `unimportant` outranks the CVSS vector: an unfixed LOW that Debian will not fix.
    const coreutils = find('CVE-2016-2781', 'coreutils');
    assert.deepEqual([coreutils?.severity, coreutils?.fixedVersions], ['LOW', []]);

    assert.deepEqual(report.summary.bySeverity, { critical: 0, high: 3, medium: 2, low: 1, unknown: 0 });
    assert.equal(report.summary.packages, 9);
    assert.deepEqual(Object.keys(report.db?.ecosystems ?? {}).sort(), ['Debian', 'PyPI', 'npm']);
    assert.deepEqual(report.warnings, []);
  });

  it('fails on high (exit 1, the count on stderr) and passes on critical, still writing the report', async () => {
    const [high, critical] = await Promise.all([
      lading(
        ['scan', TARGET, '--db-dir', dbDir, '--fail-on', 'high', '-o', 'json', '-o', `markdown=${dbDir}/pr.md`],
        1,
      ),
      lading(['scan', TARGET, '--db-dir', dbDir, '--fail-on', 'critical', '-o', 'json'], 0),
    ]);
    assert.match(high.stderr, /lading: 3 findings at or above high/);
    const highReport = parseReport(high.stdout) as ReturnType<typeof parseReport> & { gate?: { pass: boolean } };
    assert.equal(highReport.findings.length, 6);
    assert.equal(highReport.gate?.pass, false);
    // The PR comment says what the exit status says, first.
    const md = readFileSync(`${dbDir}/pr.md`, 'utf8').split('\n');
    assert.equal(md[2], '❌ **Gate failed**: 3 findings at or above high');
    assert.doesNotMatch(critical.stderr, /at or above/);
    assert.equal(parseReport(critical.stdout).findings.length, 6);
  });

  it('filters with --severity and --ignore-unfixed', async () => {
    const [both, unfixedOnly] = await Promise.all([
      lading(['scan', TARGET, '--db-dir', dbDir, '--severity', 'HIGH,low', '--ignore-unfixed', '-o', 'json']),
      lading(['scan', TARGET, '--db-dir', dbDir, '--ignore-unfixed', '-o', 'json']),
    ]);
    // MEDIUM goes by --severity, the unfixed LOW by --ignore-unfixed.
    assert.deepEqual(
      findingLines(parseReport(both.stdout).findings),
      EXPECTED_FINDINGS.filter((l) => l.includes(' HIGH ')),
    );
    assert.deepEqual(
      findingLines(parseReport(unfixedOnly.stdout).findings),
      EXPECTED_FINDINGS.filter((l) => !l.startsWith('CVE-2016-2781')),
    );
  });

  it('writes every format to its own file in one run, each one parseable and valid', async (t) => {
    const dir = await tempDir(t);
    const out = (name: string) => join(dir, name);
    const formats = {
      json: 'report.json',
      sarif: 'report.sarif',
      junit: 'report.xml',
      markdown: 'report.md',
      table: 'report.txt',
      'cyclonedx-json': 'bom.cdx.json',
      'spdx-json': 'bom.spdx.json',
    };
    const args = Object.entries(formats).flatMap(([format, file]) => ['-o', `${format}=${out(file)}`]);
    const r = await lading(['scan', TARGET, '--db-dir', dbDir, ...args]);
    assert.equal(r.stdout, '', 'every output went to a file');

    const report = readReport(out('report.json'));
    assert.deepEqual(findingLines(report.findings), EXPECTED_FINDINGS);

    const sarif = readJson<{ runs: { results: { ruleId: string }[] }[] }>(out('report.sarif'));
    const validateSarif = sarifValidator();
    assert.ok(validateSarif(sarif), errorsOf(validateSarif));
    const results = sarif.runs[0]?.results ?? [];
    assert.equal(results.length, 6);
    assert.deepEqual([...new Set(results.map((x) => x.ruleId))].sort(), [
      'CVE-2016-2781',
      'CVE-2020-28500',
      'CVE-2021-23337',
      'CVE-2023-5363',
      'CVE-2023-5752',
    ]);

    const junit = readFileSync(out('report.xml'), 'utf8');
    assert.match(junit, /^<\?xml version="1\.0"/);
    assert.equal(junit.match(/<testsuites[\s>]/g)?.length, 1);
    assert.equal(junit.match(/<\/testsuites>/g)?.length, 1);
    assert.equal(junit.match(/<failure[\s>]/g)?.length, 6, junit.slice(0, 1500));
    assert.match(junit, /CVE-2023-5363/);

    const md = readFileSync(out('report.md'), 'utf8');
    for (const id of ['CVE-2023-5363', 'CVE-2021-23337', 'CVE-2023-5752', 'CVE-2016-2781'])
      assert.match(md, new RegExp(id));
    const table = readFileSync(out('report.txt'), 'utf8');
    assert.match(table, /libssl3/);
    assert.doesNotMatch(table, /\u001b\[/, 'a file never gets terminal colours');

    const cdx = readJson<{ components: { purl?: string }[] }>(out('bom.cdx.json'));
    const validateCdx = cyclonedxValidator('1.6');
    assert.ok(validateCdx(cdx), errorsOf(validateCdx));
    const cdxPurls = cdx.components.map((c) => c.purl ?? '').filter(Boolean);
    assert.equal(cdxPurls.length, 9);
    assert.ok(cdxPurls.includes('pkg:npm/lodash@4.17.20'));

    const spdx = readJson<{ packages: { name: string }[] }>(out('bom.spdx.json'));
    const validateSpdx = spdxValidator();
    assert.ok(validateSpdx(spdx), errorsOf(validateSpdx));
    const spdxNames = spdx.packages.map((p) => p.name);
    for (const name of ['libssl3', 'zlib1g', 'pip', 'lodash']) assert.ok(spdxNames.includes(name), name);
  });

  it('is exact at the boundaries: one revision below the fix matches, and an unowned dist-info is PyPI', async (t) => {
    // Same fixture with libc6 one Debian revision below DSA-5514-1's fix and python3-pip's file list gone.
    const root = join(await tempDir(t), 'rootfs');
    await cp(ROOTFS.debian12, root, { recursive: true });
    const status = join(root, 'var/lib/dpkg/status');
    const text = await readFile(status, 'utf8');
    assert.match(text, /^Version: 2\.36-9\+deb12u3$/m);
    await writeFile(status, text.replace(/^Version: 2\.36-9\+deb12u3$/m, 'Version: 2.36-9+deb12u2'));
    await rm(join(root, 'var/lib/dpkg/info/python3-pip.list'));

    const report = parseReport((await lading(['scan', `dir:${root}`, '--db-dir', dbDir, '-o', 'json'])).stdout);
    const glibc = report.findings.filter((f) => f.id === 'CVE-2023-4911');
    assert.deepEqual(findingLines(glibc), ['CVE-2023-4911 libc6 2.36-9+deb12u2 HIGH fixed 2.36-9+deb12u3']);
    assert.deepEqual([...(glibc[0]?.aliases ?? [])].sort(), ['DEBIAN-CVE-2023-4911', 'DSA-5514-1']);
    const pips = report.packages.filter((p) => p.type === 'pypi' && p.name === 'pip');
    assert.deepEqual(pips.map((p) => p.locations[0]?.path).sort(), [
      '/opt/app/venv/lib/python3.11/site-packages/pip-23.0.1.dist-info/METADATA',
      '/usr/lib/python3/dist-packages/pip-23.0.1.dist-info/METADATA',
    ]);
  });

  it('survives damaged input: a truncated SBOM is one error line, a broken package.json one warning', async (t) => {
    const dir = await tempDir(t);
    const sbom = join(dir, 'cut.cdx.json');
    const full = await lading(['sbom', TARGET, '-o', 'cyclonedx-json']);
    await writeFile(sbom, full.stdout.slice(0, Math.floor(full.stdout.length / 2)));
    const root = join(dir, 'rootfs');
    await cp(ROOTFS.debian12, root, { recursive: true });
    await writeFile(join(root, 'app/node_modules/lodash/package.json'), '{"name": "lodash", "version": ');
    // Cut the status file in the middle of a line of its fourth stanza (zlib1g), as a half-written layer would.
    const status = join(root, 'var/lib/dpkg/status');
    const text = await readFile(status, 'utf8');
    await writeFile(status, text.slice(0, text.indexOf('Package: zlib1g') + 40));

    const [cut, damaged] = await Promise.all([
      lading(['scan', `sbom:${sbom}`, '--db-dir', dbDir, '-o', 'json'], 3),
      lading(['scan', `dir:${root}`, '--db-dir', dbDir, '-o', 'json']),
    ]);
    assertOneLineError(cut.stderr, /^lading: cannot read sbom:.*cut\.cdx\.json: not valid JSON/);
    assert.equal(cut.stdout, '');

    const report = parseReport(damaged.stdout);
    assert.deepEqual(report.warnings, [
      {
        // The half-written stanza is skipped, and said so: never a silent drop.
        cataloger: 'dpkg',
        path: '/var/lib/dpkg/status',
        message: 'line 74: paragraph for zlib1g is incomplete: file ends inside its Status field (truncated?); skipped',
      },
      {
        cataloger: 'npm',
        path: '/app/node_modules/lodash/package.json',
        message: 'malformed JSON: Unexpected end of JSON input',
      },
    ]);
    assert.match(damaged.stderr, /^lading: warning: npm \/app\/node_modules\/lodash\/package\.json: malformed JSON/m);
    const names = report.packages.map((p) => p.name);
    for (const intact of ['libc6', 'libssl3', 'openssl', 'pip']) assert.ok(names.includes(intact), intact);
    assert.ok(!names.includes('lodash'));
    assert.ok(!names.includes('zlib1g'), 'the cut stanza is not reported with made-up fields');
    assert.ok(!names.includes('coreutils'), 'stanzas after the cut are gone');
  });

  it('fails operationally without a database (exit 3) and on usage errors (exit 2), in one line each', async (t) => {
    const emptyDb = await tempDir(t);
    const [noDb, badFlag, badSeverity, missingDir, offlineRegistry, missingFile] = await Promise.all([
      lading(['scan', TARGET, '--db-dir', emptyDb, '--offline', '-o', 'json'], 3),
      lading(['scan', TARGET, '--db-dir', dbDir, '--no-such-flag'], 2),
      lading(['scan', TARGET, '--db-dir', dbDir, '--fail-on', 'huge'], 2),
      lading(['scan', `dir:${join(emptyDb, 'absent')}`, '--db-dir', dbDir, '-o', 'json'], 3),
      // Port 1 on 127.0.0.1 answers nothing: the refusal must come before any connection is tried.
      lading(['scan', '127.0.0.1:1/team/app:1', '--db-dir', dbDir, '--offline', '--sbom-only'], 2),
      lading(['scan', join(emptyDb, 'saved.tar'), '--db-dir', dbDir, '--sbom-only'], 3),
    ]);
    assertOneLineError(
      offlineRegistry.stderr,
      /^lading: 127\.0\.0\.1:1\/team\/app:1 is in a registry, which --offline/,
    );
    assertOneLineError(missingFile.stderr, /saved\.tar: no such file or directory$/);
    assertOneLineError(
      noDb.stderr,
      /^lading: no vulnerability data for Debian:12 \(7 packages\), PyPI \(1 package\), npm \(1 package\) in .*; run `lading db update --ecosystem Debian:12 .*--allow-missing-data/,
    );
    assert.equal(noDb.stdout, '');
    assertOneLineError(badFlag.stderr, /^lading: unknown option '--no-such-flag'/);
    assertOneLineError(badSeverity.stderr, /^lading: unknown severity "huge"/);
    assertOneLineError(missingDir.stderr, /^lading: .*absent/);
  });
});

function sarifValidator() {
  const schema = readOfficialSchema('sarif-2.1.0.schema.json');
  // The official schema is draft-04 with an `id`; Ajv 8 reads it as a plain schema once that keyword is dropped.
  delete schema.$schema;
  delete schema.id;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}
