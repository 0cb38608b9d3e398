import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUbuntuLts, osvEcosystem } from '../../src/catalog/os/release/ecosystem.js';
import {
  ADVISORY_ONLY_ECOSYSTEMS,
  familyOfPurlNamespace,
  isOsPackageType,
  isPackageType,
  OS_FAMILIES,
  type OsFamilyFacts,
  osvEcosystemSchemes,
  PACKAGE_TYPE_NAMES,
  PACKAGE_TYPES,
  type PackageTypeFacts,
} from '../../src/model/ecosystems.js';
import { REPORT_SCHEMA } from '../../src/report/report-schema.js';
import { SYFT_TYPES } from '../../src/sbom/package-from-component.js';
import { comparatorFor, SCHEMES_BY_NAME } from '../../src/versions/ecosystems.js';
import { normalizePackageName } from '../../src/vulndb/names.js';

describe('the ecosystem table', () => {
  it('is the package-type enum of the report schema', () => {
    const pkgType = REPORT_SCHEMA.properties.packages.items.properties.type;
    assert.deepEqual(pkgType.enum, PACKAGE_TYPE_NAMES);
    assert.deepEqual(PACKAGE_TYPE_NAMES, [
      'deb',
      'apk',
      'rpm',
      'npm',
      'pypi',
      'golang',
      'maven',
      'gem',
      'cargo',
      'composer',
      'nuget',
    ]);
  });

  it('gives every OSV ecosystem it names a comparator, and the unknown-ecosystem error lists them all', () => {
    const known = osvEcosystemSchemes();
    for (const [osv, scheme] of known) {
      assert.equal(comparatorFor(osv), SCHEMES_BY_NAME[scheme], osv);
      assert.equal(comparatorFor(`${osv}:1`), SCHEMES_BY_NAME[scheme], `${osv} with a release`);
    }
    for (const osv of ['Debian', 'Red Hat', 'Alpaquita', 'openEuler', 'Mageia', 'crates.io', 'Hex', 'Pub']) {
      assert.ok(
        known.some(([name]) => name === osv),
        osv,
      );
    }
    assert.throws(
      () => comparatorFor('Nope'),
      (err: Error) =>
        known.every(([osv]) => err.message.includes(osv)) && /^unknown ecosystem "Nope"/.test(err.message),
    );
    assert.deepEqual(Object.keys(ADVISORY_ONLY_ECOSYSTEMS), ['Hex', 'Pub']);
  });

  it('spells each distribution the os-release rules map with its family prefix, ordered by its type scheme', () => {
    const samples: Record<string, { versionId?: string; prettyName?: string; cpeName?: string }> = {
      debian: { versionId: '12' },
      ubuntu: { versionId: '22.04' },
      alpine: { versionId: '3.19.1' },
      wolfi: {},
      chainguard: {},
      rhel: { versionId: '9.3', cpeName: 'cpe:/o:redhat:enterprise_linux:9::baseos' },
      rocky: { versionId: '9.3' },
      almalinux: { versionId: '9.3' },
      sles: { versionId: '15.5', prettyName: 'SUSE Linux Enterprise Server 15 SP5' },
      'opensuse-leap': { versionId: '15.5' },
      azurelinux: { versionId: '3.0' },
      photon: { versionId: '5.0' },
      mageia: { versionId: '9' },
    };
    for (const [id, facts] of Object.entries(samples)) {
      const family = (OS_FAMILIES as Record<string, OsFamilyFacts>)[id];
      assert.ok(family, id);
      const ecosystem = osvEcosystem({ id, ...facts });
      assert.ok(ecosystem?.startsWith(family.osv), `${id} → ${ecosystem}`);
      const scheme = PACKAGE_TYPES[family.packageType].scheme;
      assert.equal(comparatorFor(ecosystem as string), SCHEMES_BY_NAME[scheme], id);
    }
    assert.equal(osvEcosystem({ id: 'opensuse-tumbleweed' }), 'openSUSE:Tumbleweed');
    assert.ok(isUbuntuLts('22.04'));
  });

  it('maps purl vendor namespaces to os-release IDs (only where they differ)', () => {
    assert.deepEqual(['redhat', 'amazon', 'suse', 'opensuse', 'alma', 'debian', 'nope'].map(familyOfPurlNamespace), [
      'rhel',
      'amzn',
      'sles',
      'opensuse-leap',
      'almalinux',
      undefined,
      undefined,
    ]);
  });

  it('derives the Syft type aliases SBOM readers use', () => {
    assert.deepEqual(
      { ...SYFT_TYPES },
      {
        deb: 'deb',
        apk: 'apk',
        rpm: 'rpm',
        npm: 'npm',
        python: 'pypi',
        'go-module': 'golang',
        'java-archive': 'maven',
        'jenkins-plugin': 'maven',
        gem: 'gem',
        'rust-crate': 'cargo',
        'php-composer': 'composer',
        dotnet: 'nuget',
      },
    );
  });

  it('tells OS from language types, and known types from others', () => {
    assert.deepEqual(PACKAGE_TYPE_NAMES.filter(isOsPackageType), ['deb', 'apk', 'rpm']);
    assert.equal(isOsPackageType('hex'), false);
    assert.equal(isPackageType('cargo'), true);
    assert.equal(isPackageType('hex'), false);
    assert.equal(isPackageType('toString'), false);
  });

  it('normalizes advisory lookup names per the table (PEP 503, crates.io, case-insensitive registries)', () => {
    assert.equal(normalizePackageName('PyPI', ' Flask_SQLAlchemy '), 'flask-sqlalchemy');
    assert.equal(normalizePackageName('PyPI', 'zope.interface'), 'zope-interface');
    assert.equal(normalizePackageName('crates.io', 'Serde_JSON'), 'serde-json');
    for (const eco of ['npm', 'NuGet', 'Packagist', 'Maven', 'Go'])
      assert.equal(normalizePackageName(eco, 'Ab.C_d'), 'ab.c_d');
    assert.equal(normalizePackageName('RubyGems', 'Rails_X'), 'Rails_X');
    assert.equal(normalizePackageName('Debian:12', ' Foo '), 'Foo');
  });

  it('refuses, at compile time, an entry that misses a field', () => {
    const incomplete = {
      // @ts-expect-error a language type without its version scheme is not a PackageTypeFacts
      x: { kind: 'language', osv: 'X', nameKey: 'exact', advisoryName: 'name', syftTypes: [] },
    } as const satisfies Record<string, PackageTypeFacts>;
    assert.ok(incomplete);
  });
});
