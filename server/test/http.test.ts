// The API's conventions on both engines: problem documents for every error (unknown routes, bad JSON, oversized
// bodies, wrong media types, encoded uploads, unexpected failures), security headers, health routes, keyset page
// tokens that cannot be moved to other filters or edited, and an OpenAPI document where every operation declares
// its operationId and x-lading-scope.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ROUTE_MODULES } from '../src/app.js';
import type { ServerContext } from '../src/context.js';
import {
  COUNT_CAP,
  cappedTotal,
  decodePageToken,
  encodePageToken,
  listHash,
  pageLimit,
  pageOf,
} from '../src/http/pagination.js';
import { HTTP_METHODS, loadOpenApiDocument } from './helpers/openapi.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problem } },
});

// Test-only operations: a JSON echo (body parsing and limits), a failing route, and a paginated list of numbers.
const PROBE_PATHS = {
  '/api/v1/_probe/echo': {
    post: {
      operationId: 'probeEcho',
      'x-lading-scope': 'public',
      responses: {
        '200': { description: 'echo', content: { 'application/json': { schema: { type: 'object' } } } },
        '400': problemResponse('bad'),
        '413': problemResponse('too large'),
        '415': problemResponse('media type'),
      },
    },
  },
  '/api/v1/_probe/fail': {
    get: {
      operationId: 'probeFail',
      'x-lading-scope': 'public',
      responses: { '500': problemResponse('failure') },
    },
  },
  '/api/v1/_probe/numbers': {
    get: {
      operationId: 'probeNumbers',
      'x-lading-scope': 'public',
      responses: {
        '200': {
          description: 'page',
          content: {
            'application/json': {
              schema: {
                allOf: [
                  { $ref: '#/components/schemas/Page' },
                  { properties: { items: { type: 'array', items: { type: 'integer' } } } },
                ],
              },
            },
          },
        },
        '400': problemResponse('bad'),
      },
    },
  },
};

function probes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/api/v1/_probe/echo', async (request) => ({ echo: request.body }));
  app.get('/api/v1/_probe/fail', async () => {
    throw new Error('secret internals at /srv/lading/db.ts:42');
  });
  // 1..25, optionally only odd or even, descending or ascending, paged by keyset
  app.get<{ Querystring: Record<string, string | undefined> }>('/api/v1/_probe/numbers', async (request) => {
    const limit = pageLimit(request.query.limit);
    const parity = request.query.parity;
    const sort = request.query.sort === '-n' ? '-n' : 'n';
    const hash = listHash(sort, { parity });
    const after = request.query.page_token
      ? decodePageToken(ctx.secrets.pageTokenKey, hash, request.query.page_token)
      : undefined;
    let all = Array.from({ length: 25 }, (_, i) => i + 1).filter(
      (n) => parity === undefined || (parity === 'odd' ? n % 2 === 1 : n % 2 === 0),
    );
    if (sort === '-n') all = all.reverse();
    const rest = after ? all.filter((n) => (sort === 'n' ? n > after.id : n < after.id)) : all;
    return pageOf(
      rest.slice(0, limit + 1),
      limit,
      { key: ctx.secrets.pageTokenKey, hash, cursorOf: (n) => ({ values: [], id: n }) },
      (n) => n,
      cappedTotal(all.length),
    );
  });
}

interface NumbersPage {
  items: number[];
  next_page_token: string | null;
  total: { count: number; type: string };
}

