// Coverage is part of every answer (issue: "never say clean without having looked"): a scan that lacks data for a
// release fails by default; with --allow-missing-data every format says which packages were not checked, gates
// fail, and diff marks its comparison incomplete. And data arrives as users expect: an online scan fetches what it
// needs from the mirror once, then reuses it within the day.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { startFileServer } from '../helpers/http-server.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { lading, OSV_DIR, parseReport, ROOTFS } from './e2e-helpers.js';

const TARGET = `dir:${ROOTFS.debian12}`;
const run = promisify(execFile);

/** The e2e OSV records of one ecosystem as OSV publishes them: `<Ecosystem>/all.zip`. */
function dumpOf(ecosystem: string): Buffer {
  const dir = join(OSV_DIR, ecosystem);
  return buildZip(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ name: f, data: readFileSync(join(dir, f)) })),
  );
}

describe('coverage: packages without vulnerability data', () => {
  it('Alpine data alone does not make a Debian 12 image clean: exit 3 naming Debian:12, npm and PyPI', async (t) => {
    const db = await tempDir(t);
    await lading(['db', 'import', join(OSV_DIR, 'Alpine'), '--db-dir', db, '-q']);
    const r = await lading(['scan', TARGET, '--db-dir', db, '-o', 'json', '-q'], 3);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^lading: no vulnerability data for Debian:12 \(7 packages\), PyPI \(1 package\), npm \(1 package\) in .*; run `lading db update --ecosystem Debian:12 --ecosystem PyPI --ecosystem npm` \(or `lading db import` offline\), or pass --allow-missing-data/,
    );
  });

  it('--allow-missing-data goes on, and JSON, table, markdown, SARIF, JUnit and CycloneDX name what was not checked', async (t) => {
    const dir = await tempDir(t);
    const db = join(dir, 'db');
    // Debian 12 is missing; npm and PyPI are there
    await lading(['db', 'import', join(OSV_DIR, 'npm'), join(OSV_DIR, 'PyPI'), '--db-dir', db, '-q']);
    const out = (name: string) => join(dir, name);
    const r = await lading(
      [
        'scan',
        TARGET,
        '--db-dir',
        db,
        '--allow-missing-data',
        '--fail-on',
        'critical',
        '-o',
        'table',
        ...['json', 'markdown', 'sarif', 'junit', 'cyclonedx-json'].flatMap((f) => ['-o', `${f}=${out(f)}`]),
      ],
      1,
    );
    const report = parseReport(readFileSync(out('json'), 'utf8'));
    const debs = report.packages.filter((p) => p.type === 'deb').map((p) => p.id);
    assert.deepEqual(report.coverage, {
      complete: false,
      gaps: [{ kind: 'no-data', scope: 'Debian:12', message: 'no vulnerability data', packageIds: debs }],
    });
    assert.ok(report.findings.length > 0, 'npm and PyPI packages were still matched');
    assert.equal(report.gate?.pass, false, 'a gate never passes with packages unchecked');
    assert.ok(report.gate?.reasons.includes('not checked: Debian:12: no vulnerability data (7 packages)'));
    assert.match(r.stdout, /^NOT CHECKED: Debian:12: no vulnerability data \(7 packages\)$/m);
    assert.match(readFileSync(out('markdown'), 'utf8'), /NOT CHECKED: Debian:12: no vulnerability data \(7 packages\)/);
    const sarif = JSON.parse(readFileSync(out('sarif'), 'utf8'));
    assert.deepEqual(sarif.runs[0].invocations[0].toolExecutionNotifications, [
      {
        level: 'warning',
        descriptor: { id: 'lading-coverage-no-data' },
        message: { text: 'not checked: Debian:12: no vulnerability data (7 packages)' },
      },
    ]);
    const junit = readFileSync(out('junit'), 'utf8');
    assert.match(
      junit,
      /<testcase classname="coverage\.Debian:12" name="not checked: Debian:12"><failure type="not-checked"/,
    );
    const bom = JSON.parse(readFileSync(out('cyclonedx-json'), 'utf8'));
    assert.deepEqual(bom.metadata.properties, [
      { name: 'lading:unchecked', value: 'Debian:12: no vulnerability data (7 packages)' },
    ]);

    // the environment says the same as the flag
    const byEnv = await runCli(['scan', TARGET, '--db-dir', db, '-o', 'json', '-q'], {
      env: { LADING_ALLOW_MISSING_DATA: '1' },
    });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.equal(parseReport(byEnv.stdout).coverage?.gaps[0]?.scope, 'Debian:12');
  });

  it('diff marks the comparison incomplete when a side has gaps, and its verdict carries the caveat', async (t) => {
    const db = await tempDir(t);
    await lading(['db', 'import', join(OSV_DIR, 'npm'), join(OSV_DIR, 'PyPI'), '--db-dir', db, '-q']);
    const refused = await lading(['diff', TARGET, TARGET, '--db-dir', db], 3);
    assert.match(refused.stderr, /no vulnerability data for Debian:12/);
    const json = await lading(['diff', TARGET, TARGET, '--db-dir', db, '--allow-missing-data', '-o', 'json']);
    const diff = JSON.parse(json.stdout);
    assert.equal(diff.direction, 'stable');
    assert.deepEqual(diff.incomplete, {
      reasons: [
        'old: Debian:12: no vulnerability data (7 packages)',
        'new: Debian:12: no vulnerability data (7 packages)',
      ],
    });
    const table = await lading(['diff', TARGET, TARGET, '--db-dir', db, '--allow-missing-data']);
    assert.match(table.stdout, /: STABLE \(INCOMPLETE: not every package was checked\)\nNOT CHECKED old: Debian:12/);
    const md = await lading(['diff', TARGET, TARGET, '--db-dir', db, '--allow-missing-data', '-o', 'markdown']);
    assert.match(md.stdout, /No change in risk\*\* \(⚠️ \*\*incomplete\*\*/);
  });

  it('scan with only an SBOM output still matches: the CycloneDX file carries its vulnerabilities', async (t) => {
    const dir = await tempDir(t);
    const db = join(dir, 'db');
    await lading(['db', 'import', OSV_DIR, '--db-dir', db, '-q']);
    await lading(['scan', TARGET, '--db-dir', db, '-o', `cyclonedx-json=${join(dir, 'bom.json')}`]);
    const bom = JSON.parse(readFileSync(join(dir, 'bom.json'), 'utf8'));
    assert.ok(bom.vulnerabilities?.length > 0, 'the BOM has a vulnerabilities section');
    await lading([
      'scan',
      TARGET,
      '--db-dir',
      join(dir, 'none'),
      '--sbom-only',
      '-o',
      `cyclonedx-json=${join(dir, 'sbom.json')}`,
    ]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'sbom.json'), 'utf8')).vulnerabilities, undefined);
  });
});

