// Spreading an array into a call puts every element on the stack: past ~125k elements V8 throws RangeError
// ("Maximum call stack size exceeded"). Inside a cataloger that error once made a whole package database vanish
// from the report, so an attacker could hide packages by padding a database with junk records. The sources
// append with loops (or `concat`) instead; this test keeps it so for the engine and the CLI.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/paths.js';

const REPO = REPO_ROOT;
const ROOTS = [join(REPO, 'engine', 'src'), join(REPO, 'cli', 'src')];

/**
 * Calls that spread an array into arguments: `x.push(...list)`, `x.unshift(...list)`, `Math.max(...list)`,
 * `String.fromCharCode(...codes)`, `Object.assign({}, ...list)`. Allowed only on a line whose comment says
 * `spread-ok:` and why the array is provably small (there are none today).
 */
const SPREAD_CALLS = [
  /\.(push|unshift)\(\s*\.\.\./,
  /(Math\.(max|min)|fromCharCode|fromCodePoint)\(\s*\.\.\./,
  /Object\.assign\([^)]*\.\.\./,
  /\.splice\([^)]*\.\.\./,
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function offending(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      if (line.trim().startsWith('//') || line.trim().startsWith('*')) return [];
      if (!SPREAD_CALLS.some((p) => p.test(line))) return [];
      if (/\/\/ spread-ok: \S/.test(line)) return [];
      return [`${relative(REPO, file)}:${i + 1}: ${line.trim()}`];
    });
}

describe('no spread of an unbounded array into a call', () => {
  it('engine/src and cli/src append with loops or concat', () => {
    const found = ROOTS.flatMap(sources).flatMap(offending);
    assert.deepEqual(found, [], 'spread into a call overflows the stack on large arrays: use a loop or concat');
  });

  it('the patterns catch what they are for', () => {
    for (const line of [
      'out.push(...list);',
      'a.unshift(...b)',
      'Math.max(...widths)',
      'String.fromCharCode(...codes)',
      'String.fromCodePoint(...cps)',
      'Object.assign({}, ...sections)',
    ]) {
      assert.ok(
        SPREAD_CALLS.some((p) => p.test(line)),
        line,
      );
    }
  });

  it('a loop over 200k items appends where a spread overflows', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => i);
    assert.throws(() => [].push(...(many as never[])), RangeError);
    const out: number[] = [];
    for (const n of many) out.push(n);
    assert.equal(out.length, many.length);
  });
});
