// The fix-latency study's functions on hand-checked inputs, and the study re-run on a real slice of the public
// dataset (debian:jessie and its DSAs), checked against the join check the dataset's own README reports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { distroFixLatency } from '../../src/trace/distro.js';
import { exposureEpisodes } from '../../src/trace/episodes.js';
import { analyseSeries } from '../../src/trace/images.js';
import { baseMix, streamLatency } from '../../src/trace/reports.js';
import { kaplanMeierQuantile, latencyStats, quantile } from '../../src/trace/stats.js';
import { readStudyData, runStudy } from '../../src/trace/study.js';
import type { StudyCve, StudyFix, StudyImage } from '../../src/trace/study-data.js';
import { finding, pkg, report } from '../helpers/reports.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2017, 0, 1);
const SLICE = new URL('../fixtures/trace/jessie-slice/', import.meta.url).pathname;

function validator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const schema = JSON.parse(readFileSync(new URL('../../schemas/trace.schema.json', import.meta.url), 'utf8'));
  return ajv.compile(schema);
}

describe('trace statistics', () => {
  it('reads the Kaplan–Meier median and p90 through censored values', () => {
    // S(1)=3/4; the censored 2 leaves the risk set; S(3)=3/4·1/2=3/8 ≤ 1/2 → median 3; S(4)=0 → p90 4.
    const values = [
      { days: 1, censored: false },
      { days: 2, censored: true },
      { days: 3, censored: false },
      { days: 4, censored: false },
    ];
    assert.equal(kaplanMeierQuantile(values, 0.5), 3);
    assert.equal(kaplanMeierQuantile(values, 0.9), 4);
    const stats = latencyStats(values);
    assert.deepEqual(stats, { n: 4, events: 3, censored: 1, medianDays: 3, p90Days: 4, eventsOnlyMedianDays: 3 });
  });

  it('says "not reached" (null) when too few events happened, instead of dropping the censored', () => {
    const values = [
      { days: 5, censored: false },
      { days: 9, censored: true },
      { days: 9, censored: true },
    ];
    assert.equal(kaplanMeierQuantile(values, 0.5), null);
    // Dropping the censored values would claim a median of 5 days.
    assert.equal(latencyStats(values).eventsOnlyMedianDays, 5);
  });

  it('interpolates plain quantiles between order statistics', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([10], 0.9), 10);
    assert.equal(quantile([], 0.5), null);
  });
});

describe('exposure episodes', () => {
  it('closes on the first build without the key and flags a return as a regression', () => {
    const { episodes } = exposureEpisodes([
      { id: 'd3', at: 30, keys: new Set(['x']) },
      { id: 'd1', at: 10, keys: new Set(['x']) },
      { id: 'd2', at: 20, keys: new Set() },
      { id: 'd4', at: 40, keys: new Set(['x', 'y']) },
    ]);
    assert.deepEqual(
      episodes.map((e) => [e.key, e.startedIn, e.closedIn, e.regression]),
      [
        ['x', 'd1', 'd2', false],
        ['x', 'd3', null, true],
        ['y', 'd4', null, false],
      ],
    );
  });
});

const cve = (id: string, publishedAt: number, priority: string): [string, StudyCve] => [
  id,
  { cve: id, publishedAt, priority },
];

