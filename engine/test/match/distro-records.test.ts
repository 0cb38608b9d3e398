import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { findVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import type { Finding } from '../../src/model/finding.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { OsInfo } from '../../src/model/os.js';
import type { Package } from '../../src/model/package.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { FIXTURES } from '../vulndb/fixtures.js';
import { pkg } from './inventory-helpers.js';

const NOW = new Date('2026-01-10T00:00:00Z');
const DISTRO_FIXTURES = join(FIXTURES, 'osv-distros');

// What src/catalog/os/release/ puts in os.ecosystem for these images (see test/catalog/os/release.test.ts).
const UBUNTU_1604: OsInfo = { family: 'ubuntu', version: '16.04', ecosystem: 'Ubuntu:16.04:LTS' };
const UBUNTU_1610: OsInfo = { family: 'ubuntu', version: '16.10', ecosystem: 'Ubuntu:16.10' };
const RHEL_9: OsInfo = { family: 'rhel', version: '9.4', ecosystem: 'Red Hat:enterprise_linux:9::baseos' };
const RHEL_8: OsInfo = { family: 'rhel', version: '8.10', ecosystem: 'Red Hat:enterprise_linux:8::baseos' };
const ALMA_8: OsInfo = { family: 'almalinux', version: '8.8', ecosystem: 'AlmaLinux:8' };
const ALMA_9: OsInfo = { family: 'almalinux', version: '9.1', ecosystem: 'AlmaLinux:9' };
const SLES_15_SP5: OsInfo = { family: 'sles', version: '15.5', ecosystem: 'SUSE:Linux Enterprise Server 15 SP5' };
const SLES_15_SP4: OsInfo = { family: 'sles', version: '15.4', ecosystem: 'SUSE:Linux Enterprise Server 15 SP4' };

/** An rpm as src/catalog/os/rpm/cataloger.ts reports it: `epoch:version-release`, source from SOURCERPM. */
function rpm(name: string, version: string, source?: string, modularityLabel?: string): Package {
  const extra: Parameters<typeof pkg>[3] = { path: '/var/lib/rpm/rpmdb.sqlite' };
  if (source) extra.source = { name: source };
  if (modularityLabel) extra.metadata = { 'rpm.modularitylabel': modularityLabel };
  return pkg('rpm', name, version, extra);
}

let dbDir = '';

async function scan(os: OsInfo, packages: Package[]): Promise<Finding[]> {
  const inventory: Inventory = { os, warnings: [], packages };
  // Some cases ask for a release the fixtures hold no record for (16.10, RHEL 8, SP4), to see that no other
  // release's entries match: those scans go on with the release reported as a coverage gap.
  const result = await findVulnerabilities(inventory, { dbDir, offline: true, now: NOW, allowMissingData: true });
  return result.findings;
}

function of(findings: Finding[], name: string): Finding[] {
  return findings.filter((f) => f.package.name === name);
}

describe('matching real Ubuntu, Red Hat, AlmaLinux and SUSE records', () => {
  before(async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    dbDir = mkdtempSync(join(tmpdir(), 'lading-distro-'));
    process.once('exit', () => rmSync(dbDir, { recursive: true, force: true }));
    const store = VulnStoreWriter.open(dbDir);
    try {
      await importPaths(store, [DISTRO_FIXTURES], NOW);
    } finally {
      store.close();
    }
  });

  it('Ubuntu: matches binaries by source package, folds the USN into its CVE, rates by Ubuntu priority', async () => {
    const findings = await scan(UBUNTU_1604, [
      pkg('deb', 'bash', '4.3-14ubuntu1.1', { source: { name: 'bash' } }),
      pkg('deb', 'bash-builtins', '4.3-14ubuntu1.1', { source: { name: 'bash' } }),
      pkg('deb', 'bash-doc', '4.3-14ubuntu1.2', { source: { name: 'bash' } }),
    ]);
    const bash = of(findings, 'bash');
    assert.deepEqual(
      bash.map((f) => [f.id, f.aliases]),
      [['CVE-2016-0634', ['USN-3294-1']]],
    );
    const f = bash[0]!;
    assert.equal(f.status, 'fixed');
    assert.deepEqual(f.fixedVersions, ['4.3-14ubuntu1.2']);
    assert.equal(f.advisory.ecosystem, 'Ubuntu:16.04:LTS');
    // ubuntu_priority `low` outranks the record's CVSS 3.0 vector (7.5, HIGH)
    assert.equal(f.severity, 'LOW');
    assert.equal(f.severitySource, 'distro');
    assert.equal(f.cvss[0]?.score, 7.5);
    assert.equal(of(findings, 'bash-builtins').length, 1, 'a binary of the same source is matched too');
    assert.equal(of(findings, 'bash-doc').length, 0, 'the fixed version is not affected');
  });

  it('Ubuntu: a release the record does not name (16.10, non-LTS) gets nothing from the 16.04:LTS entries', async () => {
    const findings = await scan(UBUNTU_1610, [pkg('deb', 'bash', '4.3-14ubuntu1.1', { source: { name: 'bash' } })]);
    assert.deepEqual(findings, []);
    const bare: OsInfo = { ...UBUNTU_1604, ecosystem: 'Ubuntu:16.04' };
    assert.deepEqual(await scan(bare, [pkg('deb', 'bash', '4.3-14ubuntu1.1')]), [], 'the :LTS suffix is part of it');
  });

  it('Ubuntu: an unfixed CVE is affected in its release, and Pro (ESM) entries do not apply to a plain image', async () => {
    const jammy: OsInfo = { family: 'ubuntu', version: '22.04', ecosystem: 'Ubuntu:22.04:LTS' };
    const findings = await scan(jammy, [pkg('deb', 'libgcrypt20', '1.9.4-3ubuntu3')]);
    assert.deepEqual(
      findings.map((f) => [f.id, f.status, f.fixedVersions, f.severity]),
      [['CVE-2024-2236', 'affected', [], 'UNKNOWN']],
    );
    const bionic: OsInfo = { family: 'ubuntu', version: '18.04', ecosystem: 'Ubuntu:18.04:LTS' };
    assert.deepEqual(await scan(bionic, [pkg('deb', 'libgcrypt20', '1.8.1-4ubuntu1.3')]), []);
  });

  it('Red Hat: a binary rpm is matched through its source rpm, across baseos/appstream, epoch 0 = no epoch', async () => {
    const findings = await scan(RHEL_9, [
      rpm('openssh-server', '8.7p1-38.el9_4', 'openssh'),
      rpm('openssh-askpass', '8.7p1-38.el9_4', 'openssh'),
      rpm('openssh-keycat', '8.7p1-38.el9_4', 'openssh'),
      rpm('openssh-clients', '8.7p1-38.el9_4.1', 'openssh'),
    ]);
    const server = of(findings, 'openssh-server');
    assert.equal(server.length, 1);
    const f = server[0]!;
    assert.equal(f.id, 'CVE-2024-6387');
    assert.deepEqual(f.aliases, ['RHSA-2024:4312']);
    assert.deepEqual(f.fixedVersions, ['0:8.7p1-38.el9_4.1']);
    assert.equal(f.severity, 'HIGH', 'from the `Important:` title');
    assert.equal(f.severitySource, 'distro');
    assert.equal(of(findings, 'openssh-askpass')[0]?.advisory.ecosystem, 'Red Hat:enterprise_linux:9::appstream');
    // keycat is not named by the record, but its source rpm is
    assert.equal(of(findings, 'openssh-keycat').length, 1);
    assert.equal(of(findings, 'openssh-clients').length, 0, '8.7p1-38.el9_4.1 equals 0:8.7p1-38.el9_4.1');
    assert.deepEqual(await scan(RHEL_8, [rpm('openssh-server', '8.0p1-19.el8_8', 'openssh')]), []);
  });

  it('Red Hat: a modular fix applies to its stream only, never to another stream or a plain package', async () => {
    const findings = await scan(RHEL_9, [
      rpm('nodejs', '1:20.14.0-1.module+el9.4.0+21742+692df1ea', 'nodejs', 'nodejs:20:9040020240606104231:rhel9'),
      rpm('nodejs-docs', '1:20.16.0-1.module+el9.4.0+22197+9e60f127', 'nodejs', 'nodejs:20:9040020240807145403:rhel9'),
      rpm('npm', '1:18.20.2-1.module+el9.4.0+21731+46b5c7b6', 'nodejs', 'nodejs:18:9040020240508132108:rhel9'),
      rpm('nodejs-full-i18n', '1:16.20.2-8.el9_4', 'nodejs'),
    ]);
    const node = of(findings, 'nodejs');
    assert.deepEqual(
      node.map((f) => [f.id, f.fixedVersions]),
      [['RHSA-2024:5814', ['1:20.16.0-1.module+el9.4.0+22197+9e60f127']]],
    );
    assert.equal(node[0]!.severity, 'MEDIUM', 'from the `Moderate:` title');
    assert.equal(of(findings, 'nodejs-docs').length, 0, 'the fixed build (epoch 1) is not affected');
    assert.equal(of(findings, 'npm').length, 0, 'the nodejs:18 stream is not fixed by a nodejs:20 update');
    assert.equal(of(findings, 'nodejs-full-i18n').length, 0, 'a non-modular package is not matched by a modular fix');
  });

  it('AlmaLinux: binary names, epochs, and a module stream named only in the title', async () => {
    const findings = await scan(ALMA_8, [
      rpm(
        'mariadb-server',
        '3:10.3.35-1.module_el8.6.0+3022+9bd1e5a4',
        'mariadb',
        'mariadb:10.3:8060020220718080213:ad008a3a',
      ),
      rpm('mariadb', '3:10.5.16-2.module_el8.7.0+3256+d3d5e8f1', 'mariadb', 'mariadb:10.5:8070020221101:c1f3fdb7'),
      rpm('mariadb-connector-c', '3.1.11-2.el8_3', 'mariadb-connector-c'),
    ]);
    const server = of(findings, 'mariadb-server');
    assert.equal(server.length, 1);
    assert.equal(server[0]!.id, 'ALSA-2023:5259');
    assert.deepEqual(server[0]!.fixedVersions, ['3:10.3.39-1.module_el8.8.0+3609+204d4ab0']);
    assert.equal(server[0]!.severity, 'MEDIUM');
    assert.equal(of(findings, 'mariadb').length, 0, 'the mariadb:10.5 stream is not fixed by the 10.3 update');
    assert.equal(of(findings, 'mariadb-connector-c').length, 0);

    const nine = await scan(ALMA_9, [
      rpm('libtiff-tools', '4.4.0-1.el9', 'libtiff'),
      rpm('libtiff', '4.4.0-2.el9', 'libtiff'),
    ]);
    assert.deepEqual(
      nine.map((f) => [f.package.name, f.id, f.fixedVersions]),
      [['libtiff-tools', 'ALSA-2022:8194', ['4.4.0-2.el9']]],
    );
  });

  it('SUSE: a binary is matched through its source package under the module of its service pack', async () => {
    const packages = [
      rpm('libopenssl3', '3.0.8-150500.5.7.1', 'openssl-3'),
      rpm('openssl-3', '3.0.8-150500.5.8.1', 'openssl-3'),
    ];
    const findings = await scan(SLES_15_SP5, packages);
    assert.deepEqual(
      findings.map((f) => [f.package.name, f.id, f.fixedVersions, f.advisory.ecosystem]),
      [['libopenssl3', 'CVE-2023-2975', ['3.0.8-150500.5.8.1'], 'SUSE:Linux Enterprise Module for Basesystem 15 SP5']],
    );
    assert.deepEqual(findings[0]!.aliases, ['SUSE-SU-2023:3289-1']);
    assert.deepEqual(await scan(SLES_15_SP4, packages), [], 'another service pack is another release');
  });
});
