import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { REPO_ROOT, runCli } from '../../engine/test/helpers/cli.js';

const pkg = JSON.parse(readFileSync(`${REPO_ROOT}cli/package.json`, 'utf8')) as { version: string };

describe('lading CLI contract', () => {
  it('--help lists every command with a description', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const cmd of [
      'scan',
      'sbom',
      'db',
      'diff',
      'summary',
      'generate-key-pair',
      'sign-blob',
      'sign',
      'attest',
      'provenance',
      'kyverno',
      'version',
    ]) {
      assert.match(r.stdout, new RegExp(`\\n\\s+${cmd}\\b.*\\S`), `missing ${cmd}`);
    }
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('an unknown command exits 2 with one line', async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^lading: unknown command 'frobnicate'/);
  });

  it('an unknown flag exits 2 with one line', async () => {
    const r = await runCli(['scan', 'dir:/nonexistent', '--no-such-flag']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /unknown option '--no-such-flag'/);
  });

  it('an unknown output format is a usage error', async () => {
    const r = await runCli(['scan', 'dir:/nonexistent', '-o', 'pdf']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown output format "pdf"/);
  });

  it('an operational error exits 3 with one line; --debug adds the stack', async () => {
    const [plain, debug] = await Promise.all([
      runCli(['sbom', 'docker-archive:/nonexistent/image.tar']),
      runCli(['sbom', 'docker-archive:/nonexistent/image.tar', '--debug']),
    ]);
    assert.equal(plain.code, 3);
    assert.equal(plain.stderr.trim().split('\n').length, 1, plain.stderr);
    assert.match(plain.stderr, /^lading: docker-archive:\/nonexistent\/image\.tar: .*no such file or directory/);
    assert.equal(debug.code, 3);
    assert.match(debug.stderr, /\n\s+at .+\(.*\.(ts|js):\d+:\d+\)/, 'a stack trace follows the one line');
  });
});
