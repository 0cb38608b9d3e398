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
