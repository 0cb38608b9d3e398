// Exceptions over time on both engines: an expired exception stops suppressing (its findings open, the image counters
// count them again, one exception.expired event), a revoked one is left alone, the hourly job is idempotent, and a
// daily digest event lists what expires within a week.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { enqueue } from '../src/jobs/queue.js';
import { EXCEPTIONS_EXPIRE, expireExceptions, registerReanalysisJobs } from '../src/reanalysis/index.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const IMAGE = `sha256:${'ab'.repeat(32)}`;
const T = Date.UTC(2026, 10, 20, 10, 30);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

forEachDatabase((kind) => {
  let server: TestServer;
  const clock = new TestClock(T);
  let imageId = 0;
  let repositoryId = 0;

  before(async () => {
    server = await startTestServer({ database: kind, clock, jobHandlers: registerReanalysisJobs });
    const seeded = await seedImages(server.ctx.db, [
      {
        digest: IMAGE,
        repository: 'team-a/api',
        at: T - 10 * DAY,
        tags: ['latest'],
        packages: [
          { purl: 'pkg:apk/alpine/openssl@3.0.1', type: 'apk', name: 'openssl', version: '3.0.1' },
          { purl: 'pkg:apk/alpine/zlib@1.2.0', type: 'apk', name: 'zlib', version: '1.2.0' },
        ],
        findings: [
          { vuln: 'CVE-2026-0001', package: 'openssl', severity: 'CRITICAL', status: 'suppressed', kev: true },
          { vuln: 'CVE-2026-0002', package: 'zlib', severity: 'HIGH', status: 'suppressed' },
          { vuln: 'CVE-2026-0003', package: 'zlib', severity: 'MEDIUM', status: 'suppressed' },
          { vuln: 'CVE-2026-0004', package: 'zlib', severity: 'LOW' },
        ],
      },
    ]);
    imageId = seeded.imageIds.get(IMAGE) ?? 0;
    repositoryId = seeded.repositoryIds.get('team-a/api') ?? 0;
    const exception = async (vuln: string, expiresAt: number, revokedAt: number | null = null) => {
      const v = await server.ctx.db
        .selectFrom('vulnerabilities')
        .select('id')
        .where('vuln_id', '=', vuln)
        .executeTakeFirstOrThrow();
      const row = await server.ctx.db
        .insertInto('exceptions')
        .values({
          public_id: `exc_${vuln}`,
          vulnerability_id: v.id,
          repository_id: repositoryId,
          image_digest: null,
          package_pattern: null,
          status: 'accepted_risk',
          justification: null,
          reason: 'patched in the next release',
          owner_user_id: server.admin.userId,
          created_by: server.admin.userId,
          expires_at: expiresAt,
          revoked_at: revokedAt,
          source: 'manual',
          created_at: T - 10 * DAY,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await server.ctx.db
        .updateTable('findings')
        .set({ exception_id: row.id })
        .where('vulnerability_id', '=', v.id)
        .where('image_id', '=', imageId)
        .execute();
    };
    await exception('CVE-2026-0001', T - HOUR); // expired
    await exception('CVE-2026-0002', T + 3 * DAY); // expires soon
    await exception('CVE-2026-0003', T - HOUR, T - 2 * HOUR); // revoked before it expired: not this job's
    // the image's counters as a suppressed analysis left them
    await server.ctx.db
      .updateTable('images')
      .set({ critical: 0, high: 0, medium: 0, low: 1, suppressed: 3, has_kev: 0, risk_index: 0 })
      .where('id', '=', imageId)
      .execute();
  });
  after(() => server.close());

  const statusOf = async (vuln: string) =>
    server.ctx.db
      .selectFrom('findings as f')
      .innerJoin('vulnerabilities as v', 'v.id', 'f.vulnerability_id')
      .select(['f.status', 'f.exception_id'])
      .where('v.vuln_id', '=', vuln)
      .executeTakeFirstOrThrow();
  const events = async (type: string) =>
    server.ctx.db.selectFrom('events').selectAll().where('type', '=', type).orderBy('id').execute();
  const counters = async () =>
    server.ctx.db
      .selectFrom('images')
      .select(['critical', 'high', 'medium', 'low', 'suppressed', 'has_kev', 'risk_index'])
      .where('id', '=', imageId)
      .executeTakeFirstOrThrow();

  it('opens the findings of an expired exception, recounts the image, and says so once', async () => {
    const result = await expireExceptions(server.ctx);
    assert.deepEqual(result, { expired: 1, reopenedFindings: 1, expiringSoon: 1 });
    assert.deepEqual(await statusOf('CVE-2026-0001'), { status: 'open', exception_id: null });
    assert.equal((await statusOf('CVE-2026-0002')).status, 'suppressed');
    assert.equal((await statusOf('CVE-2026-0003')).status, 'suppressed', 'a revoked exception is not expired here');
    const c = await counters();
    assert.deepEqual(
      { ...c, has_kev: Number(c.has_kev), risk_index: Number(c.risk_index) },
      { critical: 1, high: 0, medium: 0, low: 1, suppressed: 2, has_kev: 1, risk_index: 3.3 },
    );
    const [expired] = await events('exception.expired');
    assert.equal(expired?.repository_id, repositoryId);
    assert.equal(expired?.request_id, 'exc_CVE-2026-0001');
    const data = JSON.parse(String(expired?.data));
    assert.equal(data.reopenedFindings, 1);
    assert.equal(data.vulnerability, 'CVE-2026-0001');
    const [digest] = await events('exceptions.expiring');
    const list = JSON.parse(String(digest?.data));
    assert.equal(list.count, 1);
    assert.equal(list.exceptions[0].exception, 'exc_CVE-2026-0002');
    assert.equal(list.exceptions[0].repository, 'team-a/api');
  });

  it('is idempotent: the hourly job run again changes nothing and writes no event', async () => {
    clock.advance(HOUR);
    const job = await enqueue(server.ctx.db, server.ctx.now(), { kind: EXCEPTIONS_EXPIRE });
    server.ctx.jobSignals.enqueued();
    const done = await server.api.get<{ state: string; result: unknown }>(`/api/v1/jobs/${job.publicId}?wait=30`);
    assert.equal(done.body.state, 'succeeded', done.text);
    assert.deepEqual(done.body.result, { expired: 0, reopenedFindings: 0, expiringSoon: 1 });
    assert.equal((await events('exception.expired')).length, 1);
    assert.equal((await events('exceptions.expiring')).length, 1, 'one digest a day');
  });

  it('expires the next one when its time comes, with a new day digest only when something still expires soon', async () => {
    clock.advance(3 * DAY);
    const result = await expireExceptions(server.ctx);
    assert.deepEqual(result, { expired: 1, reopenedFindings: 1, expiringSoon: 0 });
    assert.equal((await statusOf('CVE-2026-0002')).status, 'open');
    const c = await counters();
    assert.equal(c.high, 1);
    assert.equal(c.suppressed, 1);
    assert.equal((await events('exception.expired')).length, 2);
    assert.equal((await events('exceptions.expiring')).length, 1);
  });
});