describe('distribution fix latency', () => {
  const cves = new Map([
    cve('CVE-2017-0001', T0, 'high'),
    cve('CVE-2017-0002', T0 + 10 * DAY, 'medium'),
    cve('CVE-2017-0003', T0, 'medium'),
    cve('CVE-2017-0004', T0, 'low'),
  ]);
  const fix = (cves: string[], availableAt: number | null, status: StudyFix['status'] = 'fixed'): StudyFix => ({
    distro: 'debian',
    release: 'jessie',
    package: 'openssl',
    fixedVersion: status === 'fixed' ? '1.0.1t-1+deb8u6' : null,
    status,
    availableAt,
    basis: 'dsa',
    cves,
  });
  const options = { from: T0 - DAY, to: T0 + 60 * DAY, observedUntil: T0 + 60 * DAY };

  it('measures from publication to the first fix, censors late fixes and counts end-of-life apart', () => {
    const result = distroFixLatency(
      [
        fix(['CVE-2017-0001'], T0 + 4 * DAY),
        fix(['CVE-2017-0001'], T0 + 9 * DAY), // a regression update later: the first fix counts
        fix(['CVE-2017-0002'], T0 + 8 * DAY), // embargo: fixed before publication, kept negative
        fix(['CVE-2017-0003'], T0 + 90 * DAY), // after the observation: censored at 60 days
        fix(['CVE-2017-0004'], null, 'end-of-life'),
      ],
      cves,
      options,
    );
    const all = result.rows.find((r) => r.severity === 'all');
    assert.ok(all);
    assert.equal(all.latency.n, 3);
    assert.equal(all.latency.censored, 1);
    assert.equal(all.endOfLife, 1);
    // Sorted: -2 (event), 4 (event), 60 (censored): S(-2)=2/3, S(4)=1/3 → median 4 days.
    assert.equal(all.latency.medianDays, 4);
    const high = result.rows.find((r) => r.severity === 'high');
    assert.equal(high?.latency.medianDays, 4);
    const medium = result.rows.find((r) => r.severity === 'medium');
    assert.equal(medium?.latency.n, 2);
    assert.equal(medium?.latency.eventsOnlyMedianDays, -2);
  });

  it('skips ids that are not CVEs, CVEs without a date and releases outside the study', () => {
    const result = distroFixLatency(
      [
        fix(['TEMP-0000001'], T0),
        fix(['CVE-2099-0001'], T0),
        { ...fix(['CVE-2017-0001'], T0), release: 'lenny' },
        // stretch shipped on 2017-06-17: a CVE of 2017-01-01 was fixed in its development branch, not by a DSA.
        { ...fix(['CVE-2017-0001'], T0 + 200 * DAY), release: 'stretch' },
      ],
      cves,
      { ...options, to: T0 + 365 * DAY, observedUntil: T0 + 365 * DAY, releases: ['jessie', 'stretch'] },
    );
    assert.deepEqual(result.skipped, {
      notCve: 1,
      noPublicationDate: 1,
      outsideWindow: 0,
      otherRelease: 1,
      beforeRelease: 1,
    });
    assert.equal(result.rows.length, 0);
  });
});

function build(at: number, codename: string, packages: [string, string, string, string][]): StudyImage {
  return {
    image: 'example',
    tag: 'latest',
    availableAt: at,
    availableBasis: 'registry-push',
    imageId: `sha256:${String(at).padStart(64, '0')}`,
    os: { family: 'debian', version: codename === 'jessie' ? '8' : '9', codename },
    packages: packages.map(([name, version, sourceName, sourceVersion]) => ({
      name,
      version,
      sourceName,
      sourceVersion,
    })),
  };
}

describe('image remediation latency', () => {
  const fixOf = (release: string, fixedVersion: string, availableAt: number): StudyFix => ({
    distro: 'debian',
    release,
    package: 'foo',
    fixedVersion,
    status: 'fixed',
    availableAt,
    basis: 'dsa',
    cves: ['CVE-2017-0001'],
  });
  const cves = new Map([cve('CVE-2017-0001', T0, 'high')]);

  it('compares SOURCE versions (a binary version above the fix does not hide a vulnerable source)', () => {
    const builds = [
      build(T0, 'jessie', [['libfoo1', '2.0-1', 'foo', '1.0-1']]),
      build(T0 + 3 * DAY, 'jessie', [['libfoo1', '2.0-1+b1', 'foo', '1.0-1']]),
      build(T0 + 12 * DAY, 'jessie', [['libfoo1', '2.0-2', 'foo', '1.0-2']]),
    ];
    const fixes = new Map([['debian\u0000jessie\u0000foo', [fixOf('jessie', '1.0-2', T0 + 5 * DAY)]]]);
    const analysis = analyseSeries('example:latest', builds, fixes, cves);
    assert.equal(analysis.latency.latency.n, 1);
    // From the fix (day 5, later than the episode's start) to the first fixed build (day 12).
    assert.equal(analysis.latency.latency.medianDays, 7);
    assert.equal(analysis.latency.highLatency.n, 1);
    assert.equal(analysis.episodes[0]?.censored, false);
  });

  it('censors an episode still open at the last build and counts a close by a release move', () => {
    const builds = [
      build(T0, 'jessie', [['foo', '1.0-1', 'foo', '1.0-1']]),
      build(T0 + 10 * DAY, 'jessie', [['foo', '1.0-1', 'foo', '1.0-1']]),
    ];
    const fixes = new Map([['debian\u0000jessie\u0000foo', [fixOf('jessie', '1.0-2', T0 + 2 * DAY)]]]);
    const open = analyseSeries('s', builds, fixes, cves);
    assert.deepEqual([open.latency.latency.n, open.latency.latency.censored], [1, 1]);
    assert.equal(open.episodes[0]?.latencyDays, 8);

    const moved = analyseSeries(
      's',
      [...builds, build(T0 + 20 * DAY, 'stretch', [['foo', '1.0-1', 'foo', '1.0-1']])],
      fixes,
      cves,
    );
    assert.equal(moved.latency.closedByReleaseChange, 1);
    assert.deepEqual(moved.latency.releases, ['Debian 8 (jessie)', 'Debian 9 (stretch)']);
  });
});

