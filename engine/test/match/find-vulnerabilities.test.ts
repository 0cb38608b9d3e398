import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import type { Finding } from '../../src/model/finding.js';
import type { Inventory } from '../../src/model/inventory.js';
import { releaseCoverage } from '../../src/vulndb/coverage.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { VulnStoreReader } from '../../src/vulndb/reader.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { tempDir } from '../helpers/tmp.js';
import { buildZip } from '../helpers/zip-writer.js';
import { ecosystemEntries, FIXTURES, OSV_FIXTURES } from '../vulndb/fixtures.js';
import { ALPINE_310, DEBIAN_9, DEBIAN_12, LAYER, pkg } from './inventory-helpers.js';

const NOW = new Date('2026-01-10T00:00:00Z');

async function storeWithFixtures(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t);
  const store = VulnStoreWriter.open(dir);
  try {
    await importPaths(
      store,
      [OSV_FIXTURES, `${FIXTURES}known_exploited_vulnerabilities.json`, `${FIXTURES}epss_scores-current.csv`],
      NOW,
    );
  } finally {
    store.close();
  }
  return dir;
}

function only(findings: Finding[], packageName: string): Finding[] {
  return findings.filter((f) => f.package.name === packageName);
}

describe('findVulnerabilities on real OSV records', () => {
  it('matches Debian binaries through their source package and source version, one finding per CVE', async (t) => {
    const dir = await storeWithFixtures(t);
    const inventory: Inventory = {
      os: DEBIAN_9,
      warnings: [],
      packages: [
        // Binaries of e2fsprogs 1.43.4-2: the advisory names only the source package.
        pkg('deb', 'libcomerr2', '1.43.4-2', { source: { name: 'e2fsprogs' } }),
        // A binNMU-style binary version that differs from its source version: the source version decides.
        pkg('deb', 'libss2', '9.9.9-1+b1', { source: { name: 'e2fsprogs', version: '1.43.4-2' } }),
        // Already fixed on Debian 9.
        pkg('deb', 'e2fslibs', '1.43.4-2+deb9u1', { source: { name: 'e2fsprogs' } }),
      ],
    };
    const result = await findVulnerabilities(inventory, { dbDir: dir, offline: true, now: NOW });
    const comerr = only(result.findings, 'libcomerr2');
    assert.equal(comerr.length, 1, JSON.stringify(comerr.map((f) => f.id)));
    const f = comerr[0]!;
    assert.equal(f.id, 'CVE-2019-5094');
    assert.deepEqual(f.aliases, ['DEBIAN-CVE-2019-5094', 'DSA-4535-1']);
    assert.equal(f.status, 'fixed');
    assert.deepEqual(f.fixedVersions, ['1.43.4-2+deb9u1']);
    assert.equal(f.layer, LAYER);
    assert.equal(f.advisory.ecosystem, 'Debian:9');
    assert.equal(f.epss, 0.00317);
    assert.equal(f.kev, false);
    // Debian's urgency is `not yet assigned`: the CVSS vector decides (AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H = 8.4).
    assert.equal(f.severity, 'HIGH');
    assert.equal(f.severitySource, 'cvss');
    assert.deepEqual(f.cvss, [
      {
        version: '3.1',
        vector: 'CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
        score: 8.4,
        source: 'DEBIAN-CVE-2019-5094',
      },
    ]);
    assert.equal(only(result.findings, 'libss2').length, 1, 'binary version must not decide');
    assert.equal(only(result.findings, 'e2fslibs').length, 0, 'fixed version is not affected');
    assert.deepEqual(Object.keys(result.db.ecosystems), ['Debian']);
  });

  it('reports an unfixed Debian CVE the tracker rates unimportant as will-not-fix, LOW', async (t) => {
    const dir = await storeWithFixtures(t);
    const inventory: Inventory = {
      os: DEBIAN_12,
      warnings: [],
      packages: [pkg('deb', 'coreutils', '9.1-1')],
    };
    const result = await findVulnerabilities(inventory, { dbDir: dir, offline: true, now: NOW });
    assert.equal(result.findings.length, 1);
    const f = result.findings[0]!;
    assert.equal(f.id, 'CVE-2016-2781');
    assert.equal(f.status, 'will-not-fix');
    assert.deepEqual(f.fixedVersions, []);
    assert.equal(f.severity, 'LOW');
    assert.equal(f.severitySource, 'distro');
  });

  it('does not match the exact fixed version (Debian openssl, Alpine musl 1.1.22-r3)', async (t) => {
    const dir = await storeWithFixtures(t);
    const debian = await findVulnerabilities(
      {
        os: DEBIAN_12,
        warnings: [],
        packages: [
          pkg('deb', 'libssl3', '3.0.11-1~deb12u2', { source: { name: 'openssl' } }),
          pkg('deb', 'openssl', '3.0.11-1~deb12u1'),
        ],
      },
      { dbDir: dir, offline: true, now: NOW },
    );
    assert.deepEqual(
      debian.findings.map((f) => `${f.package.name} ${f.id} ${f.aliases.join(',')}`),
      ['openssl CVE-2023-5363 DEBIAN-CVE-2023-5363,DSA-5532-1'],
    );
    const alpine = await findVulnerabilities(
      {
        os: ALPINE_310,
        warnings: [],
        packages: [
          pkg('apk', 'musl', '1.1.22-r3', { path: '/lib/apk/db/installed' }),
          pkg('apk', 'musl-utils', '1.1.22-r2', { source: { name: 'musl' }, path: '/lib/apk/db/installed' }),
        ],
      },
      { dbDir: dir, offline: true, now: NOW },
    );
    assert.deepEqual(
      alpine.findings.map((f) => `${f.package.name} ${f.id} ${f.status} ${f.fixedVersions.join(',')}`),
      ['musl-utils CVE-2019-14697 fixed 1.1.22-r3'],
    );
  });

  it('matches language packages: PyPI aliases merge, last_affected is inclusive, withdrawn is ignored', async (t) => {
    const dir = await storeWithFixtures(t);
    const inventory: Inventory = {
      warnings: [],
      packages: [
        pkg('pypi', 'Requests', '2.30.0', {
          path: '/usr/lib/python3/site-packages/requests-2.30.0.dist-info/METADATA',
        }),
        pkg('pypi', 'py', '1.11.0', { path: '/app/py-1.11.0.dist-info/METADATA' }),
        pkg('npm', 'lodash', '4.17.20', { path: '/app/node_modules/lodash/package.json' }),
        pkg('npm', 'lodash', '4.17.21', { path: '/app/node_modules/x/node_modules/lodash/package.json' }),
        pkg('golang', 'stdlib', '1.19.0', { path: '/app/server' }),
        pkg('golang', 'net', 'v0.0.0-20220826154423-83b083e8dc8b', { namespace: 'golang.org/x', path: '/app/server' }),
        pkg('maven', 'log4j-core', '2.14.1', { namespace: 'org.apache.logging.log4j', path: '/app/app.jar' }),
        pkg('maven', 'log4j-core', '2.12.2', { namespace: 'org.apache.logging.log4j', path: '/app/other.jar' }),
      ],
    };
    const result = await findVulnerabilities(inventory, { dbDir: dir, offline: true, now: NOW });
    const summary = result.findings.map((f) => `${f.package.name}@${f.package.version} ${f.id}`).sort();
    assert.deepEqual(summary, [
      'Requests@2.30.0 CVE-2023-32681',
      'lodash@4.17.20 CVE-2021-23337',
      'log4j-core@2.14.1 CVE-2021-44228',
      'net@v0.0.0-20220826154423-83b083e8dc8b CVE-2022-27664',
      'py@1.11.0 CVE-2022-42969',
      'stdlib@1.19.0 CVE-2022-27664',
    ]);
    const requests = result.findings.find((f) => f.package.name === 'Requests')!;
    assert.deepEqual(requests.aliases, ['GHSA-j8r2-6x86-q33q', 'PYSEC-2023-74']);
    assert.deepEqual(requests.fixedVersions, ['2.31.0']);
    assert.equal(requests.epss, 0.00171);
    const py = result.findings.find((f) => f.package.name === 'py')!;
    assert.equal(py.status, 'affected');
    assert.deepEqual(py.fixedVersions, []);
    const log4j = result.findings.find((f) => f.package.name === 'log4j-core')!;
    assert.equal(log4j.kev, true);
    assert.deepEqual(log4j.fixedVersions, ['2.15.0']);
    assert.equal(log4j.severity, 'CRITICAL');
    const lodash = result.findings.find((f) => f.package.name === 'lodash')!;
    assert.equal(lodash.severity, 'HIGH');
    assert.equal(lodash.cvss[0]?.score, 7.2);
    const stdlib = result.findings.find((f) => f.package.name === 'stdlib')!;
    assert.deepEqual(stdlib.fixedVersions, ['1.19.1']);
    assert.deepEqual(stdlib.aliases, ['GHSA-69cg-p879-7622', 'GO-2022-0969']);
  });

  it('throws NO_DB when there is no data for the needed ecosystems, after naming them, and writes nothing', async (t) => {
    const dir = await tempDir(t);
    const inventory: Inventory = { os: DEBIAN_12, warnings: [], packages: [pkg('deb', 'coreutils', '9.1-1')] };
    const told: string[][] = [];
    const options = { dbDir: dir, offline: true, now: NOW, onNeededEcosystems: (n: string[]) => told.push(n) };
    await assert.rejects(findVulnerabilities(inventory, options), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'NO_DB');
      assert.match(err.message, /Debian/);
      return true;
    });
    assert.deepEqual(told, [['Debian']]);
    assert.deepEqual(readdirSync(dir), [], 'a scan creates no database and no bookkeeping file');
  });

  it('warns when the data is more than a week old; an ecosystem without data fails the scan, naming it', async (t) => {
    const dir = await storeWithFixtures(t);
    const later = new Date(NOW.getTime() + 8 * 86_400_000);
    const rack = pkg('gem', 'rack', '2.0.0', { path: '/app/Gemfile.lock' });
    const inventory: Inventory = { os: DEBIAN_12, warnings: [], packages: [pkg('deb', 'coreutils', '9.1-1'), rack] };
    await assert.rejects(findVulnerabilities(inventory, { dbDir: dir, offline: true, now: later }), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'NO_DB');
      assert.equal((err as { option?: string }).option, 'allowMissingData');
      assert.match(
        err.message,
        /^no vulnerability data for RubyGems \(1 package\) in .*; run `lading db update --ecosystem RubyGems`/,
      );
      assert.doesNotMatch(err.message, /Debian/);
      return true;
    });
    const result = await findVulnerabilities(inventory, {
      dbDir: dir,
      offline: true,
      now: later,
      allowMissingData: true,
    });
    const messages = result.warnings.map((w) => w.message).join('\n');
    assert.match(messages, /Debian vulnerability data is from .*more than a week old/);
    assert.deepEqual(result.gaps, [
      { kind: 'no-data', scope: 'RubyGems', message: 'no vulnerability data', packageIds: [rack.id] },
    ]);
    assert.equal(result.findings.length, 1);
  });
});

