// Real Lading reports for the server's read tests, made by the CLI (run from source) from the engine's end-to-end
// fixtures: two Alpine 3.16 root filesystems (3.16.2 with openssl 1.1.1q-r0, 3.16.4 with 1.1.1t-r0) scanned against
// the real OSV records of engine/test/fixtures/e2e/osv, imported into a fresh database folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliResult, REPO_ROOT, runCli } from '../../../engine/test/helpers/cli.js';

const E2E = join(REPO_ROOT, 'engine/test/fixtures/e2e');

/** Runs `lading ARGS`; a non-zero exit fails unless `allowFailure`, with both streams in the message. */
export async function runLading(args: string[], options: { allowFailure?: boolean } = {}): Promise<CliResult> {
  const result = await runCli(args);
  if (result.code !== 0 && !options.allowFailure) {
    throw new Error(`lading ${args.join(' ')} → ${result.code}\n${result.stderr}`);
  }
  return result;
}

export interface CliReports {
  dbDir: string;
  aTarget: string;
  bTarget: string;
  aFile: string;
  bFile: string;
  dispose(): Promise<void>;
}

/** Scans release A and release B to report files (the CLI's own `-o json` bytes). */
export async function cliReports(): Promise<CliReports> {
  const work = await mkdtemp(join(tmpdir(), 'lading-server-reports-'));
  const dbDir = join(work, 'db');
  await runLading(['db', 'import', join(E2E, 'osv'), '--db-dir', dbDir, '--quiet']);
  const aTarget = `dir:${join(E2E, 'rootfs/alpine-a')}`;
  const bTarget = `dir:${join(E2E, 'rootfs/alpine-b')}`;
  const aFile = join(work, 'a.json');
  const bFile = join(work, 'b.json');
  await Promise.all([
    runLading(['scan', aTarget, '--db-dir', dbDir, '-o', `json=${aFile}`]),
    runLading(['scan', bTarget, '--db-dir', dbDir, '-o', `json=${bFile}`]),
  ]);
  return { dbDir, aTarget, bTarget, aFile, bFile, dispose: () => rm(work, { recursive: true, force: true }) };
}
