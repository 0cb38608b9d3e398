// The event stream and the audit exports over real HTTP on both engines, every response checked against the OpenAPI
// document: 100,000 events read back through the `after` cursor while more are written (none lost, none twice),
// the caller's scope, type filters, the OCSF shape, bad parameters as one-line problems, JSON and CSV exports.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiToken } from '../src/auth/index.js';
import { encodeJson } from '../src/db/dialect.js';
import { recordEvent, SETTLE_MS } from '../src/events/index.js';
import { seedImages } from './helpers/seed.js';
import { forEachDatabase, startTestServer, TestClock, type TestServer } from './helpers/server.js';

const digest = (hex: string) => `sha256:${hex.repeat(64 / hex.length)}`;
const A_IMAGE = digest('a1');
const B_IMAGE = digest('b1');
const T = Date.UTC(2026, 10, 20);
const BULK = 100_000;

interface Line {
  id: number;
  type: string;
  repository: string | null;
  image: string | null;
  vulnerability: string | null;
  data: Record<string, unknown>;
}

interface OcsfLine {
  class_uid: number;
  category_uid: number;
  activity_id: number;
  type_uid: number;
  severity_id: number;
  time: number;
  metadata: { uid: string };
  actor: { user: { uid: string } };
  api?: { operation: string };
  vulnerabilities?: { cve: { uid: string } }[];
  resources?: { uid: string }[];
}

const parseLines = <T = Line>(text: string): T[] =>
  text === ''
    ? []
    : text
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => JSON.parse(l) as T);

