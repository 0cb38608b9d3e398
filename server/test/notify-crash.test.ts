// kill -9 of a real lading-server process while it is sending a webhook (the receiver holds the request open), then
// a restart on the same data: the delivery is not sent a second time (the receiver saw exactly one request), it is
// recorded `unknown`, and a later event is delivered normally by the restarted process. Both engines.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../engine/test/helpers/registry.js';
import { openDatabase } from '../src/db/connection.js';
import { encodeJson } from '../src/db/dialect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { recordEvent, SYSTEM_ACTOR } from '../src/events/index.js';
import { integrationKey, sealSecret } from '../src/notify/index.js';
import { loadOrCreateSecretKeyFile } from '../src/secrets.js';
import { createTestDatabaseTarget, forEachDatabase, type TestDatabaseTarget } from './helpers/database.js';
import { type HttpReceiver, startHttpReceiver } from './helpers/receivers.js';
import { startServer, stop } from './helpers/server-process.js';

forEachDatabase((kind) => {
  describe('kill -9 while a notification is being sent', () => {
    let target: TestDatabaseTarget;
    let dataDir: string;
    let receiver: HttpReceiver;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'lading-notify-crash-'));
      target = await createTestDatabaseTarget(kind, dataDir);
      receiver = await startHttpReceiver();
    });
    after(async () => {
      await receiver.close();
      await target.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('never delivers one event twice, and keeps delivering after the restart', async () => {
      const handle = await openDatabase(target.target);
      const event = async (type: string) =>
        handle.db
          .transaction()
          .execute((trx) => recordEvent(trx, { at: Date.now(), type, actor: SYSTEM_ACTOR, severity: 'critical' }));
      try {
        await migrateToLatest(handle.db, handle.dialect);
        // the rule is sealed with the key the server will load from its data dir
        const key = integrationKey(loadOrCreateSecretKeyFile(dataDir));
        await handle.db
          .insertInto('notification_rules')
          .values({
            name: 'crash',
            channel: 'webhook',
            target_enc: sealSecret(key, 'notification_rules.target', `${receiver.url}/hook`),
            secret_enc: sealSecret(key, 'notification_rules.secret', 'crash-test-secret-0123456789'),
            filter: encodeJson({}),
            enabled: 1,
            created_by: null,
            updated_at: Date.now(),
            created_at: Date.now(),
          })
          .execute();
        await event('finding.new');
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
          (await reader.db.selectFrom('notifications').select(['event_id', 'state']).orderBy('id').execute()).map(
            (r) => r.state,
          );
        const deadline = Date.now() + 30_000;
        while ((await states())[0] !== 'unknown') {
          if (Date.now() > deadline) throw new Error(`states stayed ${JSON.stringify(await states())}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(receiver.requests.length, 1, 'the interrupted delivery was not sent again');
        // the restarted server delivers new events as usual
        const writer = await openDatabase(target.target);
        try {
          await writer.db
            .transaction()
            .execute((trx) =>
              recordEvent(trx, { at: Date.now(), type: 'finding.new', actor: SYSTEM_ACTOR, severity: 'high' }),
            );
        } finally {
          await writer.close();
        }
        await receiver.waitFor(2, 30_000);
        while ((await states())[1] !== 'sent') {
          if (Date.now() > deadline + 30_000) throw new Error(`states stayed ${JSON.stringify(await states())}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(receiver.requests.length, 2);
        assert.notEqual(
          receiver.requests[0]!.headers['x-lading-delivery'],
          receiver.requests[1]!.headers['x-lading-delivery'],
        );
      } finally {
        await reader.close();
        await stop(second, 'SIGTERM');
      }
    });
  });
});
