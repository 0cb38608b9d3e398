import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apkVersionMatch, compareApk, isValidApk } from '../../src/versions/apk.js';
import { compareDpkgFragment, dpkgScheme, parseDpkgVersion } from '../../src/versions/dpkg.js';
import { goCanonical, goPseudoVersionBase, goSemverCompare, isGoPseudoVersion } from '../../src/versions/go.js';
import { compareVersions, isValidVersion } from '../../src/versions/index.js';
import { npmSatisfies } from '../../src/versions/npm.js';
import { phpVersionCompare } from '../../src/versions/packagist.js';
import { rpmvercmp } from '../../src/versions/rpm.js';
import { gemCompare } from '../../src/versions/rubygems.js';
import { type Cmp, compareWith, type VersionScheme } from '../../src/versions/scheme.js';
import { describePair, loadVectors, type PairCase } from './fixtures.js';

/** Runs every pair both ways and reports all mismatches at once. */
function checkPairs(cases: PairCase[], compare: (a: string, b: string, c: PairCase) => Cmp): void {
  assert.ok(cases.length > 0);
  const failures: string[] = [];
  for (const c of cases) {
    const ab = compare(c.a, c.b, c);
    const ba = compare(c.b, c.a, c);
    if (ab !== c.cmp || ba !== -c.cmp) failures.push(`${describePair(c)}: got ${ab}/${ba}, want ${c.cmp}`);
  }
  assert.deepEqual(failures, []);
}

const via =
  (ecosystem: string) =>
  (a: string, b: string): Cmp =>
    compareVersions(ecosystem, a, b);

