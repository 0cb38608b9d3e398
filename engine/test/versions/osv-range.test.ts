import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { OsvAffected } from '../../src/model/osv.js';
import { evaluateAffected } from '../../src/versions/index.js';

function fixture(name: string): OsvAffected {
  return JSON.parse(readFileSync(new URL(`../fixtures/versions/osv/${name}`, import.meta.url), 'utf8')) as OsvAffected;
}

function affected(ecosystem: string, events: object[], type = 'ECOSYSTEM', extra: Partial<OsvAffected> = {}) {
  return { package: { ecosystem, name: 'p' }, ranges: [{ type, events }], ...extra } as OsvAffected;
}

describe('evaluateAffected on real advisories', () => {
  it('Log4Shell: three Maven branches, each with its own fix', () => {
    const a = fixture('log4shell-maven.json');
    assert.deepEqual(evaluateAffected(a, '2.14.1'), { affected: true, fixedVersions: ['2.15.0'] });
    assert.deepEqual(evaluateAffected(a, '2.12.1'), { affected: true, fixedVersions: ['2.12.2'] });
    assert.deepEqual(evaluateAffected(a, '2.0-beta9'), { affected: true, fixedVersions: ['2.3.1'] });
    assert.deepEqual(evaluateAffected(a, '2.12.2'), { affected: false, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '2.15.0'), { affected: false, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '2.17.1'), { affected: false, fixedVersions: [] });
    // 2.13.0-rc1 sorts before 2.13.0 in Maven: between the 2.12.2 fix and the 2.13.0 introduction
    assert.equal(evaluateAffected(a, '2.13.0-rc1').affected, false);
  });

  it('Django: one range with three introduced/fixed pairs (PEP 440 order)', () => {
    const a = fixture('django-pypi.json');
    assert.deepEqual(evaluateAffected(a, '3.2.19'), { affected: true, fixedVersions: ['3.2.20'] });
    assert.deepEqual(evaluateAffected(a, '3.2.20'), { affected: false, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '4.0rc1'), { affected: false, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '4.1.9'), { affected: true, fixedVersions: ['4.1.10'] });
    assert.deepEqual(evaluateAffected(a, '4.2.2'), { affected: true, fixedVersions: ['4.2.3'] });
    assert.deepEqual(evaluateAffected(a, '4.2.3.post1'), { affected: false, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '5.0'), { affected: false, fixedVersions: [] });
  });

  it('lodash: a SEMVER range', () => {
    const a = fixture('lodash-npm.json');
    assert.deepEqual(evaluateAffected(a, '4.17.20'), { affected: true, fixedVersions: ['4.17.21'] });
    assert.equal(evaluateAffected(a, '4.17.21').affected, false);
    assert.equal(evaluateAffected(a, '4.17.21-pre').affected, true);
  });

  it('golang.org/x/net: pseudo-versions order by their timestamps; a v prefix is accepted', () => {
    const a = fixture('x-net-go.json');
    assert.equal(evaluateAffected(a, 'v0.0.0-20220822230855-b0a4917ee28c').affected, true);
    assert.equal(evaluateAffected(a, 'v0.0.0-20220906165146-f3363e06e74c').affected, false);
    assert.equal(evaluateAffected(a, 'v0.1.0').affected, false);
    assert.deepEqual(evaluateAffected(a, 'v0.0.0-20211112202133-69e39bad7dc2').fixedVersions, [
      '0.0.0-20220906165146-f3363e06e74c',
    ]);
  });

  it('openssl in Debian 11: dpkg order with ~ and + and the release suffix of the ecosystem', () => {
    const a = fixture('openssl-debian.json');
    assert.equal(evaluateAffected(a, '1.1.1n-0+deb11u3').affected, true);
    assert.equal(evaluateAffected(a, '1.1.1n-0+deb11u4').affected, false);
    assert.equal(evaluateAffected(a, '1.1.1n-0+deb11u4~bpo1').affected, true);
    assert.equal(evaluateAffected(a, '1.1.1w-0+deb11u1').affected, false);
  });

  it('zlib in Alpine 3.16: apk order with -rN', () => {
    const a = fixture('zlib-alpine.json');
    assert.deepEqual(evaluateAffected(a, '1.2.12-r1'), { affected: true, fixedVersions: ['1.2.12-r2'] });
    assert.equal(evaluateAffected(a, '1.2.12-r2').affected, false);
    assert.equal(evaluateAffected(a, '1.2.12_rc1-r5').affected, true);
    assert.equal(evaluateAffected(a, '1.2.13-r0').affected, false);
  });
});

