import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { finding, pkg, report } from '../../engine/test/helpers/reports.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

const TRIVY = new URL('../../engine/test/fixtures/summary/trivy-alpine-310-registry.json', import.meta.url).pathname;
// 2026-11-23T06:00:04Z
const ENV = { SOURCE_DATE_EPOCH: '1795413604' };

describe('lading summary', () => {
  it('summarizes a folder of Lading and Trivy reports, with a placeholder for a corrupt one, reproducibly', async (t) => {
    const dir = await tempDir(t);
    const reports = join(dir, 'reports');
    const p = pkg('deb', 'openssl', '3.0.11-1');
    const api = report(
      'ghcr.io/acme/api:2',
      [p],
      [finding(p, 'CVE-2026-1', 'HIGH'), finding(p, 'CVE-2026-2', 'MEDIUM')],
    );
    await mkdir(reports);
    await writeFile(join(reports, 'api.json'), JSON.stringify(api));
    await copyFile(TRIVY, join(reports, 'alpine.json'));
    await writeFile(join(reports, 'broken.json'), '{"tool":');
    await writeFile(join(reports, 'notes.txt'), 'not a report');

    const out = join(dir, 'summary.json');
    const first = await runCli(['summary', '--reports', reports, join(dir, 'gone.json'), '-o', out], { env: ENV });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '');
    const text = await readFile(out, 'utf8');
    const summary = JSON.parse(text);
    assert.equal(summary.generatedAt, '2026-11-23T06:00:04Z');
    assert.deepEqual(summary.period, { start: '2026-11-16T00:00:00Z', end: '2026-11-23T00:00:00Z' });
    assert.deepEqual(
      summary.images.map((i: { name: string }) => i.name),
      ['broken.json', 'ghcr.io/acme/api', 'gone.json', 'localhost:55844/alpine'],
    );
    assert.deepEqual(summary.totals, { critical: 0, high: 1, medium: 5, low: 0, unknown: 0 });
    assert.equal(summary.riskIndex, 5); // (5 + 10) / 3
    assert.equal(summary.sources.filter((s: string) => s.startsWith('not read: ')).length, 2);
    assert.equal(text, `${JSON.stringify(summary, null, 2)}\n`);

    // The same inputs give the same bytes, on standard output too.
    const again = await runCli(['summary', '--reports', reports, join(dir, 'gone.json')], { env: ENV });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, text);

    // Next week: --previous gives the delta, the direction and the trend; --period-end sets the week.
    const p2 = pkg('deb', 'openssl', '3.0.13-1');
    await writeFile(join(reports, 'api.json'), JSON.stringify(report('ghcr.io/acme/api:3', [p2], [])));
    const next = await runCli(
      ['summary', '--reports', reports, '--previous', out, '--period-end', '2026-11-30', '-o', out],
      { env: ENV },
    );
    assert.equal(next.code, 0, next.stderr);
    const week2 = JSON.parse(await readFile(out, 'utf8'));
    assert.deepEqual(week2.period, { start: '2026-11-23T00:00:00Z', end: '2026-11-30T00:00:00Z' });
    assert.deepEqual(week2.delta, { critical: 0, high: -1, medium: -1, low: 0, unknown: 0 });
    assert.equal(week2.direction, 'better');
    assert.deepEqual(week2.trend, [
      { date: '2026-11-23', critical: 0, high: 1, medium: 5 },
      { date: '2026-11-30', critical: 0, high: 0, medium: 4 },
    ]);
  });

  it('refuses a bad --period-end or SOURCE_DATE_EPOCH, or an unreadable --previous (usage 2, operational 3)', async (t) => {
    const dir = await tempDir(t);
    const bad = await runCli(['summary', '--reports', dir, '--period-end', 'monday'], { env: ENV });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--period-end monday/);
    const epoch = await runCli(['summary', '--reports', dir], { env: { SOURCE_DATE_EPOCH: 'yesterday' } });
    assert.equal(epoch.code, 2, epoch.stderr);
    assert.match(epoch.stderr, /SOURCE_DATE_EPOCH must be whole seconds/);
    const previous = await runCli(['summary', '--reports', dir, '--previous', join(dir, 'none.json')], { env: ENV });
    assert.equal(previous.code, 3, previous.stderr);
    assert.match(previous.stderr, /cannot read summary/);
  });
});
