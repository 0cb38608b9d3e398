// The dashboard's first load stays small: the JavaScript index.html loads (the entry and what it imports
// statically) is at most 60 KB gzip, and Chart.js is never part of it (only chart pages import it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUDGET = 60 * 1024;

/** Every chunk reachable from `file` through static imports (`import … from "./x.js"`), `file` included. */
function staticClosure(assets: string, file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(assets, file), 'utf8');
  for (const m of text.matchAll(/(?:^|[;}\s])import\s*(?:[\w${}\s,*]+from\s*)?["']\.\/([\w.-]+\.js)["']/g)) {
    if (m[1]) staticClosure(assets, m[1], seen);
  }
  return seen;
}

describe('dashboard bundle budget', () => {
  it('keeps the initial JavaScript within 60 KB gzip, without Chart.js', (t) => {
    // built into a folder of its own: the browser test, which may run beside this one, serves server/dist/public,
    // and a build there empties it under the page being loaded
    const PUBLIC = mkdtempSync(join(tmpdir(), 'lading-dashboard-budget-'));
    t.after(() => rmSync(PUBLIC, { recursive: true, force: true }));
    const build = spawnSync(
      'npm',
      ['run', 'build', '-w', '@lading/dashboard', '--', '--outDir', PUBLIC, '--emptyOutDir'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(build.status, 0, build.stderr);
    const html = readFileSync(join(PUBLIC, 'index.html'), 'utf8');
    const entries = [...html.matchAll(/<script[^>]*src="\/assets\/([\w.-]+\.js)"/g)].map((m) => m[1] as string);
    const preloads = [...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/assets\/([\w.-]+\.js)"/g)].map(
      (m) => m[1] as string,
    );
    assert.equal(entries.length, 1, html);
    assert.doesNotMatch(html, /<script(?![^>]*src=)[^>]*>/, 'no inline scripts (the CSP forbids them)');
    const assets = join(PUBLIC, 'assets');
    const initial = new Set<string>();
    for (const file of [...entries, ...preloads]) for (const f of staticClosure(assets, file)) initial.add(f);
    let gzipped = 0;
    for (const file of initial) {
      const text = readFileSync(join(assets, file));
      assert.doesNotMatch(
        text.toString('utf8'),
        /Canvas is already in use\. Chart with ID/,
        `${file} must not contain Chart.js`,
      );
      gzipped += gzipSync(text, { level: 9 }).length;
    }
    assert.ok(gzipped <= BUDGET, `initial JS is ${gzipped} bytes gzip, over ${BUDGET}`);
    // Chart.js exists, in a chunk of its own that is loaded only on demand.
    const all = readdirSync(assets).filter((f) => f.endsWith('.js'));
    assert.ok(
      all.some(
        (f) =>
          !initial.has(f) && /Canvas is already in use\. Chart with ID/.test(readFileSync(join(assets, f), 'utf8')),
      ),
      'Chart.js chunk not found outside the initial load',
    );
  });
});
