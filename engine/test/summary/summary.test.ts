import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import {
  loadWeeklySummary,
  readSummaryInput,
  renderWeeklySummary,
  repositoryName,
  riskIndex,
  type SummaryInput,
  type WeeklySummary,
  weeklySummary,
} from '../../src/summary/index.js';
import { finding, pkg, report } from '../helpers/reports.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = new Date('2026-11-23T06:00:04.123Z');
const FIXTURES = new URL('../fixtures/summary/', import.meta.url);

let validate: ValidateFunction | undefined;
function assertValidSummary(value: unknown): void {
  if (!validate) {
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/weekly-summary-v3.schema.json', import.meta.url), 'utf8'),
    );
    const ajv = new Ajv({ strict: true, allErrors: true });
    addFormats.default(ajv);
    validate = ajv.compile(schema);
  }
  assert.ok(validate(value), JSON.stringify(validate.errors?.slice(0, 5), null, 1));
}

function read(
  name: string,
  counts: Partial<Record<'critical' | 'high' | 'medium' | 'low' | 'unknown', number>>,
  extra: { file?: string; createdAt?: string; digest?: string } = {},
): SummaryInput {
  return {
    kind: 'read',
    file: extra.file ?? `${name.split('/').pop()}.json`,
    name,
    ...(extra.digest ? { digest: extra.digest } : {}),
    createdAt: extra.createdAt ?? '2026-11-22T10:00:00Z',
    counts: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, ...counts },
  };
}

/** A Lading report of `ref` with the given findings (severity list), some suppressed, written to `dir`. */
async function writeReport(
  dir: string,
  file: string,
  ref: string,
  severities: ('CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN')[],
  options: { suppressed?: number; createdAt?: string; digest?: string; data?: Record<string, string> } = {},
): Promise<string> {
  const p = pkg('deb', 'openssl', '3.0.11-1');
  const findings = severities.map((s, i) =>
    finding(
      p,
      `CVE-2026-${1000 + i}`,
      s,
      i < (options.suppressed ?? 0) ? { suppressed: { kind: 'vex', reason: 'not_affected' } } : {},
    ),
  );
  const r = report(ref, [p], findings, options.createdAt ? { createdAt: options.createdAt } : {});
  if (options.digest) r.target.digest = options.digest;
  if (options.data) r.db = { ecosystems: options.data };
  const path = join(dir, file);
  await writeFile(path, JSON.stringify(r));
  return path;
}

