// A real `lading-server start` process for the crash tests (kill -9 mid-send, then a restart on the same data): its
// bin from the repository, a short job lease so the killed process's job is taken up again within seconds of the
// restart, and 127.0.0.1 allowlisted for the outbound guard (the tests' receivers listen there).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../engine/test/helpers/cli.js';

const BIN = join(REPO_ROOT, 'server/bin/lading-server.mjs');

export async function startServer(dataDir: string, database: string | undefined, port: number): Promise<ChildProcess> {
  const args = ['start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`];
  if (database) args.push('--database', database);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    // a short lease: the job the killed process held is taken up again within seconds of the restart
    // (the receiver listens on 127.0.0.1: allowlisted for the outbound guard)
    env: {
      ...process.env,
      LADING_DATABASE_URL: '',
      LADING_DATA_DIR: '',
      LADING_JOB_LEASE_MS: '2000',
      LADING_OUTBOUND_ALLOW_PRIVATE: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lading-server exited ${child.exitCode}:\n${text}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`lading-server did not become ready:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}
