import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { REPO_ROOT } from './paths.js';

export { ENGINE_ROOT, REPO_ROOT } from './paths.js';

const CLI_SOURCE = fileURLToPath(new URL('../../../cli/src/bin.ts', import.meta.url));

/**
 * Each run gets an empty result cache of its own unless the test names one (LADING_CACHE_DIR): a catalog kept by an
 * earlier test of the same (deterministically built) image would otherwise spare this run the walk it is testing.
 */
let cacheRoot: string | undefined;
function freshCacheDir(): string {
  if (!cacheRoot) {
    const root = mkdtempSync(join(tmpdir(), 'lading-test-cache-'));
    cacheRoot = root;
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  return mkdtempSync(join(cacheRoot, 'run-'));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI from source (through tsx) as a separate process, as a user would: real argv, exit code, streams.
 * `built: true` (or `LADING_TEST_BUILT=1` for calls that do not say) runs the built ./bin/lading, the bundled CLI,
 * instead; `built: false` always runs the sources.
 */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string; timeoutMs?: number; built?: boolean } = {},
): Promise<CliResult> {
  const argv =
    (options.built ?? process.env['LADING_TEST_BUILT'] === '1')
      ? [`${REPO_ROOT}bin/lading`, ...args]
      : ['--conditions=source', '--import', 'tsx', CLI_SOURCE, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: options.cwd ?? REPO_ROOT,
      // LADING_SKIP_DB_UPDATE: a scan that is online fetches missing or day-old data first; tests import theirs, and
      // must never reach the public OSV bucket (tests of the automatic update set it to '' and serve a mirror).
      env: {
        ...process.env,
        NO_COLOR: '1',
        LADING_CACHE_DIR: freshCacheDir(),
        LADING_SKIP_DB_UPDATE: '1',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}
