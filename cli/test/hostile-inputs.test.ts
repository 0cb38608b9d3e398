import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { listenOnLoopback } from '../../engine/test/helpers/http-server.js';

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
