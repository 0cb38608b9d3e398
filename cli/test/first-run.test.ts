import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

// The README's first command is what a newcomer runs first: it must do Lading's main job (find real vulnerabilities
// in a real image) on a fresh machine with no network. This test runs that very line, read from README.md, so the
// README cannot drift from what works.

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const BUNDLE = join(REPO_ROOT, 'cli/dist/bundle/bin.js');
/** The throwaway database folder the README names; the test swaps in a temporary one so runs never share it. */
const README_DB_DIR = '/tmp/lading-example';

/** The first line of the README's first `sh` block, with `\` continuations joined. */
function firstCommand(markdown: string): string {
  const block = /```sh\n([\s\S]*?)```/.exec(markdown);
  assert.ok(block, 'README.md has no ```sh block');
  const joined = block[1]!.replace(/\\\n\s*/g, '');
  return joined.split('\n')[0]!.trim();
}

describe("the README's first command", () => {
  it('scans the example image offline and finds its real vulnerabilities, exit 0', async (t) => {
    const command = firstCommand(README);
    // `npm ci` installs and builds; the test suite runs after it, so the part that follows is what is checked here.
    assert.match(command, /^npm ci && /, 'the first command starts by installing');
    const rest = command.replace(/^npm ci && /, '');
    assert.ok(rest.includes(README_DB_DIR), `the first command uses ${README_DB_DIR} as its throwaway database`);
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run \`npm run build\` (npm ci does)`);
    const dbDir = join(await tempDir(t), 'db');
    const cacheDir = await tempDir(t);

    const run = spawnSync('bash', ['-c', rest.split(README_DB_DIR).join(dbDir)], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      // A terminal-less newcomer: no colour, a cache of its own, and any proxy pointing nowhere so that a network
      // attempt would fail rather than pass unnoticed.
      env: {
        ...process.env,
        NO_COLOR: '1',
        LADING_CACHE_DIR: cacheDir,
        LADING_DB_DIR: '',
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
      },
    });
    const documented = /It exits (\d+):/.exec(README)?.[1];
    assert.equal(documented, '0', 'the README says how the first command exits');
    assert.equal(run.status, Number(documented), `exit ${run.status}\n${run.stdout}\n${run.stderr}`);

    // db import's one line, then the scan's summary, then the table.
    const lines = run.stdout.split('\n');
    assert.match(lines[0]!, /^4 records imported; ecosystems: Debian, npm/);
    assert.match(lines[1]!, /debian-12\.tar \(Debian GNU\/Linux 12 \(bookworm\)\)$/);
    assert.match(
      lines[2]!,
      /^4 packages?, 4 vulnerabilit(y|ies) \(critical: 0, high: 3, medium: 1, low: 0, unknown: 0\), 4 fixable$/,
    );
    const found = new Set(run.stdout.match(/\bCVE-\d{4}-\d+\b/g));
    assert.deepEqual([...found].sort(), ['CVE-2020-28500', 'CVE-2021-23337', 'CVE-2023-5363']);
    assert.match(run.stdout, /^libssl3@3\.0\.11-1~deb12u1 \(deb\)\s+CVE-2023-5363\s+HIGH\s+3\.0\.11-1~deb12u2/m);
    assert.match(run.stdout, /^openssl@3\.0\.11-1~deb12u1 \(deb\)\s+CVE-2023-5363\s+HIGH\s+3\.0\.11-1~deb12u2/m);
    assert.match(run.stdout, /^lodash@4\.17\.20 \(npm\)\s+CVE-2021-23337\s+HIGH\s+4\.17\.21/m);
    assert.match(run.stdout, /^\s+CVE-2020-28500\s+MEDIUM\s+4\.17\.21/m);
    // Short enough to read: a newcomer's first screen, not thousands of lines.
    assert.ok(lines.length < 20, `${lines.length} lines`);
  });

  it('scans the committed example image, which examples/build.mjs reproduces byte for byte', () => {
    assert.match(firstCommand(README), / examples\/debian-12\.tar /);
    const check = spawnSync(process.execPath, [join(REPO_ROOT, 'examples/build.mjs'), '--check'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
  });

  it('keeps `npm ci && npm test` as the second command and the root-filesystem SBOM as the next thing to try', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(README)![1]!;
    assert.equal(block.trim().split('\n')[1], 'npm ci && npm test');
    assert.ok(README.includes('./bin/lading scan dir:/ --sbom-only'));
  });
});