describe('evaluateAffected: the OSV evaluation rules', () => {
  it('sorts unsorted events with the ecosystem order before sweeping', () => {
    const a = affected('Debian', [
      { fixed: '1.10-1' },
      { introduced: '1.2-1' },
      { fixed: '2.1-1' },
      { introduced: '2.0-1' },
    ]);
    assert.deepEqual(evaluateAffected(a, '1.9-1'), { affected: true, fixedVersions: ['1.10-1'] });
    assert.deepEqual(evaluateAffected(a, '1.10-1'), { affected: false, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '2.0~rc1-1'), { affected: false, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '2.0-1'), { affected: true, fixedVersions: ['2.1-1'] });
    assert.deepEqual(evaluateAffected(a, '1.1-1'), { affected: false, fixedVersions: [] });
  });

  it('last_affected is inclusive and gives no fixed version', () => {
    const a = affected('PyPI', [{ introduced: '0' }, { last_affected: '2.1.214' }]);
    assert.deepEqual(evaluateAffected(a, '2.1.214'), { affected: true, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '2.1.214.post1'), { affected: false, fixedVersions: [] });
  });

  it('fixed is exclusive; introduced is inclusive', () => {
    const a = affected('npm', [{ introduced: '1.0.0' }, { fixed: '1.0.2' }]);
    assert.equal(evaluateAffected(a, '1.0.0').affected, true);
    assert.equal(evaluateAffected(a, '0.9.9').affected, false);
    assert.equal(evaluateAffected(a, '1.0.2').affected, false);
  });

  it('limit bounds the range (exclusive); several limits widen it; "*" is infinity', () => {
    const a = affected('RubyGems', [{ introduced: '0' }, { limit: '2.0' }]);
    const ok = affected('Go', [{ introduced: '1.0.0' }, { limit: '1.5.0' }, { limit: '3.0.0' }]);
    assert.equal(evaluateAffected(ok, '2.0.0').affected, true);
    assert.equal(evaluateAffected(ok, '3.0.0').affected, false);
    const star = affected('Go', [{ introduced: '1.0.0' }, { limit: '*' }]);
    assert.equal(evaluateAffected(star, '99.0.0').affected, true);
    assert.deepEqual(evaluateAffected(star, '99.0.0').skipped, undefined);
    assert.equal(evaluateAffected(a, '1.9.9').affected, true);
    assert.equal(evaluateAffected(a, '2.0').affected, false);
  });

  it('exact versions[] match even without ranges, and GIT ranges are ignored', () => {
    const a: OsvAffected = {
      package: { ecosystem: 'PyPI', name: 'paramiko' },
      ranges: [{ type: 'GIT', repo: 'https://example.invalid/r', events: [{ introduced: 'abc123' }] }],
      versions: ['0.1-bulbasaur', '1.7.5'],
    };
    assert.deepEqual(evaluateAffected(a, '0.1-bulbasaur'), { affected: true, fixedVersions: [] });
    assert.deepEqual(evaluateAffected(a, '1.7.6'), { affected: false, fixedVersions: [] });
    assert.equal(evaluateAffected(a, 'abc123').affected, false);
  });

  it('several ranges: any match counts and each contributes its own fix', () => {
    const a: OsvAffected = {
      package: { ecosystem: 'npm', name: 'x' },
      ranges: [
        { type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.4.0' }] },
        { type: 'ECOSYSTEM', events: [{ introduced: '1.2.0' }, { fixed: '1.3.5' }] },
      ],
    };
    assert.deepEqual(evaluateAffected(a, '1.3.0'), { affected: true, fixedVersions: ['1.4.0', '1.3.5'] });
  });

  it('SEMVER ranges use SemVer 2.0 even for an ecosystem with its own order', () => {
    // In PEP 440 1.0.0rc1 is a pre-release of 1.0.0; SemVer 2.0 cannot parse it: the installed version is invalid there
    const semver = affected('PyPI', [{ introduced: '0' }, { fixed: '1.0.0' }], 'SEMVER');
    const r = evaluateAffected(semver, '1.0.0rc1');
    assert.equal(r.affected, false);
    assert.match(r.invalid ?? '', /invalid SemVer version/);
    assert.equal(evaluateAffected(semver, '1.0.0-rc.1').affected, true);
    const eco = affected('PyPI', [{ introduced: '0' }, { fixed: '1.0.0' }]);
    assert.equal(evaluateAffected(eco, '1.0.0rc1').affected, true);
  });

  it('an invalid installed version is not affected and says why, without throwing', () => {
    const a = affected('Debian', [{ introduced: '0' }, { fixed: '1.0-1' }]);
    for (const bad of ['', ' ', '1.0-', ':1', 'x'.repeat(10_000), '١٢٣']) {
      const r = evaluateAffected(a, bad);
      assert.equal(r.affected, false, JSON.stringify(bad.slice(0, 10)));
      assert.match(r.invalid ?? '', /invalid dpkg version/);
    }
  });

  it('an unknown ecosystem does not throw; exact versions still match', () => {
    const a: OsvAffected = {
      package: { ecosystem: 'Hackage', name: 'x' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
      versions: ['1.0'],
    };
    assert.match(evaluateAffected(a, '2.0').invalid ?? '', /unknown ecosystem/);
    assert.equal(evaluateAffected(a, '1.0').affected, true);
  });

  it('an event with an unparseable version is skipped and reported', () => {
    const a = affected('npm', [{ introduced: 'not-a-version' }, { introduced: '2.0.0' }, { fixed: '2.1.0' }]);
    const r = evaluateAffected(a, '2.0.5');
    assert.equal(r.affected, true);
    assert.equal(r.skipped?.length, 1);
    assert.equal(evaluateAffected(a, '1.0.0').affected, false);
  });

  it('hostile shapes: missing package, events not an array, non-string event values', () => {
    assert.deepEqual(evaluateAffected({} as OsvAffected, '1.0'), { affected: false, fixedVersions: [] });
    const weird = {
      package: { ecosystem: 'npm', name: 'x' },
      ranges: [
        { type: 'SEMVER', events: 'nope' },
        { type: 'SEMVER', events: [{ introduced: 5 }, null, {}] },
      ],
    } as unknown as OsvAffected;
    assert.deepEqual(evaluateAffected(weird, '1.0.0'), { affected: false, fixedVersions: [] });
  });
});
