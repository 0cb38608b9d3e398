import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

// The README's first command is what a newcomer runs first: `npm ci && npm run demo`, the server and its dashboard
// with a demo fleet, offline. Its next command does the CLI's main job (find real vulnerabilities in a real image) on
// a fresh machine with no network. This test runs those very lines, read from README.md, so the README cannot drift
// from what works.

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const BUNDLE = join(REPO_ROOT, 'cli/dist/bundle/bin.js');
/** The throwaway database folder the README names; the test swaps in a temporary one so runs never share it. */
const README_DB_DIR = '/tmp/lading-example';

/** The README's `sh` blocks, each as its lines, with `\` continuations joined. */
function shBlocks(markdown: string): string[][] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1]!
      .replace(/\\\n\s*/g, '')
      .trim()
      .split('\n')
      .map((l) => l.trim()),
  );
  assert.ok(blocks.length >= 2, 'README.md has no ```sh blocks');
  return blocks;
}

/** The first command of the README's first `sh` block. */
function firstCommand(markdown: string): string {
  return shBlocks(markdown)[0]![0]!;
}

/** The README's next command after the demo: the CLI's example scan (the first line of the second block). */
function scanCommand(markdown: string): string {
  return shBlocks(markdown)[1]![0]!;
}

describe("the README's first command", () => {
  it('is `npm ci && npm run demo`, which serves the dashboard with the demo fleet on 127.0.0.1, offline', async (t) => {
    const command = firstCommand(README);
    // `npm ci` installs and builds; the test suite runs after it, so the part that follows is what is checked here.
    assert.equal(command, 'npm ci && npm run demo');
    const dataDir = join(await tempDir(t), 'demo');
    const child = spawn('npm', ['run', 'demo', '--', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group, so that the test can stop npm and the server npm started, and nothing else
      detached: true,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.after(async () => {
      // npm runs the demo as its child: end the whole group (this test's own processes only), as Ctrl-C would
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
      await exited;
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo did not start in 180 s:\n${out}\n${err}`)), 180_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const m = /dashboard \(demo data\) is on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`the demo exited ${code}:\n${out}\n${err}`)));
    });
    assert.match(out, /password: \S{12,}/, 'the administrator password is printed once');
    assert.equal((out.match(/demo: pushed demo\.lading\.local\//g) ?? []).length, 6, out);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module"[^>]* src="\/assets\//);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    // the API is not open without a sign-in
    assert.equal((await fetch(`${url}/api/v1/overview`)).status, 401);
  });

  it('then scans the example image offline and finds its real vulnerabilities, exit 0', async (t) => {
    const rest = scanCommand(README);
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
    assert.match(scanCommand(README), / examples\/debian-12\.tar /);
    const check = spawnSync(process.execPath, [join(REPO_ROOT, 'examples/build.mjs'), '--check'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
  });

  it('keeps `npm ci && npm test` after the scan and the root-filesystem SBOM as the next thing to try', () => {
    assert.equal(shBlocks(README)[1]![1], 'npm ci && npm test');
    assert.ok(README.includes('./bin/lading scan dir:/ --sbom-only'));
  });
});
