import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cvssBaseScore, cvssScore, severityOf } from '../../../src/match/cvss/index.js';
import { roundup31 } from '../../../src/match/cvss/v3.js';

interface Case {
  vector: string;
  score: number;
  source?: string;
}
const vectors = JSON.parse(readFileSync(new URL('./fixtures/vectors.json', import.meta.url), 'utf8')) as {
  v4: Case[];
  v4_first_examples: Case[];
  v4_macrovectors: Case[];
  v4_disputed: Case[];
  v3: Case[];
  v2: Case[];
};

function mismatches(cases: Case[]): string[] {
  return cases
    .filter((c) => cvssScore(c.vector)?.score !== c.score)
    .map((c) => `${c.vector}: got ${cvssScore(c.vector)?.score}, want ${c.score}`);
}

describe('CVSS v3.x base scores', () => {
  it('match FIRST v3.1 specification examples and NVD entries (Log4Shell = 10.0)', () => {
    assert.deepEqual(mismatches(vectors.v3), []);
    assert.deepEqual(cvssScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'), {
      version: '3.1',
      score: 10,
      severity: 'Critical',
    });
  });
  it('Roundup avoids floating-point noise (spec Appendix A)', () => {
    assert.equal(roundup31(4.000000000000001), 4.0);
    assert.equal(roundup31(4.02), 4.1);
    assert.equal(roundup31(4.0), 4.0);
  });
  it('temporal and environmental metrics are accepted but leave the base score alone', () => {
    const base = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
    assert.equal(cvssBaseScore(`${base}/E:U/RL:O/RC:C/CR:L/MAV:L`), 9.8);
  });
});

describe('CVSS v4.0 scores', () => {
  it(`match ${vectors.v4.length} scores of FIRST's calculator (base, threat and environmental metrics)`, () => {
    assert.deepEqual(mismatches(vectors.v4), []);
  });
  it(`match all ${vectors.v4_first_examples.length} vectors of FIRST's v4.0 examples page`, () => {
    assert.deepEqual(mismatches(vectors.v4_first_examples), []);
  });
  it(`match the reference calculator on ${vectors.v4_macrovectors.length} MacroVector representatives`, () => {
    assert.deepEqual(mismatches(vectors.v4_macrovectors), []);
  });
  it("a half-way case rounds the way the reference calculator's floating point does", () => {
    assert.deepEqual(mismatches(vectors.v4_disputed), []);
  });
  it('severity bands', () => {
    assert.equal(cvssScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')?.severity, 'Critical');
    assert.equal(cvssScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N')?.severity, 'None');
  });
});

describe('CVSS v2 base scores', () => {
  it('match the CVSS v2 guide examples', () => assert.deepEqual(mismatches(vectors.v2), []));
  it('accepts the parenthesized NVD form and v2 severities have no Critical', () => {
    assert.deepEqual(cvssScore('(AV:N/AC:L/Au:N/C:C/I:C/A:C)'), { version: '2.0', score: 10, severity: 'High' });
  });
});

describe('severity rating', () => {
  it('follows the FIRST bands at every boundary', () => {
    const bands: [number, string][] = [
      [0, 'None'],
      [0.1, 'Low'],
      [3.9, 'Low'],
      [4, 'Medium'],
      [6.9, 'Medium'],
      [7, 'High'],
      [8.9, 'High'],
      [9, 'Critical'],
      [10, 'Critical'],
    ];
    for (const [score, rating] of bands) assert.equal(severityOf(score), rating, String(score));
  });
});

describe('hostile vectors', () => {
  it('are undefined, never a throw', () => {
    const bad = [
      '',
      'CVSS:3.1/',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H',
      'CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1',
      'CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/__proto__:X',
      'AV:N/AC:L/Au:N/C:P/I:P',
      `CVSS:3.1/${'AV:N/'.repeat(10_000)}`,
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/constructor:x',
    ];
    for (const v of bad) assert.equal(cvssScore(v), undefined, v.slice(0, 80));
    assert.equal(cvssScore(42 as unknown as string), undefined);
  });
  it('random strings never throw (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = cvssScore(s);
        return r === undefined || (r.score >= 0 && r.score <= 10);
      }),
      { numRuns: 2000 },
    );
  });
  it('every one of the 104,976 v4 base vectors scores within 0..10 (exhaustive)', () => {
    const values = {
      AV: ['N', 'A', 'L', 'P'],
      AC: ['L', 'H'],
      AT: ['N', 'P'],
      PR: ['N', 'L', 'H'],
      UI: ['N', 'P', 'A'],
      VC: ['H', 'L', 'N'],
      VI: ['H', 'L', 'N'],
      VA: ['H', 'L', 'N'],
      SC: ['H', 'L', 'N'],
      SI: ['H', 'L', 'N'],
      SA: ['H', 'L', 'N'],
    };
    let vectorsSeen = 0;
    const walk = (keys: string[], prefix: string): void => {
      const [key, ...rest] = keys;
      if (key === undefined) {
        const s = cvssBaseScore(`CVSS:4.0${prefix}`);
        assert.ok(s !== undefined && s >= 0 && s <= 10, prefix);
        vectorsSeen++;
        return;
      }
      for (const v of values[key as keyof typeof values]) walk(rest, `${prefix}/${key}:${v}`);
    };
    walk(Object.keys(values), '');
    assert.equal(vectorsSeen, 4 * 2 * 2 * 3 * 3 * 3 ** 6);
  });
});
