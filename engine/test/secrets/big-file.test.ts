// A 100 MB minified single-line file (generated here, never on disk) streams through the scanner in the walk's
// 1 MiB pieces: it finishes within seconds and memory stays bounded (measured in a child process, where the RSS is
// this work's alone), and a secret at its very end is still found.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const CHILD = `
import { compileRules, SecretFileScanner } from '@lading/engine/secrets';
const rules = compileRules();
const piece = Buffer.from('var a=function(b){return b+1},c={key:"value",token:d(e)};'.repeat(18080).slice(0, 1 << 20));
const scanner = new SecretFileScanner(rules, '/app/static/bundle.min.js');
const start = performance.now();
let peak = 0;
for (let i = 0; i < 100; i++) {
  scanner.write(i === 99 ? Buffer.concat([piece, Buffer.from(';t="' + 'ghp' + '_R2u9xK4mPq7sT1vW3yZ5bC8dF0gH6jL2nQ4r"')]) : piece);
  peak = Math.max(peak, process.memoryUsage().rss);
}
const result = scanner.end();
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({ ms: performance.now() - start, peak, matches: result?.matches ?? [] }));
`;

test('a 100 MB single-line file is scanned in seconds with bounded memory, its last secret found', () => {
  const run = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', CHILD],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(run.status, 0, run.stderr);
  const { ms, peak, matches } = JSON.parse(run.stdout.trim().split('\n').pop() as string);
  assert.ok(ms < 8000, `took ${Math.round(ms)} ms`);
  assert.ok(peak < 400 * 1024 * 1024, `peak RSS ${Math.round(peak / 1024 / 1024)} MB`);
  assert.deepEqual(
    matches.map((m: { rule: string; line: number; redacted: string }) => [m.rule, m.line, m.redacted]),
    [['github-pat', 1, 'ghp_…(40)']],
  );
});

const WALK_CHILD = `
import { buildImage } from './engine/test/helpers/images.ts';
import { scan } from '@lading/engine/scan';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'lading-big-'));
try {
  let content = Buffer.alloc(100 * 1024 * 1024, 'var a=function(b){return b+1},c={key:"value"};');
  content = Buffer.concat([content, Buffer.from(';t="' + 'ghp' + '_R2u9xK4mPq7sT1vW3yZ5bC8dF0gH6jL2nQ4r"')]);
  const built = await buildImage(dir, { layers: [[{ type: 'file', path: '/app/static/bundle.min.js', content }]], compression: 'none' });
  content = undefined;
  globalThis.gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
  const options = { sbomOnly: true, dbDir: dir, now: new Date('2026-12-01T00:00:00Z'), checks: false };
  let start = performance.now();
  const capped = await scan('oci:' + built.ociDir, options);
  const cappedMs = performance.now() - start;
  start = performance.now();
  const raised = await scan('oci:' + built.ociDir, { ...options, secretScan: { maxFileBytes: 128 * 1024 * 1024 } });
  const raisedMs = performance.now() - start;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(JSON.stringify({ cappedMs, raisedMs, grew: peak - base, capped: capped.secrets ?? [], raised: raised.secrets ?? [] }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
`;

test('a 100 MB minified file in an image: skipped over the default cap at once, found under a raised cap, memory bounded', () => {
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--conditions=source', '--import', 'tsx', '--input-type=module', '-e', WALK_CHILD],
    { encoding: 'utf8', timeout: 120_000, cwd: new URL('../../../', import.meta.url).pathname },
  );
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').pop() as string);
  assert.deepEqual(out.capped, []);
  assert.ok(out.cappedMs < 5000, `capped scan took ${Math.round(out.cappedMs)} ms`);
  assert.deepEqual(
    out.raised.map((s: { ruleId: string; line: number; redacted: string }) => [s.ruleId, s.line, s.redacted]),
    [['github-pat', 1, 'ghp_…(40)']],
  );
  assert.ok(out.raisedMs < 10_000, `raised-cap scan took ${Math.round(out.raisedMs)} ms`);
  assert.ok(out.grew < 128 * 1024 * 1024, `RSS grew by ${Math.round(out.grew / 1024 / 1024)} MB while scanning`);
});
