import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, isValidVersion } from '../../src/versions/index.js';
import { normalizeComposerVersion } from '../../src/versions/packagist.js';
import { parseRpmEvr } from '../../src/versions/rpm.js';
import type { Cmp } from '../../src/versions/scheme.js';

/*
 * Strings a scheme's grammar calls ill-formed but the native tool still orders: each case gives the order the native
 * function named beside it computes (read from its source), asserted both ways.
 */
function both(ecosystem: string, a: string, b: string, want: Cmp): void {
  assert.equal(compareVersions(ecosystem, a, b), want, `${ecosystem} ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  assert.equal(
    compareVersions(ecosystem, b, a),
    want === 0 ? 0 : -want,
    `${ecosystem} ${JSON.stringify(b)} vs ${JSON.stringify(a)}`,
  );
}

describe('apk: apk_version_compare orders invalid strings by its token walk (apk-tools 2.14 src/version.c)', () => {
  it('an invalid token sorts below the end of the other version (TOKEN_INVALID > TOKEN_END → LESS)', () => {
    assert.equal(isValidVersion('Alpine', '1.0 beta'), false);
    both('Alpine', '1.0 beta', '1.0', -1);
    both('Alpine', '1.0é', '1.0', -1);
    both('Alpine', '1.0é', '1.0a', -1);
  });
  it('two versions that turn invalid at the same token are equal up to there', () => {
    both('Alpine:v3.19', '1.0 beta', '1.0 gamma', 0);
    both('Alpine', '1.0!', '1.0#', 0);
    both('Wolfi', 'abc', 'xyz', 0);
  });
  it('the tokens before the invalid one still decide', () => {
    both('Alpine', '1.2 x', '1.1', 1);
    both('Alpine', '1.2 x', '1.10', -1);
  });
  it('a pre-release suffix on the other side still sorts it first (ta.suffix < SUFFIX_NONE → LESS)', () => {
    both('Alpine', '1.0é', '1.0_alpha', 1);
  });
  it('the empty string is an invalid first token: equal to another invalid start, below any digit', () => {
    both('Alpine', '', 'abc', 0);
    both('Alpine', '', '0', -1);
  });
  it('only what a C string cannot hold is refused (a NUL), besides the length cap', () => {
    assert.throws(() => compareVersions('Alpine', '1.0\0x', '1.0'), { code: 'INVALID_VERSION' });
    assert.throws(() => compareVersions('Alpine', '1'.repeat(300), '1.0'), { code: 'INVALID_VERSION' });
  });
});

describe('rpm: parseEVR (lib/rpmver.c) then rpmverCmp, each part by rpmvercmp (rpmio/rpmvercmp.c)', () => {
  it('an epoch is only leading digits followed by a colon; `:` alone is epoch 0', () => {
    assert.deepEqual(parseRpmEvr('1:2.0-1'), { epoch: '1', version: '2.0', release: '1' });
    assert.deepEqual(parseRpmEvr(':1.0'), { epoch: '0', version: '1.0' });
    both('Red Hat', ':1.0', '0:1.0', 0);
    both('Red Hat', ':1.0', '1.0', 0);
    both('Red Hat', '2:1.0:3-1', '2:1.0.3-1', 0);
  });
  it('anything else before a colon is no epoch: the colon stays in the version as a separator', () => {
    assert.deepEqual(parseRpmEvr('a:1.0-1'), { epoch: '0', version: 'a:1.0', release: '1' });
    assert.deepEqual(parseRpmEvr('1a:2'), { epoch: '0', version: '1a:2' });
    both('Red Hat', 'a:1.0', '1:0.1', -1);
    // rpmvercmp: a letter segment against a digit segment, the digits are newer
    both('Red Hat', 'a:1.0', '1.0', -1);
    both('Red Hat', '1a:2', '1a.2', 0);
  });
  it('empty parts are kept: `1:` has an empty version, `1.0-` an empty release', () => {
    assert.deepEqual(parseRpmEvr('1:'), { epoch: '1', version: '' });
    assert.deepEqual(parseRpmEvr('1.0-'), { epoch: '0', version: '1.0', release: '' });
    assert.deepEqual(parseRpmEvr('-1'), { epoch: '0', version: '', release: '1' });
    both('Red Hat', '1:', '0:9', 1);
    both('Red Hat', '1:', '1:0', -1);
  });
  it('a missing release sorts before any release, even an empty one (compare_values)', () => {
    both('Red Hat', '1.0', '1.0-1', -1);
    both('Red Hat', '1.0-', '1.0', 1);
    both('Red Hat', '1.0-', '1.0-0', -1);
  });
  it('spaces and other bytes are separators, as rpmvercmp skips every non-alphanumeric', () => {
    both('Rocky Linux:9', '1.0 beta-1', '1.0.beta-1', 0);
    both('AlmaLinux', '1.0é2', '1.0.2', 0);
  });
  it('still refuses the empty string (rpmverParse returns NULL)', () => {
    assert.throws(() => compareVersions('Red Hat', '', '1'), { code: 'INVALID_VERSION' });
  });
});

describe('Packagist: composer/semver VersionParser::normalize, then version_compare (Comparator)', () => {
  // successfulNormalizedVersions in composer/semver tests/VersionParserTest.php
  const NORMALIZED: [string, string][] = [
    ['1.0.0', '1.0.0.0'],
    ['1.2.3.4', '1.2.3.4'],
    ['1.0.0RC1dev', '1.0.0.0-RC1-dev'],
    ['1.0.0-rC15-dev', '1.0.0.0-RC15-dev'],
    ['1.0.0.RC.15-dev', '1.0.0.0-RC15-dev'],
    ['1.0.0-rc1', '1.0.0.0-RC1'],
    ['1.0.0.pl3-dev', '1.0.0.0-patch3-dev'],
    ['1.0-dev', '1.0.0.0-dev'],
    ['0', '0.0.0.0'],
    ['10.4.13-beta', '10.4.13.0-beta'],
    ['10.4.13beta2', '10.4.13.0-beta2'],
    ['10.4.13beta.2', '10.4.13.0-beta2'],
    ['10.4.13-b', '10.4.13.0-beta'],
    ['10.4.13-b5', '10.4.13.0-beta5'],
    ['v1.0.0', '1.0.0.0'],
    ['2010.01', '2010.01.0.0'],
    ['2010.01.02', '2010.01.02.0'],
    ['2010.1.555', '2010.1.555.0'],
    ['v20100102', '20100102'],
    ['2010-01-02', '2010.01.02'],
    ['2010-01-02.5', '2010.01.02.5'],
    ['20100102-203040', '20100102.203040'],
    ['20150920.0.0', '20150920.0.0'],
    ['20100102203040-10', '20100102203040.10'],
    ['20100102-203040-p1', '20100102.203040-patch1'],
    ['1.x-dev', '1.9999999.9999999.9999999-dev'],
    ['dev-feature-foo', 'dev-feature-foo'],
    ['DEV-FOOBAR', 'dev-FOOBAR'],
    ['dev-feature/foo', 'dev-feature/foo'],
    ['dev-feature+issue-1', 'dev-feature+issue-1'],
    ['1.0.0-beta.5+foo', '1.0.0.0-beta5'],
    ['1.0.0+foo', '1.0.0.0'],
    ['1.0.0-alpha.3.1+foo', '1.0.0.0-alpha3.1'],
    ['1.0.0-alpha2.1+foo', '1.0.0.0-alpha2.1'],
    ['1.0.0-alpha-2.1-3+foo', '1.0.0.0-alpha2.1-3'],
    ['1.0.0+foo as 2.0', '1.0.0.0'],
    // VersionParser::normalize source: trim, `@stability` flags, bare default-branch names
    [' 1.0 ', '1.0.0.0'],
    ['1.0@dev', '1.0.0.0'],
    ['master', 'dev-master'],
  ];
  it('normalizes like VersionParser::normalize', () => {
    const failures = NORMALIZED.filter(([input, want]) => normalizeComposerVersion(input) !== want).map(
      ([input, want]) => `${JSON.stringify(input)} → ${normalizeComposerVersion(input)}, want ${want}`,
    );
    assert.deepEqual(failures, []);
  });
  it('refuses what it refuses (failingNormalizedVersions, and version_compare-only strings)', () => {
    for (const input of ['', 'a', '1.0.0-meh', '1.0.0.0.0', 'feature-foo', '1.0.0+foo bar', '1.2(message)', 'dev']) {
      assert.throws(() => compareVersions('Packagist', input, '1.0.0'), { code: 'INVALID_VERSION' }, input);
      assert.equal(isValidVersion('Packagist', input), false, input);
    }
  });
  it('orders the normalized forms: spellings Composer treats as one version are equal', () => {
    both('Packagist', '1.0', '1.0.0', 0);
    both('Packagist', 'v1.0.0', '1.0.0.0', 0);
    both('Packagist', '1.0-b2', '1.0.0-beta2', 0);
    both('Packagist', '1.0.0-rc1', '1.0.0-RC1', 0);
    both('Packagist', '1.0@dev', '1.0', 0);
    both('Packagist', '1.0.0 as 2.0.0', '1.0.0', 0);
    both('Packagist', '1.0.0+build5', '1.0.0', 0);
    both('Packagist', '1.0.0-p1', '1.0.0', 1);
    both('Packagist', '2.x-dev', '2.5.0', 1);
    // a branch against a version: version_compare reads `dev` as its lowest special form
    both('Packagist', 'dev-master', '1.0.0', -1);
  });
  it('a long digit run before a mismatch is refused at once (PCRE possessive quantifier, made atomic)', () => {
    const start = process.hrtime.bigint();
    assert.throws(() => compareVersions('Packagist', `1.0.0-beta${'1'.repeat(240)}!`, '1'), {
      code: 'INVALID_VERSION',
    });
    assert.ok(Number(process.hrtime.bigint() - start) / 1e6 < 250);
  });
});

describe('dpkg: what `dpkg --compare-versions` only warns about', () => {
  // dpkg's parseversion() reports one warning, the first: a version not starting with a digit is not checked for
  // characters, and cmpversions() then compares it anyway. Lading orders the former like dpkg but refuses characters
  // outside dpkg's alphabet wherever they are (a deliberate rule), so `abc!!` is refused (exit 2 in the CLI).
  it('orders an upstream not starting with a digit, as dpkg does (verrevcmp: letters before the end)', () => {
    both('Debian', 'abc', '1', 1);
    both('Debian', 'abc', 'abd', -1);
  });
  it('refuses characters outside its alphabet even after that first warning', () => {
    assert.throws(() => compareVersions('Debian', 'abc!!', '1'), {
      code: 'INVALID_VERSION',
      message: /invalid character/,
    });
    assert.throws(() => compareVersions('Debian', '0:0!-0', '1'), { code: 'INVALID_VERSION' });
  });
});