forEachDatabase((database) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ database, routes: [...ROUTE_MODULES, probes], extraPaths: PROBE_PATHS });
  });
  after(() => server.close());

  test('/healthz and /readyz answer ok; responses carry the request id, Server-Timing and security headers', async () => {
    const health = await server.api.get('/healthz', { token: null });
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    assert.match(health.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.match(health.headers.get('server-timing') ?? '', /^app;dur=\d+(\.\d)?$/);
    assert.equal(health.headers.get('x-content-type-options'), 'nosniff');
    assert.match(health.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const ready = await server.api.get('/readyz', { token: null });
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ok', checks: { database: 'ok', migrations: 'ok' } });
  });

  test('the OpenAPI document is served as committed', async () => {
    const res = await server.api.get('/api/v1/openapi.yaml', { token: null });
    assert.equal(res.status, 200);
    assert.match(res.text, /^openapi: 3\.1\.0$/m);
  });

  test('an unknown route is a 404 problem document', async () => {
    const res = await server.api.get('/api/v1/nothing/here?x=1');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(res.body, {
      type: 'about:blank',
      code: 'no_route',
      title: 'Not Found',
      status: 404,
      detail: 'no route GET /api/v1/nothing/here',
      instance: '/api/v1/nothing/here',
    });
  });

  test('malformed JSON is a 400 problem naming JSON, without internals', async () => {
    const res = await server.api.request<{ detail: string; status: number }>('POST', '/api/v1/_probe/echo', {
      body: '{"a": [1, 2',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.status, 400);
    assert.match(res.body.detail, /JSON/);
    assert.doesNotMatch(res.text, /at .*\.js:\d+|node_modules/);
  });

  test('a JSON body over 1 MiB is a 413 problem; exactly 1 MiB is accepted', async () => {
    const pad = (bytes: number) => `{"p":"${'x'.repeat(bytes - 8)}"}`;
    const big = await server.api.request('POST', '/api/v1/_probe/echo', {
      body: pad(1024 * 1024 + 1),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
    const fits = await server.api.request('POST', '/api/v1/_probe/echo', {
      body: pad(1024 * 1024),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(fits.status, 200);
  });

  test('a body of an unaccepted media type is a 415 problem; so is any Content-Encoding', async () => {
    const text = await server.api.request('POST', '/api/v1/_probe/echo', {
      body: 'hello',
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(text.status, 415);
    const gz = await server.api.request<{ code: string }>('POST', '/api/v1/_probe/echo', {
      body: '{}',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    assert.equal(gz.status, 415);
    assert.equal(gz.body.code, 'content_encoding');
  });

  test('an unexpected failure is a 500 problem with the request id and no message or stack', async () => {
    const res = await server.api.get<{ detail: string }>('/api/v1/_probe/fail');
    assert.equal(res.status, 500);
    assert.equal(
      res.body.detail,
      `the server failed to answer this request (request ${res.headers.get('x-request-id')})`,
    );
    assert.doesNotMatch(res.text, /secret internals|db\.ts/);
  });

  test('keyset pages walk the whole list once, with an exact total', async () => {
    const seen: number[] = [];
    let token: string | null = null;
    do {
      const query: string = token ? `&page_token=${encodeURIComponent(token)}` : '';
      const res = await server.api.get<NumbersPage>(`/api/v1/_probe/numbers?parity=odd&limit=4${query}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.total, { count: 13, type: 'EXACT' });
      seen.push(...res.body.items);
      token = res.body.next_page_token;
    } while (token);
    assert.deepEqual(seen, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25]);
  });

  test('a page token used with another filter or sort, or edited, or foreign, is a 400 problem', async () => {
    const first = await server.api.get<NumbersPage>('/api/v1/_probe/numbers?parity=odd&limit=2');
    const token = first.body.next_page_token!;
    assert.ok(token);
    const same = await server.api.get<NumbersPage>(`/api/v1/_probe/numbers?parity=odd&limit=2&page_token=${token}`);
    assert.deepEqual(same.body.items, [5, 7]);
    for (const query of [
      `parity=even&limit=2&page_token=${token}`,
      `limit=2&page_token=${token}`,
      `parity=odd&sort=-n&limit=2&page_token=${token}`,
    ]) {
      const res = await server.api.get<{ code: string; detail: string }>(`/api/v1/_probe/numbers?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.code, 'bad_page_token');
      assert.match(res.body.detail, /another sort or other filters/);
    }
    // rewrite the cursor to skip ahead, keeping the filter hash: the signature no longer matches
    const [body] = token.split('.');
    const decoded = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    decoded.i = 20;
    const forged = `${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${token.split('.')[1]}`;
    for (const bad of [forged, `${token}x`, 'not-a-token', `${token}.extra`]) {
      const res = await server.api.get<{ code: string }>(
        `/api/v1/_probe/numbers?parity=odd&limit=2&page_token=${encodeURIComponent(bad)}`,
      );
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 'bad_page_token');
    }
  });

  test('limit must be 1..200', async () => {
    for (const limit of ['0', '201', '-1', 'ten', '1.5']) {
      const res = await server.api.get(`/api/v1/_probe/numbers?limit=${limit}`);
      assert.equal(res.status, 400, limit);
    }
    const max = await server.api.get<NumbersPage>('/api/v1/_probe/numbers?limit=200');
    assert.equal(max.body.items.length, 25);
  });
});

test('page tokens of one server secret are refused by another', () => {
  const hash = listHash('n', {});
  const token = encodePageToken(new Uint8Array(32).fill(1), hash, { values: ['a', 2], id: 7 });
  assert.deepEqual(decodePageToken(new Uint8Array(32).fill(1), hash, token), { values: ['a', 2], id: 7 });
  assert.throws(() => decodePageToken(new Uint8Array(32).fill(2), hash, token), /not a token this server issued/);
});

test('totals are exact up to 10,000 and AT_LEAST beyond', () => {
  assert.deepEqual(cappedTotal(COUNT_CAP), { count: 10_000, type: 'EXACT' });
  assert.deepEqual(cappedTotal(COUNT_CAP + 1), { count: 10_000, type: 'AT_LEAST' });
});

test('every operation of the OpenAPI document has an operationId and an x-lading-scope', () => {
  const doc = loadOpenApiDocument();
  assert.equal(doc.openapi, '3.1.0');
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as { operationId?: string; 'x-lading-scope'?: string } | undefined;
      if (!op) continue;
      assert.ok(op.operationId, `${method} ${path} has an operationId`);
      assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
      ids.add(op.operationId);
      assert.ok(
        ['ingest', 'read', 'triage', 'admin', 'public'].includes(op['x-lading-scope'] ?? ''),
        `${method} ${path} declares x-lading-scope`,
      );
    }
  }
});
