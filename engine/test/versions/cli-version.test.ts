import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

// Each case is a separate CLI process (slow under load), so the cases run concurrently.
describe('lading version compare', { concurrency: true }, () => {
  it('prints -1, 0 or 1', async () => {
    const lt = await runCli(['version', 'compare', 'Debian', '1.0~rc1-1', '1.0-1']);
    assert.deepEqual([lt.code, lt.stdout, lt.stderr], [0, '-1\n', '']);
  });

  it('an invalid version exits 2 with one line', async () => {
    const r = await runCli(['version', 'compare', 'PyPI', '', '1.0']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^lading: invalid PyPI version "": empty\n$/);
  });

  it("a Debian version with characters outside dpkg's alphabet exits 2 with one line", async () => {
    const r = await runCli(['version', 'compare', 'Debian', 'abc!!', '1']);
    assert.deepEqual([r.code, r.stdout], [2, '']);
    assert.match(r.stderr, /^lading: invalid dpkg version "abc!!": invalid character in version number\n$/);
  });

  it('an unknown ecosystem exits 2 with one line', async () => {
    const r = await runCli(['version', 'compare', 'Nope', '1', '2']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /unknown ecosystem "Nope"/);
  });

  it('missing versions without --batch is a usage error', async () => {
    const r = await runCli(['version', 'compare', 'npm', '1.0.0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs ECOSYSTEM A B/);
  });

  it('--batch answers every line, reports bad lines in place and exits 2 at the end', async () => {
    const input = [
      '{"a":"1.2.3","b":"1.2.4"}',
      'not json',
      '',
      '{"a":"1.0.0"}',
      '{"a":"x","b":"1.0.0"}',
      '{"a":"2.0.0","b":"2.0.0-rc.1"}',
      '[1,2]',
      '{"a":"1.0.0","b":"1.0.0+build"}',
    ].join('\n');
    const r = await runCli(['version', 'compare', 'npm', '--batch'], { input });
    assert.equal(r.code, 2);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 7);
    assert.equal(lines[0], '-1');
    assert.match(lines[1]!, /^\{"error":"not a JSON object"\}$/);
    assert.match(lines[2]!, /^\{"error":"expected/);
    assert.match(lines[3]!, /^\{"error":"invalid npm version \\"x\\"/);
    assert.equal(lines[4], '1');
    assert.match(lines[5]!, /^\{"error":/);
    assert.equal(lines[6], '0');
    assert.match(r.stderr, /4 of 7 lines could not be compared/);
  });

  it('--batch with only good lines exits 0; 20k lines are fast', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++)
      lines.push(JSON.stringify({ a: `1.${i % 97}.${i % 13}-r${i % 5}`, b: '1.50.6-r2' }));
    const start = Date.now();
    const r = await runCli(['version', 'compare', 'Alpine:v3.20', '--batch'], { input: `${lines.join('\n')}\n` });
    const ms = Date.now() - start;
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trimEnd().split('\n');
    assert.equal(out.length, 20_000);
    assert.equal(out[0], '-1');
    assert.ok(out.every((l) => l === '-1' || l === '0' || l === '1'));
    assert.ok(ms < 60_000, `${ms} ms`); // a hang guard only: throughput is measured by bench/suites/20-versions.mjs
  });
});