forEachDatabase((kind) => {
  let server: TestServer;
  let clock: TestClock;
  let repoA = 0;
  let repoB = 0;
  let imageA = 0;
  let vulnId = 0;

  before(async () => {
    clock = new TestClock(T + 86_400_000);
    server = await startTestServer({ database: kind, clock, runJobs: false });
    const seeded = await seedImages(server.ctx.db, [
      {
        digest: A_IMAGE,
        repository: 'team-a/api',
        at: T,
        tags: ['latest'],
        packages: [{ purl: 'pkg:apk/alpine/openssl@3.0.1', type: 'apk', name: 'openssl', version: '3.0.1' }],
        findings: [{ vuln: 'CVE-2024-0001', package: 'openssl', severity: 'CRITICAL' }],
      },
      { digest: B_IMAGE, repository: 'team-b/web', at: T, tags: ['latest'] },
    ]);
    repoA = seeded.repositoryIds.get('team-a/api') ?? 0;
    repoB = seeded.repositoryIds.get('team-b/web') ?? 0;
    imageA = seeded.imageIds.get(A_IMAGE) ?? 0;
    const v = await server.ctx.db
      .selectFrom('vulnerabilities')
      .select('id')
      .where('vuln_id', '=', 'CVE-2024-0001')
      .executeTakeFirstOrThrow();
    vulnId = Number(v.id);
  });
  after(() => server.close());

  const token = async (scopes: ('read' | 'ingest')[], repositoryPattern: string) =>
    (
      await createApiToken(server.ctx, {
        name: `${scopes.join('+')} ${repositoryPattern}`,
        scopes,
        repositoryPattern,
        expiresAt: server.ctx.now() + 86_400_000,
        ownerUserId: server.admin.userId,
      })
    ).token;

  const allIds = async () =>
    (await server.ctx.db.selectFrom('events').select('id').orderBy('id').execute()).map((r) => Number(r.id));

  describe('the stream', () => {
    before(async () => {
      const at = T + 3_600_000;
      await recordEvent(server.ctx.db, {
        at,
        type: 'finding.new',
        actor: { kind: 'system', id: null },
        repositoryId: repoA,
        imageId: imageA,
        vulnerabilityId: vulnId,
        severity: 'CRITICAL',
        requestId: 'job_01',
        data: { package: 'openssl' },
      });
      await recordEvent(server.ctx.db, {
        at,
        type: 'image.ingested',
        actor: { kind: 'token', id: 7 },
        repositoryId: repoB,
      });
      await recordEvent(server.ctx.db, {
        at,
        type: 'token.created',
        actor: { kind: 'user', id: 1 },
        data: { name: 'ci' },
      });
    });

    it('answers the Lading shape in id order, filtered by exact types and prefixes', async () => {
      const all = await server.api.get('/api/v1/events');
      assert.equal(all.status, 200, all.text);
      assert.match(all.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      const lines = parseLines(all.text);
      assert.deepEqual(
        lines.map((l) => l.type),
        ['finding.new', 'image.ingested', 'token.created'],
      );
      const finding = lines[0];
      assert.equal(finding?.repository, 'team-a/api');
      assert.equal(finding?.image, A_IMAGE);
      assert.equal(finding?.vulnerability, 'CVE-2024-0001');
      assert.deepEqual(finding?.data, { package: 'openssl' });
      const ids = lines.map((l) => l.id);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
      );

      const prefix = parseLines((await server.api.get('/api/v1/events?types=finding.,token.created')).text);
      assert.deepEqual(
        prefix.map((l) => l.type),
        ['finding.new', 'token.created'],
      );
      // a prefix is a whole segment: "finding" alone names no type, and "find." matches nothing
      assert.equal((await server.api.get('/api/v1/events?types=find.')).text, '');
      const resumed = parseLines((await server.api.get(`/api/v1/events?after=${ids[0]}&limit=1`)).text);
      assert.deepEqual(
        resumed.map((l) => l.id),
        [ids[1]],
      );
    });

    it('answers OCSF: 2002 for findings, 6003 for the rest, the event id as metadata.uid', async () => {
      const res = await server.api.get('/api/v1/events?format=ocsf');
      assert.equal(res.status, 200, res.text);
      const [finding, ingested, created] = parseLines<OcsfLine>(res.text);
      assert.equal(finding?.class_uid, 2002);
      assert.equal(finding?.category_uid, 2);
      assert.equal(finding?.activity_id, 1);
      assert.equal(finding?.type_uid, 200201);
      assert.equal(finding?.severity_id, 5);
      assert.equal(finding?.time, T + 3_600_000);
      assert.deepEqual(finding?.vulnerabilities?.[0]?.cve, { uid: 'CVE-2024-0001' });
      assert.equal(finding?.resources?.[0]?.uid, A_IMAGE);
      assert.equal(ingested?.class_uid, 6003);
      assert.equal(ingested?.activity_id, 1);
      assert.equal(ingested?.api?.operation, 'image.ingested');
      assert.equal(ingested?.actor?.user?.uid, 'token:7');
      assert.equal(created?.class_uid, 6003);
      const ids = (await allIds()).slice(0, 3).map(String);
      assert.deepEqual(
        [finding, ingested, created].map((e) => e?.metadata?.uid),
        ids,
      );
    });

    it('shows a scoped token only its repositories, and events about no repository only to administrators', async () => {
      const teamA = await token(['read'], 'team-a/*');
      const seen = parseLines((await server.api.get('/api/v1/events', { token: teamA })).text);
      assert.deepEqual(
        seen.map((l) => l.type),
        ['finding.new'],
      );
      const everyRepo = await token(['read'], '*');
      const wide = parseLines((await server.api.get('/api/v1/events', { token: everyRepo })).text);
      assert.deepEqual(
        wide.map((l) => l.type),
        ['finding.new', 'image.ingested'],
      );
      const ingestOnly = await token(['ingest'], '*');
      assert.equal((await server.api.get('/api/v1/events', { token: ingestOnly })).status, 403);
      assert.equal((await server.api.get('/api/v1/events', { token: null })).status, 401);
    });

    it('refuses bad parameters with a one-line problem naming them', async () => {
      for (const [query, parameter] of [
        ['after=abc', 'after'],
        ['after=-1', 'after'],
        ['limit=0', 'limit'],
        ['limit=100001', 'limit'],
        ['format=xml', 'format'],
        ['types=Bad%20Type', 'types'],
        ['types=a..b', 'types'],
        ['after=1&after=2', 'after'],
      ] as const) {
        const res = await server.api.get<{ parameter?: string; detail: string }>(`/api/v1/events?${query}`);
        assert.equal(res.status, 400, `${query}: ${res.text}`);
        assert.equal(res.body.parameter, parameter, query);
        assert.doesNotMatch(res.body.detail, /\n/);
      }
    });
  });

  describe('the audit exports', () => {
    it('exports a repository as a JSON document and as CSV (quoted, formula cells defused)', async () => {
      await recordEvent(server.ctx.db, {
        at: T + 7_200_000,
        type: 'exception.created',
        actor: { kind: 'user', id: 1 },
        repositoryId: repoA,
        vulnerabilityId: vulnId,
        data: { reason: '=HYPERLINK("x"), "quoted"\nsecond line' },
      });
      const json = await server.api.get<{ repository: string; events: Line[] }>(
        `/api/v1/repositories/${encodeURIComponent('team-a/api')}/audit`,
      );
      assert.equal(json.status, 200, json.text);
      assert.match(json.headers.get('content-disposition') ?? '', /^attachment; filename="audit-.+\.json"$/);
      assert.equal(json.body.repository, 'team-a/api');
      assert.deepEqual(
        json.body.events.map((e) => e.type),
        ['finding.new', 'exception.created'],
      );

      const csv = await server.api.get(`/api/v1/repositories/${encodeURIComponent('team-a/api')}/audit?format=csv`);
      assert.equal(csv.status, 200, csv.text);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const records = parseCsv(csv.text);
      assert.deepEqual(records[0], [
        'id',
        'at',
        'type',
        'actor_kind',
        'actor_id',
        'repository',
        'image',
        'vulnerability',
        'severity',
        'request_id',
        'data',
      ]);
      assert.equal(records.length, 3);
      const exception = records[2] ?? [];
      assert.equal(exception[2], 'exception.created');
      assert.equal(exception[7], 'CVE-2024-0001');
      // the data cell is JSON (it starts with "{", so no apostrophe) and survives the quoting intact
      assert.deepEqual(JSON.parse(exception[10] ?? ''), { reason: '=HYPERLINK("x"), "quoted"\nsecond line' });

      await recordEvent(server.ctx.db, {
        at: T + 7_200_001,
        type: '=cmd',
        actor: { kind: 'system', id: null },
        repositoryId: repoA,
      });
      const guarded = parseCsv(
        (await server.api.get(`/api/v1/repositories/${encodeURIComponent('team-a/api')}/audit?format=csv`)).text,
      );
      assert.equal(guarded.at(-1)?.[2], "'=cmd");
    });

    it('exports an image, and answers 404 outside the caller scope or for an unknown image', async () => {
      const res = await server.api.get<{ image: string; events: Line[] }>(`/api/v1/images/${A_IMAGE}/audit`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.image, A_IMAGE);
      assert.deepEqual(
        res.body.events.map((e) => e.type),
        ['finding.new'],
      );
      const teamB = await token(['read'], 'team-b/*');
      assert.equal((await server.api.get(`/api/v1/images/${A_IMAGE}/audit`, { token: teamB })).status, 404);
      assert.equal(
        (await server.api.get(`/api/v1/repositories/${encodeURIComponent('team-a/api')}/audit`, { token: teamB }))
          .status,
        404,
      );
      assert.equal((await server.api.get(`/api/v1/images/${digest('ee')}/audit`)).status, 404);
      assert.equal((await server.api.get('/api/v1/images/sha256:nothex/audit')).status, 400);
      assert.equal((await server.api.get(`/api/v1/images/${A_IMAGE}/audit?format=xml`)).status, 400);
    });
  });

  if (kind === 'postgres') {
    it('leaves the newest events (a commit may still land below them) until they settle', async () => {
      const id = await recordEvent(server.ctx.db, {
        at: clock.now(),
        type: 'settle.probe',
        actor: { kind: 'system', id: null },
      });
      const before = parseLines((await server.api.get('/api/v1/events?types=settle.probe')).text);
      assert.deepEqual(before, []);
      clock.advance(SETTLE_MS + 1);
      const later = parseLines((await server.api.get('/api/v1/events?types=settle.probe')).text);
      assert.deepEqual(
        later.map((l) => l.id),
        [id],
      );
    });
  }

  it(`streams ${BULK.toLocaleString('en')} events through the cursor while more are written: none lost, none twice`, async () => {
    const first = Math.max(0, ...(await allIds()));
    for (let start = 0; start < BULK; start += 1_000) {
      const rows = [];
      for (let i = start; i < start + 1_000; i++) {
        rows.push({
          at: T + 10_000_000 + i,
          type: i % 3 === 0 ? 'finding.new' : 'image.ingested',
          actor_kind: 'system' as const,
          actor_id: null,
          repository_id: i % 2 === 0 ? repoA : repoB,
          image_id: null,
          vulnerability_id: null,
          severity: null,
          request_id: null,
          data: encodeJson({ n: i }),
          created_at: T,
        });
      }
      await server.ctx.db.insertInto('events').values(rows).execute();
    }
    const seen: number[] = [];
    let cursor = first;
    let written = 0;
    for (;;) {
      const res = await server.api.get(`/api/v1/events?after=${cursor}&limit=7777`);
      assert.equal(res.status, 200);
      const lines = parseLines(res.text);
      if (lines.length === 0) break;
      for (const l of lines) seen.push(l.id);
      cursor = lines[lines.length - 1]?.id ?? cursor;
      // writes between reads land after the cursor and are read on a later page
      if (written < 20) {
        await recordEvent(server.ctx.db, {
          at: T + 20_000_000 + written,
          type: 'image.ingested',
          actor: { kind: 'system', id: null },
          repositoryId: repoB,
        });
        written++;
      }
    }
    const expected = (await allIds()).filter((id) => id > first);
    assert.equal(expected.length, BULK + written);
    assert.equal(seen.length, expected.length);
    assert.deepEqual(seen, expected);

    // one request can take the whole range too
    const whole = await server.api.get(`/api/v1/events?after=${first}&limit=100000&types=finding.new`);
    assert.equal(parseLines(whole.text).length, Math.ceil(BULK / 3));
  });
});

/** RFC 4180 records (quoted cells with "" escapes, CRLF between records). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let cell = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return records;
}