describe('the study on a real slice (debian:jessie, 2016-09 → 2018-01, and its DSAs)', () => {
  it('reproduces the dataset README’s join check: 12 fixes matched, median lag 6.9 days', async () => {
    const data = await readStudyData(SLICE);
    assert.equal(data.images.length, 16);
    const result = runStudy(data, {
      from: Date.UTC(2016, 8, 1),
      to: Date.UTC(2018, 1, 1),
      observedUntil: Date.UTC(2018, 1, 1),
    });
    const jessie = result.images.find((i) => i.series === 'debian:jessie');
    assert.ok(jessie);
    // The README's independent script: "debian:jessie vs DSA | 12 | 12 | 3.0 / 6.9 / 17.6".
    assert.equal(jessie.latency.n, 12);
    assert.equal(jessie.latency.censored, 0);
    assert.equal(Math.round((jessie.latency.medianDays ?? 0) * 10) / 10, 6.9);
    assert.equal(jessie.timeBasis.registryPush, 16);
    assert.ok(result.distro.rows.some((r) => r.release === 'jessie' && r.severity === 'all' && r.latency.n > 0));
    const validate = validator();
    assert.ok(validate(JSON.parse(JSON.stringify({ ...result, episodes: [] }))), JSON.stringify(validate.errors));
  });
});

describe('trace over Lading reports', () => {
  const openssl = (v: string) => pkg('deb', 'openssl', v);
  const at = (days: number) => new Date(T0 + days * DAY).toISOString();
  const builds = [
    {
      file: 'b1.json',
      report: {
        ...report('registry.example/app', [openssl('1')], [finding(openssl('1'), 'CVE-2024-1', 'HIGH')]),
        createdAt: at(0),
      },
    },
    { file: 'b2.json', report: { ...report('registry.example/app', [openssl('2')], []), createdAt: at(6) } },
    {
      file: 'b3.json',
      report: {
        ...report(
          'registry.example/app',
          [openssl('1')],
          [
            finding(openssl('1'), 'CVE-2024-1', 'HIGH'),
            finding(openssl('1'), 'CVE-2024-2', 'LOW', { suppressed: { kind: 'vex', reason: 'not_affected' } }),
          ],
        ),
        createdAt: at(10),
      },
    },
  ];

  it('gives episodes, a regression, open ages, and skips suppressed findings', () => {
    const result = streamLatency(builds, 'scanned');
    assert.equal(result.episodes.length, 2);
    assert.equal(result.regressions, 1);
    // The reopened episode is censored at 0 days (it started at the last build), so it leaves the risk set before
    // the closed one's 6 days: S(6) = 0, and both quantiles are 6.
    assert.deepEqual(result.bySeverity.HIGH, {
      n: 2,
      events: 1,
      censored: 1,
      medianDays: 6,
      p90Days: 6,
      eventsOnlyMedianDays: 6,
    });
    assert.deepEqual(result.open, [{ vulnerability: 'CVE-2024-1', package: 'openssl', severity: 'HIGH', ageDays: 0 }]);
    assert.ok(validator()(result));
  });

  it('refuses a report without a time to order it by', () => {
    const broken = [{ file: 'x.json', report: { ...builds[0]!.report, createdAt: 'not a time' } }];
    assert.throws(() => streamLatency(broken, 'scanned'), /x\.json: the report has no scan time/);
  });

  it('counts the base-OS mix, with images without an OS named as such', () => {
    const withOs = { ...builds[0]!, report: { ...builds[0]!.report, os: { family: 'debian', version: '12' } } };
    const mix = baseMix([withOs, builds[1]!]);
    assert.deepEqual(mix.shares, [
      { os: 'debian 12', images: 1, share: 50 },
      { os: 'none detected', images: 1, share: 50 },
    ]);
    assert.ok(validator()(mix));
  });
});