describe('dpkg (dpkg test suite)', () => {
  it('orders every dpkg.json pair like dpkg', () => checkPairs(loadVectors('dpkg.json'), via('Debian')));
  it('orders Ubuntu the same way', () => checkPairs(loadVectors('dpkg.json'), via('Ubuntu:22.04:LTS')));
  it('orders dpkg-fragments.json with verrevcmp (fragments and objects)', () => {
    checkPairs(loadVectors('dpkg-fragments.json'), (a, b) => {
      // the object case "a-0"/"b-0" is a whole version whose upstream does not start with a digit
      if (a.endsWith('-0') && b.endsWith('-0')) return compareWith(dpkgScheme, a, b);
      return compareDpkgFragment(a, b);
    });
  });
  it('splits and judges every dpkg-parse.json input like parseversion()', () => {
    const cases = loadVectors<{
      input: string;
      valid: boolean;
      epoch?: number;
      upstream?: string;
      revision?: string;
      severity?: string;
    }>('dpkg-parse.json');
    const failures: string[] = [];
    for (const c of cases) {
      const r = parseDpkgVersion(c.input);
      const valid = r.version !== undefined && r.problem === undefined;
      if (valid !== c.valid) failures.push(`${JSON.stringify(c.input)}: valid=${valid}`);
      if (c.valid && r.version) {
        const { epoch, upstream, revision } = r.version;
        if (epoch !== c.epoch || upstream !== c.upstream || revision !== c.revision) {
          failures.push(`${JSON.stringify(c.input)}: split ${epoch}/${upstream}/${revision}`);
        }
      }
      if (c.severity && r.problem?.severity !== c.severity) {
        failures.push(`${JSON.stringify(c.input)}: severity ${r.problem?.severity}, want ${c.severity}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});

describe('apk (apk-tools test suite)', () => {
  const all = loadVectors('apk.json');
  // Pairs that exist only in apk-tools master (v3) and whose answer differs on 2.x, which Lading follows
  // (see src/versions/apk.ts). Asserted here with the 2.x answer so a change is noticed.
  const V2_ANSWERS: Record<string, Cmp> = {
    '1.0~1234 1.0~2345': 0,
    '1.0~1234-r1 1.0~2345-r0': 0,
    '1.0~1234-r1 1.0~1234-r0': 0,
  };
  it('orders every 2.14-stable pair like apk-tools 2.x', () => {
    checkPairs(
      all.filter((c) => !c.not_in_2_14_stable),
      (a, b) => compareApk(a, b),
    );
  });
  it('orders master-only pairs like master except the documented v2/v3 differences', () => {
    const masterOnly = all.filter((c) => c.not_in_2_14_stable);
    checkPairs(masterOnly, (a, b, c) => {
      const got = compareApk(a, b);
      const key = `${c.a} ${c.b}`;
      if (!(key in V2_ANSWERS)) return got;
      // the documented 2.x answer must hold; then report the master answer so the pair counts as checked
      assert.equal(got, V2_ANSWERS[key], `${key}: apk 2.x answer changed`);
      return a === c.a ? c.cmp : (-c.cmp as Cmp);
    });
  });
  it('validates apk-validate.json (master-only lines; two differ on 2.x, asserted with the 2.x answer)', () => {
    const V2_VALIDITY: Record<string, boolean> = { '0.1_pre2~1234abcd': false, '0.1-r': true };
    const failures = loadVectors<{ version: string; valid: boolean }>('apk-validate.json').filter(
      (c) => isValidApk(c.version) !== (V2_VALIDITY[c.version] ?? c.valid),
    );
    assert.deepEqual(failures, []);
  });
  it('matches apk-fuzzy.json with the ~ operators', () => {
    const cases = loadVectors<{ a: string; op: string; b: string; expect: boolean }>('apk-fuzzy.json');
    assert.deepEqual(
      cases.filter((c) => apkVersionMatch(c.a, c.op, c.b) !== c.expect),
      [],
    );
  });
});

describe('rpm (rpm test suite)', () => {
  it('rpmvercmp agrees with rpm.json', () => checkPairs(loadVectors('rpm.json'), rpmvercmp));
  it('EVR comparison agrees with rpm-evr.json', () => checkPairs(loadVectors('rpm-evr.json'), via('Red Hat')));
});

describe('npm semver (node-semver fixtures)', () => {
  it('orders semver.json', () => checkPairs(loadVectors('semver.json'), via('npm')));
  it('evaluates npm-semver-range.json', () => {
    const cases = loadVectors<{ range: string; version: string; satisfies: boolean; options: object }>(
      'npm-semver-range.json',
    );
    const failures = cases.filter((c) => npmSatisfies(c.version, c.range, c.options) !== c.satisfies);
    assert.deepEqual(failures, []);
  });
});

describe('PyPI (pypa/packaging)', () => {
  it('orders pep440.json', () => checkPairs(loadVectors('pep440.json'), via('PyPI')));
  it('validates pep440-invalid.json', () => {
    const cases = loadVectors<{ version: string; valid: boolean }>('pep440-invalid.json');
    assert.deepEqual(
      cases.filter((c) => isValidVersion('PyPI', c.version) !== c.valid),
      [],
    );
  });
});

describe('Go (golang.org/x/mod)', () => {
  it('semver.Compare agrees with golang-semver.json, invalid strings included', () =>
    checkPairs(loadVectors('golang-semver.json'), goSemverCompare));
  it('the Go ecosystem comparator agrees on every pair of valid versions', () => {
    const valid = loadVectors('golang-semver.json').filter((c) => !c.note);
    checkPairs(valid, via('Go'));
  });
  it('canonicalizes and validates golang-semver-canonical.json', () => {
    const cases = loadVectors<{ input: string; canonical: string; valid: boolean }>('golang-semver-canonical.json');
    assert.deepEqual(
      cases.filter((c) => goCanonical(c.input) !== c.canonical || (goCanonical(c.input) !== '') !== c.valid),
      [],
    );
  });
  it('recognizes pseudo-versions and their bases (golang-pseudo.json)', () => {
    const cases = loadVectors<{ version: string; base?: string; base_error?: boolean }>('golang-pseudo.json');
    const failures: string[] = [];
    for (const c of cases) {
      if (c.base_error) {
        assert.throws(() => goPseudoVersionBase(c.version), /INVALID|pseudo|base/i, c.version);
        continue;
      }
      if (!isGoPseudoVersion(c.version)) failures.push(`${c.version}: not recognized`);
      else if (goPseudoVersionBase(c.version) !== c.base)
        failures.push(`${c.version}: base ${goPseudoVersionBase(c.version)}`);
    }
    assert.deepEqual(failures, []);
  });
});

describe('Maven (ComparableVersionTest, master semantics)', () => {
  it('orders every maven.json pair', () => checkPairs(loadVectors('maven.json'), via('Maven')));
});

export type { VersionScheme };

describe('RubyGems (Gem::Version tests)', () => {
  it('Gem::Version order agrees with rubygems.json, blank versions included', () =>
    checkPairs(loadVectors('rubygems.json'), gemCompare));
  it('compareVersions agrees on every non-blank pair and refuses blank versions', () => {
    const cases = loadVectors('rubygems.json');
    checkPairs(
      cases.filter((c) => c.a.trim() !== '' && c.b.trim() !== ''),
      via('RubyGems'),
    );
    assert.throws(() => compareVersions('RubyGems', ' ', '0'), { code: 'INVALID_VERSION' });
  });
});

describe('NuGet (NuGet.Versioning tests)', () => {
  it('orders nuget.json Equal/Less pairs', () => checkPairs(loadVectors('nuget.json'), via('NuGet')));
  it('four-part versions: missing parts are zero, the fourth part orders', () => {
    assert.equal(compareVersions('NuGet', '1.0', '1.0.0.0'), 0);
    assert.equal(compareVersions('NuGet', '1.0.0.1', '1.0.0'), 1);
    assert.equal(compareVersions('NuGet', '4.3.0.1-beta', '4.3.0.1'), -1);
    assert.throws(() => compareVersions('NuGet', '1.0.0.0.0', '1'), { code: 'INVALID_VERSION' });
    assert.throws(() => compareVersions('NuGet', '1.2147483648', '1'), { code: 'INVALID_VERSION' });
  });
});

describe('Packagist (PHP version_compare tests)', () => {
  // PHP's own version_compare tests include strings Composer refuses (`1.2(message)`): they test the comparison
  // Packagist uses after Composer's normalization (native-edges.test.ts), so they run on it directly.
  it('orders php-version-compare.json', () => checkPairs(loadVectors('php-version-compare.json'), phpVersionCompare));
  it('drops a leading v like Composer', () => {
    assert.equal(compareVersions('Packagist', 'v2.4.1', '2.4.1'), 0);
    assert.equal(compareVersions('Packagist', 'v2.4.1-beta1', '2.4.1'), -1);
  });
});

describe('crates.io, Hex, Pub (SemVer 2.0)', () => {
  it('orders the semver.org §11 example chain', () => {
    const chain = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    for (const eco of ['crates.io', 'Hex', 'Pub']) {
      for (let i = 0; i + 1 < chain.length; i++) assert.equal(compareVersions(eco, chain[i]!, chain[i + 1]!), -1);
      assert.equal(compareVersions(eco, '1.0.0+build.1', '1.0.0+build.2'), 0);
      assert.throws(() => compareVersions(eco, 'v1.0.0', '1.0.0'), { code: 'INVALID_VERSION' });
      assert.throws(() => compareVersions(eco, '01.0.0', '1.0.0'), { code: 'INVALID_VERSION' });
    }
  });
});