/** A root file system holding the Debian 12 fixture's dpkg status and, when given, this os-release. */
function dpkgRootfs(dir: string, osRelease?: string): string {
  mkdirSync(join(dir, 'var/lib/dpkg'), { recursive: true });
  copyFileSync(join(ROOTFS.debian12, 'var/lib/dpkg/status'), join(dir, 'var/lib/dpkg/status'));
  if (osRelease !== undefined) {
    mkdirSync(join(dir, 'etc'), { recursive: true });
    writeFileSync(join(dir, 'etc/os-release'), osRelease);
  }
  return dir;
}

describe('coverage: OS packages of a release no OSV ecosystem is known for', () => {
  const cases = [
    { name: 'dpkg packages and no os-release', osRelease: undefined, scope: 'os: unknown (no os-release)' },
    { name: 'an unknown distribution', osRelease: 'ID=gentoo\nVERSION_ID=2.14\n', scope: 'os: gentoo 2.14' },
  ];
  for (const { name, osRelease, scope } of cases) {
    it(`${name}: exit 3 naming ${scope}; --allow-missing-data reports the packages unchecked and gates fail`, async (t) => {
      const dir = await tempDir(t);
      const target = `dir:${dpkgRootfs(join(dir, 'rootfs'), osRelease)}`;
      // a store with data for other ecosystems: the packages are still not checked
      const db = join(dir, 'db');
      await lading(['db', 'import', join(OSV_DIR, 'Debian'), '--db-dir', db, '-q']);
      const refused = await lading(['scan', target, '--db-dir', db, '-o', 'json', '-q'], 3);
      assert.equal(refused.stdout, '');
      assert.equal(
        refused.stderr,
        `lading: no OSV ecosystem known for ${scope} (7 packages): those packages cannot be checked; pass --allow-missing-data to report those packages as unchecked\n`,
      );

      const allowed = await lading(['scan', target, '--db-dir', db, '--allow-missing-data', '-o', 'json']);
      const report = parseReport(allowed.stdout);
      const debs = report.packages.filter((p) => p.type === 'deb').map((p) => p.id);
      assert.equal(debs.length, 7);
      assert.deepEqual(report.coverage, {
        complete: false,
        gaps: [
          {
            kind: 'no-data',
            scope,
            message: 'no OSV ecosystem known for this operating system release',
            packageIds: debs,
          },
        ],
      });
      assert.equal(report.findings.length, 0);

      const table = await lading(['scan', target, '--db-dir', db, '--allow-missing-data']);
      assert.match(
        table.stdout,
        new RegExp(
          `^NOT CHECKED: ${scope.replace(/[()]/g, '\\$&')}: no OSV ecosystem known for this operating system release \\(7 packages\\)$`,
          'm',
        ),
      );
      const gated = await lading(['scan', target, '--db-dir', db, '--allow-missing-data', '--fail-on', 'low'], 1);
      assert.match(gated.stdout + gated.stderr, new RegExp(`not checked: ${scope.replace(/[()]/g, '\\$&')}`));
    });
  }

  it('no store at all: the unknown release is named, not a missing database', async (t) => {
    const dir = await tempDir(t);
    const target = `dir:${dpkgRootfs(join(dir, 'rootfs'))}`;
    const r = await lading(['scan', target, '--db-dir', join(dir, 'none'), '-q'], 3);
    assert.match(r.stderr, /^lading: no OSV ecosystem known for os: unknown \(no os-release\) \(7 packages\)/);
  });

  it('an SBOM whose OS purls carry no distro qualifier: the gap says what the SBOM lacked', async (t) => {
    const dir = await tempDir(t);
    const sbom = join(dir, 'bom.cdx.json');
    writeFileSync(
      sbom,
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        version: 1,
        components: [
          { type: 'library', name: 'bash', version: '5.2.15-2', purl: 'pkg:deb/debian/bash@5.2.15-2' },
          {
            type: 'library',
            name: 'zlib1g',
            version: '1:1.2.13.dfsg-1',
            purl: 'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1',
          },
        ],
      }),
    );
    const refused = await lading(['scan', `sbom:${sbom}`, '--db-dir', join(dir, 'db'), '-q'], 3);
    assert.match(
      refused.stderr,
      /^lading: no OSV ecosystem known for os: unknown \(no OS component or purl distro qualifier in the SBOM\) \(2 packages\)/,
    );
    const allowed = await lading([
      'scan',
      `sbom:${sbom}`,
      '--db-dir',
      join(dir, 'db'),
      '--allow-missing-data',
      '-o',
      'json',
    ]);
    assert.equal(
      parseReport(allowed.stdout).coverage?.gaps[0]?.scope,
      'os: unknown (no OS component or purl distro qualifier in the SBOM)',
    );
  });
});