describe('coverage per release', () => {
  async function storeOf(t: Parameters<typeof tempDir>[0], paths: string[]): Promise<string> {
    const dir = await tempDir(t);
    const store = VulnStoreWriter.open(dir);
    try {
      await importPaths(store, paths, NOW);
    } finally {
      store.close();
    }
    return dir;
  }

  it('records for Debian 9 and 10 do not cover Debian 12: the scan fails naming Debian:12 and its packages', async (t) => {
    const dir = await storeOf(t, [
      join(OSV_FIXTURES, 'Debian', 'DSA-4535-1.json'),
      join(OSV_FIXTURES, 'Debian', 'DEBIAN-CVE-2019-5094.json'),
    ]);
    const packages = [pkg('deb', 'coreutils', '9.1-1'), pkg('deb', 'bash', '5.2.15-2')];
    const bookworm: Inventory = { os: DEBIAN_12, warnings: [], packages };
    await assert.rejects(findVulnerabilities(bookworm, { dbDir: dir, offline: true, now: NOW }), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'NO_DB');
      assert.match(err.message, /^no vulnerability data for Debian:12 \(2 packages\) in /);
      assert.match(err.message, /lading db update --ecosystem Debian:12/);
      return true;
    });
    const allowed = await findVulnerabilities(bookworm, {
      dbDir: dir,
      offline: true,
      now: NOW,
      allowMissingData: true,
    });
    assert.deepEqual(allowed.gaps, [
      { kind: 'no-data', scope: 'Debian:12', message: 'no vulnerability data', packageIds: packages.map((p) => p.id) },
    ]);
    assert.deepEqual(allowed.db.ecosystems, {}, 'no data was used');

    const stretch: Inventory = {
      os: DEBIAN_9,
      warnings: [],
      packages: [pkg('deb', 'libcomerr2', '1.43.4-2', { source: { name: 'e2fsprogs' } })],
    };
    const matched = await findVulnerabilities(stretch, { dbDir: dir, offline: true, now: NOW });
    assert.deepEqual(matched.gaps, []);
    assert.deepEqual(
      matched.findings.map((f) => f.id),
      ['CVE-2019-5094'],
    );
  });

  it('OS packages of a release without an OSV ecosystem are a gap, named beside missing data, never fetched', async (t) => {
    const dir = await storeOf(t, [join(OSV_FIXTURES, 'Debian', 'DSA-4535-1.json')]);
    const deb = pkg('deb', 'bash', '5.2.15-2');
    const lodash = pkg('npm', 'lodash', '4.17.20');
    const inventory: Inventory = { os: { family: 'debian', version: '' }, warnings: [], packages: [deb, lodash] };
    const asked: string[][] = [];
    const options = { dbDir: dir, offline: false, now: NOW, prepareData: async (r: string[]) => void asked.push(r) };
    await assert.rejects(findVulnerabilities(inventory, options), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'NO_DB');
      assert.match(
        err.message,
        /^no OSV ecosystem known for os: debian \(release unknown\) \(1 package\): those packages cannot be checked; no vulnerability data for npm \(1 package\) in .*; run `lading db update --ecosystem npm` \(or `lading db import` offline\), or pass the allowMissingData option/,
      );
      return true;
    });
    assert.deepEqual(asked, [['npm']], 'no download can bring data for an unknown release');
    const allowed = await findVulnerabilities(inventory, { ...options, allowMissingData: true });
    assert.deepEqual(allowed.gaps, [
      {
        kind: 'no-data',
        scope: 'os: debian (release unknown)',
        message: 'no OSV ecosystem known for this operating system release',
        packageIds: [deb.id],
      },
      { kind: 'no-data', scope: 'npm', message: 'no vulnerability data', packageIds: [lodash.id] },
    ]);
    assert.equal(
      allowed.warnings.some((w) => /not matched/.test(w.message)),
      false,
      'a gap, not a warning',
    );
  });

  it("an ecosystem's whole dump (all.zip) covers every release, even one it holds no record for", async (t) => {
    const root = await tempDir(t);
    const zip = join(root, 'Debian-all.zip');
    writeFileSync(zip, buildZip(ecosystemEntries('Debian')));
    const dir = await storeOf(t, [zip]);
    const trixie: Inventory = {
      os: { family: 'debian', version: '13', ecosystem: 'Debian:13' },
      warnings: [],
      packages: [pkg('deb', 'coreutils', '9.7-3')],
    };
    const result = await findVulnerabilities(trixie, { dbDir: dir, offline: true, now: NOW });
    assert.deepEqual(result.gaps, []);
    assert.deepEqual(result.db.ecosystems, { Debian: NOW.toISOString() });
    const store = VulnStoreReader.open(dir)!;
    t.after(() => store.close());
    assert.deepEqual(releaseCoverage(store, 'Debian:13'), {
      ecosystem: 'Debian:13',
      covered: true,
      basis: 'dump',
      records: 0,
      newestRecord: store.ecosystem('Debian')!.highWater,
      updatedAt: NOW.toISOString(),
    });
  });

  it('a GHSA the npm data carries does not make PyPI covered, though it names a PyPI package', async (t) => {
    const root = await tempDir(t);
    const record = {
      id: 'GHSA-test-both-ways',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'npm', name: 'left-pad' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
        },
        {
          package: { ecosystem: 'PyPI', name: 'leftpad' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
        },
      ],
    };
    writeFileSync(join(root, 'GHSA-test-both-ways.json'), JSON.stringify(record));
    const dir = await storeOf(t, [join(root, 'GHSA-test-both-ways.json')]);
    const store = VulnStoreReader.open(dir)!;
    t.after(() => store.close());
    assert.equal(releaseCoverage(store, 'npm').covered, true);
    assert.equal(releaseCoverage(store, 'npm').records, 1);
    assert.equal(releaseCoverage(store, 'PyPI').covered, false);
  });
});