describe('weeklySummary', () => {
  it('builds the v3 shape with hand-computed totals, riskIndex, period and sources', () => {
    const summary = weeklySummary(
      [
        read('ghcr.io/acme/web', { critical: 1, high: 3, medium: 4, low: 2 }, { digest: 'sha256:bb' }),
        read('ghcr.io/acme/api', { high: 2, medium: 5, low: 9, unknown: 1 }, { digest: 'sha256:aa' }),
      ],
      { now: NOW },
    );
    assert.deepEqual(Object.keys(summary), [
      'generatedAt',
      'period',
      'images',
      'totals',
      'delta',
      'direction',
      'trend',
      'riskIndex',
      'riskIndexMethod',
      'version',
      'sources',
    ]);
    assert.equal(summary.generatedAt, '2026-11-23T06:00:04Z');
    assert.deepEqual(summary.period, { start: '2026-11-16T00:00:00Z', end: '2026-11-23T00:00:00Z' });
    assert.deepEqual(
      summary.images.map((i) => i.name),
      ['ghcr.io/acme/api', 'ghcr.io/acme/web'],
    );
    assert.deepEqual(summary.totals, { critical: 1, high: 5, medium: 9, low: 11, unknown: 1 });
    // No previous summary: the delta is zeros and the direction stable.
    assert.deepEqual(summary.delta, { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 });
    assert.equal(summary.direction, 'stable');
    assert.deepEqual(summary.trend, [{ date: '2026-11-23', critical: 1, high: 5, medium: 9 }]);
    // (1*10 + 5*5 + 9*2) / 300 * 100 = 53 / 3 = 17.666… → 17.7
    assert.equal(summary.riskIndex, 17.7);
    assert.equal(summary.riskIndexMethod, '(critical*10 + high*5 + medium*2) / 300 * 100; capped at 100');
    assert.equal(summary.version, 3);
    assert.deepEqual(summary.sources, [
      'ghcr.io/acme/api@sha256:aa (api.json, 2026-11-22T10:00:00Z)',
      'ghcr.io/acme/web@sha256:bb (web.json, 2026-11-22T10:00:00Z)',
    ]);
    assertValidSummary(summary);
  });

  it('riskIndex: the v3 example (high 2, medium 5) is 6.7, and it caps at 100', () => {
    assert.equal(riskIndex({ critical: 0, high: 2, medium: 5 }), 6.7);
    assert.equal(riskIndex({ critical: 0, high: 0, medium: 1 }), 0.7); // 2/3 = 0.666…
    assert.equal(riskIndex({ critical: 30, high: 0, medium: 0 }), 100);
    assert.equal(riskIndex({ critical: 31, high: 0, medium: 0 }), 100);
    assert.equal(riskIndex({ critical: 29, high: 1, medium: 2 }), 99.7); // 299 / 3 = 99.666…
  });

  it('delta and direction against the previous summary, by the diff rule (the most severe change decides)', () => {
    const previous = weeklySummary([read('a', { critical: 1, high: 2, medium: 3 })], {
      now: new Date('2026-11-16T06:00:00Z'),
    });
    const better = weeklySummary([read('a', { critical: 0, high: 4, medium: 3 })], { now: NOW, previous });
    assert.deepEqual(better.delta, { critical: -1, high: 2, medium: 0, low: 0, unknown: 0 });
    assert.equal(better.direction, 'better');
    const worse = weeklySummary([read('a', { critical: 1, high: 2, medium: 3, low: 1 })], { now: NOW, previous });
    assert.deepEqual(worse.delta, { critical: 0, high: 0, medium: 0, low: 1, unknown: 0 });
    assert.equal(worse.direction, 'worse');
    const same = weeklySummary([read('a', { critical: 1, high: 2, medium: 3 })], { now: NOW, previous });
    assert.equal(same.direction, 'stable');
    assert.deepEqual(better.trend, [
      { date: '2026-11-16', critical: 1, high: 2, medium: 3 },
      { date: '2026-11-23', critical: 0, high: 4, medium: 3 },
    ]);
    assertValidSummary(better);
  });

  it('keeps the newest 26 trend points by default (or trendKeep), and replaces a point of the same date', () => {
    let summary: WeeklySummary | undefined;
    const start = Date.parse('2026-01-05T06:00:00Z');
    for (let week = 0; week < 30; week += 1) {
      const now = new Date(start + week * 7 * 86_400_000);
      summary = weeklySummary([read('a', { high: week })], { now, ...(summary ? { previous: summary } : {}) });
    }
    assert.ok(summary);
    assert.equal(summary.trend.length, 26);
    assert.equal(summary.trend[0]?.high, 4);
    assert.equal(summary.trend[25]?.high, 29);
    assert.equal(summary.trend[25]?.date, '2026-07-27');
    const again = weeklySummary([read('a', { high: 1 })], { now: new Date('2026-07-27T09:00:00Z'), previous: summary });
    assert.equal(again.trend.length, 26);
    assert.deepEqual(again.trend[25], { date: '2026-07-27', critical: 0, high: 1, medium: 0 });
    const short = weeklySummary([read('a', {})], { now: NOW, previous: summary, trendKeep: 3 });
    assert.equal(short.trend.length, 3);
  });

  it('one entry per repository: its newest report wins', () => {
    const summary = weeklySummary(
      [
        read('ghcr.io/acme/api', { critical: 5 }, { file: 'new.json', createdAt: '2026-11-22T00:00:00Z' }),
        read('ghcr.io/acme/api', { critical: 9 }, { file: 'old.json', createdAt: '2026-11-20T00:00:00Z' }),
      ],
      { now: NOW },
    );
    assert.deepEqual(summary.images, [
      { name: 'ghcr.io/acme/api', critical: 5, high: 0, medium: 0, low: 0, unknown: 0 },
    ]);
    assert.deepEqual(summary.sources, ['ghcr.io/acme/api (new.json, 2026-11-22T00:00:00Z)']);
  });

  it('a report not read is a placeholder with the last known counts, noted in sources', () => {
    const previous = weeklySummary([read('ghcr.io/acme/api', { high: 3, low: 1 })], {
      now: new Date('2026-11-16T06:00:00Z'),
    });
    const summary = weeklySummary(
      [
        { kind: 'unread', file: 'api.json', name: 'ghcr.io/acme/api', reason: 'not JSON' },
        { kind: 'unread', file: 'gone.json', name: 'gone.json', reason: 'no such file' },
      ],
      { now: NOW, previous },
    );
    assert.deepEqual(summary.images, [
      { name: 'ghcr.io/acme/api', critical: 0, high: 3, medium: 0, low: 1, unknown: 0 },
      { name: 'gone.json', critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
    ]);
    assert.deepEqual(summary.sources, [
      'not read: api.json (ghcr.io/acme/api): not JSON',
      'not read: gone.json (gone.json): no such file',
    ]);
    assert.equal(summary.direction, 'stable');
    assertValidSummary(summary);
  });

  it('renders stable bytes: 2-space JSON, one trailing newline, the same text for the same inputs', () => {
    const make = () =>
      renderWeeklySummary(weeklySummary([read('b', { high: 1 }), read('a', { low: 2 })], { now: NOW }));
    const text = make();
    assert.equal(text, make());
    assert.ok(text.endsWith('}\n') && !text.endsWith('\n\n'));
    assert.ok(text.startsWith('{\n  "generatedAt": "2026-11-23T06:00:04Z",\n'));
  });
});

describe('summary inputs', () => {
  it('repositoryName drops tag and digest but keeps a registry port', () => {
    assert.equal(repositoryName('ghcr.io/acme/api:1.2@sha256:ab'), 'ghcr.io/acme/api');
    assert.equal(repositoryName('localhost:5000/x'), 'localhost:5000/x');
    assert.equal(repositoryName('localhost:5000/x:3'), 'localhost:5000/x');
    assert.equal(repositoryName('alpine'), 'alpine');
  });

  it('a Lading report counts its unsuppressed findings only', async (t) => {
    const dir = await tempDir(t);
    const file = await writeReport(dir, 'api.json', 'ghcr.io/acme/api:1.2', ['CRITICAL', 'HIGH', 'HIGH', 'LOW'], {
      suppressed: 2,
      digest: 'sha256:cc',
      data: { Debian: '2026-10-31T03:02:11Z', npm: '2026-10-30T22:00:00Z' },
    });
    const input = await readSummaryInput(file);
    assert.deepEqual(weeklySummary([input], { now: NOW }).sources, [
      `ghcr.io/acme/api@sha256:cc (${file}, 2026-11-01T00:00:00.000Z, data 2026-10-31T03:02:11Z)`,
    ]);
    assert.deepEqual(input, {
      kind: 'read',
      file,
      name: 'ghcr.io/acme/api',
      digest: 'sha256:cc',
      createdAt: '2026-11-01T00:00:00.000Z',
      dataUpdatedAt: '2026-10-31T03:02:11Z',
      counts: { critical: 0, high: 1, medium: 0, low: 1, unknown: 0 },
    });
  });

  it('reads a real Trivy JSON report (RepoTags, RepoDigests, Results[].Vulnerabilities[].Severity)', async () => {
    const file = join(FIXTURES.pathname, 'trivy-alpine-310-registry.json');
    assert.deepEqual(await readSummaryInput(file), {
      kind: 'read',
      file,
      name: 'localhost:55844/alpine',
      digest: 'sha256:b1c5a500182b21d0bfa5a584a8526b56d8be316f89e87d951be04abed2446e60',
      createdAt: '',
      counts: { critical: 0, high: 0, medium: 4, low: 0, unknown: 0 },
    });
  });

  it('a missing, corrupt or foreign file is an unread input, named by its repository when the document tells it', async (t) => {
    const dir = await tempDir(t);
    const missing = join(dir, 'missing.json');
    assert.deepEqual(await readSummaryInput(missing), {
      kind: 'unread',
      file: missing,
      name: 'missing.json',
      reason: 'no such file',
    });
    const corrupt = join(dir, 'corrupt.json');
    await writeFile(corrupt, '{"schemaVersion": 1, "tool": {"name": "lading"');
    assert.deepEqual(await readSummaryInput(corrupt), {
      kind: 'unread',
      file: corrupt,
      name: 'corrupt.json',
      reason: 'not JSON',
    });
    const refused = join(dir, 'refused.json');
    await writeFile(
      refused,
      JSON.stringify({ schemaVersion: 1, tool: { name: 'lading' }, target: { ref: 'ghcr.io/acme/api:2' } }),
    );
    const input = await readSummaryInput(refused);
    assert.equal(input.kind, 'unread');
    assert.equal(input.name, 'ghcr.io/acme/api');
    assert.match(input.kind === 'unread' ? input.reason : '', /lacks packages/);
  });

  it('a summary of reports on disk: newest wins, Trivy read, placeholders for the unreadable, valid against the schema', async (t) => {
    const dir = await tempDir(t);
    const files = [
      await writeReport(dir, 'api-old.json', 'ghcr.io/acme/api:1', ['CRITICAL', 'CRITICAL'], {
        createdAt: '2026-11-18T00:00:00Z',
      }),
      await writeReport(dir, 'api-new.json', 'ghcr.io/acme/api:2', ['HIGH', 'MEDIUM', 'MEDIUM'], {
        createdAt: '2026-11-22T00:00:00Z',
      }),
      join(FIXTURES.pathname, 'trivy-alpine-310-registry.json'),
      join(dir, 'missing.json'),
    ];
    const summary = weeklySummary(await Promise.all(files.map(readSummaryInput)), { now: NOW });
    assert.deepEqual(summary.images, [
      { name: 'ghcr.io/acme/api', critical: 0, high: 1, medium: 2, low: 0, unknown: 0 },
      { name: 'localhost:55844/alpine', critical: 0, high: 0, medium: 4, low: 0, unknown: 0 },
      { name: 'missing.json', critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
    ]);
    // (1*5 + 6*2) / 3 = 5.666… → 5.7
    assert.equal(summary.riskIndex, 5.7);
    assert.equal(summary.sources.length, 3);
    assert.match(summary.sources[2] ?? '', /^not read: .*missing\.json \(missing\.json\): no such file$/);
    assertValidSummary(summary);
  });

  it('loadWeeklySummary reads a v3 summary back and refuses anything else', async (t) => {
    const dir = await tempDir(t);
    const good = join(dir, 'previous.json');
    const summary = weeklySummary([read('a', { high: 1 })], { now: NOW });
    await writeFile(good, renderWeeklySummary(summary));
    assert.deepEqual(await loadWeeklySummary(good), summary);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...summary, extra: 1 }));
    await assert.rejects(loadWeeklySummary(bad), /not a weekly summary v3/);
    await assert.rejects(loadWeeklySummary(join(dir, 'none.json')), /cannot read summary/);
  });
});
