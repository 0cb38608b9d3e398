import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { listenOnLoopback } from '../../engine/test/helpers/http-server.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

describe('nothing hangs: --timeout bounds the whole command', () => {
  it('a registry that drips a byte at a time ends with exit 3 "timed out after 2s" within the deadline', async (t) => {
    const open: { res: ServerResponse; timer: NodeJS.Timeout }[] = [];
    t.after(() => {
      for (const { timer } of open) clearInterval(timer);
    });
    // Never silent long enough for an idle timeout, never done either: the registry API answer comes a byte at a time.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000000' });
      open.push({ res, timer: setInterval(() => res.write(' '), 200) });
    });
    const { port } = await listenOnLoopback(server, t);
    for (const [args, env] of [
      [['--timeout', '2s', 'sbom', `127.0.0.1:${port}/drip/image:1`], {}],
      [['sbom', `127.0.0.1:${port}/drip/image:1`], { LADING_TIMEOUT: '2s' }],
    ] as const) {
      const started = Date.now();
      const r = await runCli([...args], { env: { ...env }, timeoutMs: 60_000 });
      const elapsed = Date.now() - started;
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stderr, 'lading: timed out after 2s\n');
      // the deadline, the CLI's own start-up (tsx compiles the sources) and the backstop's grace at most
      assert.ok(elapsed < 15_000, `${elapsed} ms`);
    }
  });

  it('--timeout must be a positive duration (exit 2)', async () => {
    for (const value of ['0', '-5s', 'soon']) {
      const r = await runCli(['--timeout', value, 'version']);
      assert.equal(r.code, 2, `${value}: ${r.stderr}`);
      assert.match(r.stderr, /^lading: --timeout: invalid duration/);
    }
  });
});

describe('caps are what the user gave', () => {
  it('--max-image-size 0 and --max-file-size 0 are usage errors, not the defaults', async () => {
    for (const flag of ['--max-image-size', '--max-file-size']) {
      const r = await runCli(['sbom', 'oci:/nonexistent', flag, '0']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `lading: ${flag} must be more than 0 (got "0")\n`);
    }
  });
});

describe('nothing hangs: a named pipe given as a file', () => {
  it('as --policy, --vex, --baseline, an sbom: target, a db import input, a diff side, a key or a predicate: exit 2 or 3 at once', async (t) => {
    const dir = await tempDir(t);
    const fifo = (name: string) => {
      const path = join(dir, name);
      execFileSync('mkfifo', [path]);
      return path;
    };
    const db = join(dir, 'db');
    const cases: [string[], number, RegExp][] = [
      [['scan', 'oci:/nonexistent', '--policy', fifo('policy.yaml')], 2, /policy\.yaml is not a regular file/],
      [['scan', 'oci:/nonexistent', '--vex', fifo('vex.json')], 2, /vex\.json is not a regular file/],
      [['scan', 'oci:/nonexistent', '--baseline', fifo('baseline.json')], 3, /baseline\.json is not a regular file/],
      [['sbom', `sbom:${fifo('bom.json')}`], 3, /bom\.json is not a regular file/],
      [['db', 'import', '--db-dir', db, fifo('records.zip')], 3, /records\.zip is not a regular file/],
      [['diff', fifo('old.json'), fifo('new.json'), '--sbom-only'], 3, /old\.json is not a regular file/],
      [['sign-blob', '--key', fifo('key.pem'), fifo('blob')], 3, /key\.pem: not a regular file/],
      [
        [
          'attest',
          '--key',
          fifo('cosign.key'),
          '--predicate',
          fifo('predicate.json'),
          `127.0.0.1:1/x@sha256:${'0'.repeat(64)}`,
        ],
        3,
        /not a regular file/,
      ],
    ];
    for (const [args, code, message] of cases) {
      const started = Date.now();
      const r = await runCli(args, { timeoutMs: 30_000, env: { LADING_OFFLINE: '1' } });
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      assert.ok(Date.now() - started < 15_000, `${args.join(' ')}: ${Date.now() - started} ms`);
    }
  });
});
