import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareVersions } from '../../src/versions/index.js';

const digits = fc.stringMatching(/^(0|[1-9][0-9]{0,3})$/);
const padded = fc.stringMatching(/^[0-9]{1,4}$/);
const opt = <T>(arb: fc.Arbitrary<T>, empty: T) => fc.option(arb, { nil: undefined }).map((v) => v ?? empty);

/** Version generators per ecosystem: well-formed strings in the shapes each ecosystem really uses. */
const GENERATORS: Record<string, fc.Arbitrary<string>> = {
  Debian: fc
    .tuple(
      opt(
        digits.map((e) => `${e}:`),
        '',
      ),
      padded,
      fc.array(fc.stringMatching(/^[.+~]?[0-9a-z]{1,3}$/), { maxLength: 4 }),
      opt(fc.stringMatching(/^-[0-9][0-9a-z.+~]{0,5}$/), ''),
    )
    .map(([e, u, rest, r]) => `${e}${u}${rest.join('')}${r}`),
  Alpine: fc
    .tuple(
      fc.array(digits, { minLength: 1, maxLength: 4 }),
      opt(fc.constantFrom('a', 'b', 'z'), ''),
      fc.array(
        fc.tuple(fc.constantFrom('alpha', 'beta', 'pre', 'rc', 'cvs', 'svn', 'git', 'hg', 'p'), opt(digits, '')),
        {
          maxLength: 2,
        },
      ),
      opt(
        digits.map((n) => `-r${n}`),
        '',
      ),
    )
    .map(
      ([nums, letter, sufs, rev]) => `${nums.join('.')}${letter}${sufs.map(([s, n]) => `_${s}${n}`).join('')}${rev}`,
    ),
  'Red Hat': fc
    .tuple(
      opt(
        digits.map((e) => `${e}:`),
        '',
      ),
      fc.stringMatching(/^[0-9][0-9a-z._~^]{0,8}$/),
      fc.stringMatching(/^[0-9a-z][0-9a-z._~^]{0,6}$/),
    )
    .map(([e, v, r]) => `${e}${v}-${r}`),
  npm: fc
    .tuple(digits, digits, digits, opt(fc.stringMatching(/^-(alpha|beta|rc|0|[1-9][0-9]?)(\.(0|[1-9]|x))?$/), ''))
    .map(([a, b, c, p]) => `${a}.${b}.${c}${p}`),
  PyPI: fc
    .tuple(
      fc.array(digits, { minLength: 1, maxLength: 4 }),
      opt(
        fc.tuple(fc.constantFrom('a', 'b', 'rc'), digits).map(([s, n]) => `${s}${n}`),
        '',
      ),
      opt(
        digits.map((n) => `.post${n}`),
        '',
      ),
      opt(
        digits.map((n) => `.dev${n}`),
        '',
      ),
      opt(fc.stringMatching(/^\+[a-z0-9]{1,4}$/), ''),
    )
    .map(([rel, pre, post, dev, local]) => `${rel.join('.')}${pre}${post}${dev}${local}`),
  Go: fc
    .tuple(digits, digits, digits, opt(fc.stringMatching(/^-(0\.[0-9]{14}-[0-9a-f]{12}|pre|rc\.[1-9])$/), ''))
    .map(([a, b, c, p]) => `v${a}.${b}.${c}${p}`),
  Maven: fc
    .array(
      fc.tuple(
        fc.constantFrom('.', '-'),
        fc.oneof(
          padded,
          fc.constantFrom('alpha', 'beta', 'rc', 'cr', 'm1', 'SNAPSHOT', 'sp', 'ga', 'final', 'foo', 'a1'),
        ),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((parts) => parts.map(([sep, p], i) => (i === 0 ? p : sep + p)).join('')),
  RubyGems: fc
    .tuple(digits, fc.array(fc.oneof(digits, fc.constantFrom('a', 'b', 'pre', 'rc', 'beta')), { maxLength: 4 }))
    .map(([head, rest]) => [head, ...rest].join('.')),
  NuGet: fc
    .tuple(
      fc.array(digits, { minLength: 1, maxLength: 4 }),
      opt(fc.stringMatching(/^-(alpha|Beta|RC|[1-9])(\.[0-9a-z]{1,3})?$/), ''),
    )
    .map(([nums, pre]) => `${nums.join('.')}${pre}`),
  // shapes Composer's VersionParser accepts: `dev` only ends a version, it takes no number
  Packagist: fc
    .tuple(
      fc.array(digits, { minLength: 1, maxLength: 3 }),
      opt(
        fc.tuple(fc.constantFrom('-alpha', 'beta', '-RC', 'pl', '.p'), opt(digits, '')).map(([s, n]) => s + n),
        '',
      ),
      opt(fc.constant('-dev'), ''),
    )
    .map(([nums, s, dev]) => `${nums.join('.')}${s}${dev}`),
  'crates.io': fc
    .tuple(digits, digits, digits, opt(fc.stringMatching(/^-(alpha|beta|0|[1-9])(\.(0|[1-9]|x))?$/), ''))
    .map(([a, b, c, p]) => `${a}.${b}.${c}${p}`),
};

const RUNS = { numRuns: 300 };

describe('comparators are total orders on generated versions (fast-check)', () => {
  for (const [ecosystem, arb] of Object.entries(GENERATORS)) {
    it(`${ecosystem}: reflexive, antisymmetric, transitive`, () => {
      const cmp = (a: string, b: string) => compareVersions(ecosystem, a, b);
      fc.assert(
        fc.property(arb, (a) => cmp(a, a) === 0),
        RUNS,
      );
      fc.assert(
        fc.property(arb, arb, (a, b) => cmp(a, b) === -cmp(b, a)),
        RUNS,
      );
      fc.assert(
        fc.property(arb, arb, arb, (a, b, c) => {
          const [x, y, z] = [a, b, c].sort(cmp);
          return (
            cmp(x!, y!) <= 0 &&
            cmp(y!, z!) <= 0 &&
            cmp(x!, z!) <= 0 &&
            (cmp(x!, y!) !== 0 || cmp(x!, z!) === cmp(y!, z!))
          );
        }),
        RUNS,
      );
    });
  }
});

describe('hostile versions: a clear INVALID_VERSION, quickly', () => {
  const ECOSYSTEMS = Object.keys(GENERATORS);
  /** What the native tool itself orders although the scheme's grammar rejects it (see native-edges.test.ts). */
  const NATIVE_ORDERS: Record<string, string[]> = {
    // apk_version_compare: an invalid first token, equal to any other, below any digit
    Alpine: ['', ' ', '\t', '١.٢.٣', '１.２.３'],
    // rpmverParse refuses only the empty string; rpmvercmp skips every non-alphanumeric byte
    'Red Hat': [' ', '\t', '١.٢.٣', '１.２.３'],
  };

  it('empty and blank strings are refused by every ecosystem whose tool refuses them', () => {
    for (const eco of ECOSYSTEMS) {
      for (const bad of ['', ' ', '\t']) {
        if (NATIVE_ORDERS[eco]?.includes(bad)) {
          assert.equal(compareVersions(eco, bad, '1.0.0'), -1, `${eco} ${JSON.stringify(bad)}`);
          continue;
        }
        assert.throws(
          () => compareVersions(eco, bad, '1.0.0'),
          { code: 'INVALID_VERSION' },
          `${eco} ${JSON.stringify(bad)}`,
        );
      }
    }
  });

  it('non-ASCII digits never pass for digits (Arabic-Indic, full-width)', () => {
    for (const eco of ECOSYSTEMS.filter((e) => e !== 'Maven')) {
      for (const bad of ['١.٢.٣', '１.２.３']) {
        if (NATIVE_ORDERS[eco]?.includes(bad)) {
          // ordered, as apk and rpm order any bytes, but never as the number 1.2.3
          assert.equal(compareVersions(eco, bad, '1.2.3'), -1, `${eco} ${bad}`);
          continue;
        }
        assert.throws(() => compareVersions(eco, bad, '1.2.3'), { code: 'INVALID_VERSION' }, `${eco} ${bad}`);
      }
    }
    // Maven orders any text (its own suite compares "é" and U+0668), but never as a number
    assert.equal(compareVersions('Maven', '1', '٨'), 1);
    assert.equal(compareVersions('Maven', '9', '٨'), 1);
  });

  it('10,000-character versions are refused in well under a millisecond each, never quadratic', () => {
    const long = [
      '1'.repeat(10_000),
      `1.${'0.'.repeat(5_000)}1`,
      `1${'-'.repeat(10_000)}`,
      `1.0${'a1'.repeat(5_000)}`,
      `1${' '.repeat(10_000)}1`,
    ];
    for (const eco of ECOSYSTEMS) {
      const start = process.hrtime.bigint();
      for (const v of long) {
        assert.throws(() => compareVersions(eco, v, '1.0.0'), { code: 'INVALID_VERSION' }, eco);
      }
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(ms < 250, `${eco}: ${ms} ms for five 10k-character versions`);
    }
  });

  it('the longest accepted versions (256 characters) still compare in linear time', () => {
    const cases: Record<string, string> = {
      Debian: `1${'.1'.repeat(127)}`,
      Alpine: `1${'.1'.repeat(127)}`,
      'Red Hat': `1${'.1'.repeat(127)}`,
      Maven: `1${'-1'.repeat(127)}`,
      PyPI: `1${'.1'.repeat(127)}`,
      RubyGems: `1${'.a'.repeat(127)}`,
      // Composer takes at most four numbers; the stability number may be long
      Packagist: `1.1.1.1-beta${'.1'.repeat(121)}`,
    };
    for (const [eco, v] of Object.entries(cases)) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 100; i++) compareVersions(eco, v, `${v.slice(0, -1)}2`);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(ms < 1000, `${eco}: ${ms} ms for 100 comparisons`);
    }
  });

  it('huge numeric components compare exactly (no float rounding)', () => {
    const big = '18446744073709551616';
    const bigger = '18446744073709551617';
    for (const eco of ['Debian', 'Alpine', 'Red Hat', 'Maven', 'RubyGems', 'Packagist', 'crates.io', 'Go']) {
      const [a, b] = eco === 'Go' ? [`v1.0.${big}`, `v1.0.${bigger}`] : [`1.0.${big}`, `1.0.${bigger}`];
      assert.equal(compareVersions(eco, a, b), -1, eco);
    }
  });

  it('an unknown ecosystem is a usage error', () => {
    assert.throws(() => compareVersions('Hackage', '1', '2'), { code: 'USAGE' });
    assert.equal(compareVersions('debian:12', '1.0', '1.0~rc1'), 1);
    assert.equal(compareVersions('Alpine:v3.19', '1.0-r1', '1.0-r0'), 1);
  });
});