describe('automatic update: data arrives on first use', () => {
  const ONLINE = { LADING_SKIP_DB_UPDATE: '' };

  it('a first scan downloads what it needs from the mirror and matches; a second within the day does not', async (t) => {
    const dir = await tempDir(t);
    const server = await startFileServer(t, {
      '/Debian/all.zip': { body: dumpOf('Debian') },
      '/npm/all.zip': { body: dumpOf('npm') },
      '/PyPI/all.zip': { body: dumpOf('PyPI') },
      '/known_exploited_vulnerabilities.json': {
        body: JSON.stringify({ catalogVersion: '2025.01.01', vulnerabilities: [{ cveID: 'CVE-2023-4911' }] }),
      },
    });
    const env = { ...ONLINE, LADING_DB_SOURCE: server.url, LADING_DB_DIR: join(dir, 'db') };
    const first = await runCli(['scan', TARGET, '-o', 'json'], { env });
    assert.equal(first.code, 0, first.stderr);
    const report = parseReport(first.stdout);
    assert.equal(report.coverage, undefined, 'everything was checked');
    assert.ok(
      report.findings.some((f) => f.package.type === 'deb'),
      'Debian packages were matched',
    );
    const fetched = server.requests.map((r) => r.path).filter((p) => p.endsWith('all.zip'));
    assert.deepEqual(fetched.sort(), ['/Debian/all.zip', '/PyPI/all.zip', '/npm/all.zip']);

    const before = server.requests.length;
    const second = await runCli(['scan', TARGET, '-o', 'json'], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(server.requests.length, before, 'data from today is not fetched again');

    const skipped = await runCli(['scan', TARGET, '-o', 'json'], {
      env: { ...env, LADING_DB_DIR: join(dir, 'other'), LADING_SKIP_DB_UPDATE: '1' },
    });
    assert.equal(skipped.code, 3, 'LADING_SKIP_DB_UPDATE=1 fetches nothing');
    assert.equal(server.requests.length, before);
  });

  it('the download shows its progress on a terminal, and not with -q or on a pipe', async (t) => {
    const dir = await tempDir(t);
    const server = await startFileServer(t, {
      '/Debian/all.zip': { body: dumpOf('Debian') },
      '/npm/all.zip': { body: dumpOf('npm') },
      '/PyPI/all.zip': { body: dumpOf('PyPI') },
      '/known_exploited_vulnerabilities.json': {
        body: JSON.stringify({ catalogVersion: '2025.01.01', vulnerabilities: [{ cveID: 'CVE-2023-4911' }] }),
      },
    });
    const envFor = (db: string) => ({
      ...process.env,
      ...ONLINE,
      NO_COLOR: '1',
      LADING_DB_SOURCE: server.url,
      LADING_DB_DIR: join(dir, db),
      LADING_CACHE_DIR: join(dir, `cache-${db}`),
    });
    const cli = (extra: string) =>
      `${process.execPath} --conditions=source --import tsx cli/src/bin.ts scan ${TARGET} -o json=/dev/null ${extra}`;
    // `script` gives the child a real pty (process.stderr.isTTY is true there, as for a user); its output is the
    // terminal's, stdout and stderr together
    const terminal = await run('script', ['-qec', cli(''), '/dev/null'], { cwd: REPO_ROOT, env: envFor('tty') });
    assert.match(
      terminal.stdout,
      /lading: fetching vulnerability data for Debian, PyPI, npm \(skip with --skip-db-update\)\r?\n/,
    );
    assert.match(terminal.stdout, /updating Debian\r?\n/);
    assert.match(terminal.stdout, /importing Debian \(\d+ bytes\)\r?\n/);

    const quiet = await run('script', ['-qec', cli('-q'), '/dev/null'], { cwd: REPO_ROOT, env: envFor('quiet') });
    assert.doesNotMatch(quiet.stdout, /fetching|updating|importing/);

    const fetchedBefore = server.requests.filter((r) => r.path === '/Debian/all.zip').length;
    const pipe = await runCli(['scan', TARGET, '-o', 'json=/dev/null'], { env: envFor('pipe') });
    assert.equal(pipe.code, 0, pipe.stderr);
    assert.doesNotMatch(pipe.stderr, /fetching|updating|importing/);
    // each run did download: the silent ones were silent, not idle
    assert.equal(server.requests.filter((r) => r.path === '/Debian/all.zip').length, fetchedBefore + 1);
    assert.equal(fetchedBefore, 2);
  });

  it('offline, or with no mirror reachable, a scan without data fails with exit 3 naming what is missing', async (t) => {
    const dir = await tempDir(t);
    const server = await startFileServer(t, { '/Debian/all.zip': { body: dumpOf('Debian') } });
    const offline = await runCli(['scan', TARGET, '--offline', '-o', 'json'], {
      env: { ...ONLINE, LADING_DB_SOURCE: server.url, LADING_DB_DIR: join(dir, 'a') },
    });
    assert.equal(offline.code, 3);
    assert.match(offline.stderr, /no vulnerability data for Debian:12 \(7 packages\)/);
    assert.equal(server.requests.length, 0, '--offline reaches no mirror');

    const started = Date.now();
    const unreachable = await runCli(['scan', TARGET, '-o', 'json'], {
      env: { ...ONLINE, LADING_DB_SOURCE: 'http://127.0.0.1:1', LADING_DB_DIR: join(dir, 'b') },
    });
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /lading: warning: could not update vulnerability data for Debian, PyPI, npm: /);
    assert.match(unreachable.stderr, /no vulnerability data for Debian:12 \(7 packages\)/);
    assert.ok(Date.now() - started < 60_000, 'fails instead of hanging');
  });
});
