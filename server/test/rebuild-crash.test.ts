// kill -9 of a real lading-server process while a rebuild check is sending its webhook (the receiver holds the
// request open), then a restart on the same data: the check's next attempt finds the trigger still claimed by the
// dead attempt and records it `unknown` instead of asking again (the receiver saw exactly one request), and a later
// change is asked for normally by the restarted process. Both engines.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../engine/test/helpers/registry.js';
import { openDatabase } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { loadOrCreateSecretKeyFile } from '../src/secrets.js';
import { setRebuildTarget } from '../src/watch/index.js';
import { createTestDatabaseTarget, forEachDatabase, type TestDatabaseTarget } from './helpers/database.js';
import { type HttpReceiver, startHttpReceiver } from './helpers/receivers.js';
import { seedImages } from './helpers/seed.js';
import { startServer, stop } from './helpers/server-process.js';

const REPO = 'ghcr.io/acme/crash';
const DIGEST = `sha256:${'c3'.repeat(32)}`;

forEachDatabase((kind) => {
  describe('kill -9 while a rebuild trigger is being sent', () => {
    let target: TestDatabaseTarget;
    let dataDir: string;
    let receiver: HttpReceiver;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'lading-rebuild-crash-'));
      target = await createTestDatabaseTarget(kind, dataDir);
      receiver = await startHttpReceiver();
    });
    after(async () => {
      await receiver.close();
      await target.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('records the interrupted trigger unknown without asking again, and asks for the next change', async () => {
      const handle = await openDatabase(target.target);
      let repositoryId = 0;
      const event = async (db: typeof handle.db) =>
        db
          .transaction()
          .execute((trx) =>
            recordEvent(trx, { at: Date.now(), type: 'finding.new', actor: SYSTEM_ACTOR, repositoryId }),
          );
      try {
        await migrateToLatest(handle.db, handle.dialect);
        const seeded = await seedImages(handle.db, [
          {
            digest: DIGEST,
            repository: REPO,
            at: Date.now(),
            tags: ['latest'],
            packages: [
              { purl: 'pkg:deb/debian/openssl@3.0.1', type: 'deb', name: 'openssl', version: '3.0.1' },
              { purl: 'pkg:deb/debian/zlib@1.2.11', type: 'deb', name: 'zlib', version: '1.2.11' },
            ],
            findings: [
              { vuln: 'CVE-2026-3001', package: 'openssl', severity: 'HIGH', fixed: '3.0.2' },
              { vuln: 'CVE-2026-3002', package: 'zlib', severity: 'CRITICAL' },
            ],
          },
        ]);
        repositoryId = seeded.repositoryIds.get(REPO)!;
        // sealed with the key the server will load from its data dir
        await setRebuildTarget(
          handle.db,
          loadOrCreateSecretKeyFile(dataDir),
          repositoryId,
          { kind: 'webhook', url: `${receiver.url}/rebuild`, secret: 'crash-test-secret-0123456789' },
          Date.now(),
        );
        await event(handle.db);
      } finally {
        await handle.close();
      }
      receiver.script(['hang']);
      const database = target.target.kind === 'postgres' ? target.target.url : undefined;
      const port = await freePort();
      const first = await startServer(dataDir, database, port);
      try {
        await receiver.waitFor(1, 30_000);
      } finally {
        await stop(first, 'SIGKILL');
      }
      assert.equal(first.signalCode, 'SIGKILL');

      const second = await startServer(dataDir, database, port);
      const reader = await openDatabase(target.target);
      try {
        const states = async () =>
          (await reader.db.selectFrom('rebuild_triggers').select('state').orderBy('id').execute()).map((r) => r.state);
        const deadline = Date.now() + 60_000;
        while ((await states())[0] !== 'unknown') {
          if (Date.now() > deadline) throw new Error(`states stayed ${JSON.stringify(await states())}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(receiver.requests.length, 1, 'the interrupted trigger was not sent again');
        // the trigger's `unknown` commits before the check's own completion: wait for the job to end
        const check = async () =>
          reader.db
            .selectFrom('jobs')
            .select(['state', 'attempts'])
            .where('kind', '=', 'rebuild.check')
            .executeTakeFirstOrThrow();
        while (['queued', 'running'].includes((await check()).state)) {
          if (Date.now() > deadline) throw new Error(`the check stayed ${JSON.stringify(await check())}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const ended = await check();
        assert.deepEqual([ended.state, ended.attempts], ['succeeded', 2], 'the killed check ran again');

        // a new fixable set: the restarted server asks for it as usual
        await reader.db.updateTable('findings').set({ fixed_version: '1.2.12' }).execute();
        await event(reader.db);
        await receiver.waitFor(2, 30_000);
        while ((await states())[1] !== 'sent') {
          if (Date.now() > deadline + 30_000) throw new Error(`states stayed ${JSON.stringify(await states())}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(receiver.requests.length, 2);
        assert.deepEqual(
          JSON.parse(receiver.requests[1]!.body).cves.map((c: { id: string }) => c.id),
          ['CVE-2026-3001', 'CVE-2026-3002'],
        );
      } finally {
        await reader.close();
        await stop(second, 'SIGTERM');
      }
    });
  });
});
