import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';
import { freePort } from '../../engine/test/helpers/registry.js';
import { openDatabase } from '../src/db/connection.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { createTestDatabaseTarget, forEachDatabase, type TestDatabaseTarget } from './helpers/database.js';

/**
 * kill -9 of a real lading-server process (its bin, as an operator runs it) in the middle of an ingest load from a
 * bounded script, then a restart on the same data: every ingest that was acknowledged (202) is processed, exactly
 * once, and nothing is half-visible (an image row always comes with its placement, packages and single event).
 */

const BIN = join(REPO_ROOT, 'server/bin/lading-server.mjs');
const PUSHES = 24;
const CONCURRENCY = 4;
const KILL_AFTER_ACKS = 8;

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function startServer(dataDir: string, database: string | undefined, port: number): Promise<Running> {
  const args = ['start', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`];
  if (database) args.push('--database', database);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    // a short lease, so that the jobs the killed process held are taken up again within seconds of the restart
    env: { ...process.env, LADING_DATABASE_URL: '', LADING_DATA_DIR: '', LADING_JOB_LEASE_MS: '3000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lading-server exited ${child.exitCode}:\n${text}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`lading-server did not become ready:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, output: () => text };
}

forEachDatabase((kind) => {
  describe('kill -9 during an ingest load', () => {
    let target: TestDatabaseTarget;
    let dataDir: string;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'lading-crash-'));
      target = await createTestDatabaseTarget(kind, dataDir);
      // the server's vulnerability store: the data the bundles were scanned with
      cpSync(bundles.dbDir, join(dataDir, 'vulndb'), { recursive: true });
    });
    after(async () => {
      await target.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('every acknowledged ingest is processed exactly once after a restart; none is half-visible', async () => {
      const database = target.target.kind === 'postgres' ? target.target.url : undefined;
      const port = await freePort();
      const first = await startServer(dataDir, database, port);
      const token = /token:\s+(lading_\S+)/.exec(first.output())?.[1];
      assert.ok(token, first.output());
      const acknowledged = new Map<string, string>();
      let killed = false;
      let next = 0;
      const pushOne = async (): Promise<void> => {
        const digest = `sha256:${randomBytes(32).toString('hex')}`;
        const { body, headers } = await bundleBody(
          { repository: 'registry.example/acme/crash', digest, tags: ['latest'] },
          [['sbom', bundles.a.sbomFile]],
        );
        try {
          const res = await fetch(`${first.url}/api/v1/ingest`, {
            method: 'POST',
            body,
            headers: { ...headers, authorization: `Bearer ${token}` },
          });
          const answer = (await res.json()) as { job?: { id: string } };
          if (res.status === 202 && answer.job) acknowledged.set(digest, answer.job.id);
        } catch {
          // the server died under this request: not acknowledged, so no promise was made
        }
        if (!killed && acknowledged.size >= KILL_AFTER_ACKS) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      };
      const worker = async () => {
        while (next < PUSHES) {
          next++;
          await pushOne();
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      await new Promise<void>((resolve) =>
        first.child.exitCode !== null || first.child.signalCode ? resolve() : first.child.once('exit', () => resolve()),
      );
      assert.equal(first.child.signalCode, 'SIGKILL', 'the server was killed mid-load');
      assert.ok(acknowledged.size >= KILL_AFTER_ACKS);

      const second = await startServer(dataDir, database, port);
      try {
        for (const [digest, job] of acknowledged) {
          const res = await fetch(`${second.url}/api/v1/jobs/${job}?wait=60`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const view = (await res.json()) as { state: string; error: unknown };
          assert.equal(view.state, 'succeeded', `${digest}: ${JSON.stringify(view)}`);
        }
      } finally {
        second.child.kill('SIGTERM');
        await new Promise<void>((resolve) =>
          second.child.exitCode !== null ? resolve() : second.child.once('exit', () => resolve()),
        );
      }

      const handle = await openDatabase(target.target);
      try {
        const db = handle.db;
        const images = await db.selectFrom('images').select(['id', 'digest', 'packages']).execute();
        const byDigest = new Map(images.map((i) => [i.digest, i]));
        for (const digest of acknowledged.keys())
          assert.ok(byDigest.has(digest), `acknowledged ${digest} was processed`);
        for (const image of images) {
          // processed once: one ingest event, one placement; whole: its packages are there
          const events = await db
            .selectFrom('events')
            .select('id')
            .where('image_id', '=', image.id)
            .where('type', '=', 'image.ingested')
            .execute();
          assert.equal(events.length, 1, image.digest);
          const placements = await db
            .selectFrom('repository_images')
            .select('image_id')
            .where('image_id', '=', image.id)
            .execute();
          assert.equal(placements.length, 1, image.digest);
          const occurrences = await db
            .selectFrom('package_occurrences')
            .select('package_id')
            .where('image_id', '=', image.id)
            .execute();
          assert.equal(occurrences.length, image.packages, image.digest);
          assert.ok(image.packages > 0, image.digest);
        }
        // an acknowledged ingest has exactly one job, and every job made ended (none left behind by the kill)
        const jobs = await db
          .selectFrom('jobs')
          .select(['public_id', 'state', 'dedupe_key'])
          .where('kind', '=', 'ingest')
          .execute();
        for (const [digest, job] of acknowledged) {
          assert.equal(jobs.filter((j) => j.dedupe_key?.startsWith(`ingest:${digest}:`)).length, 1, digest);
          assert.ok(jobs.some((j) => j.public_id === job));
        }
      } finally {
        await handle.close();
      }
    });
  });
});
