import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { jobFailure, pushBundle, requestPull, waitForJob } from '@lading/engine/collector';
import type { LadingError } from '@lading/engine/errors';
import { HttpClient } from '@lading/engine/http';
import { tempDir } from '../helpers/tmp.js';

/**
 * lading-server's ingest API is a separate package; these tests stand a small HTTP server in its place that answers
 * with the shapes SERVER.md section 2 gives (202/200 bodies, jobs, problem documents) and parses what it receives with
 * a real multipart parser (the WHATWG `Response.formData()` that ships with Node), so the bytes on the wire are checked.
 */

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: Received, res: ServerResponse) => void;

async function startServer(t: TestContext, handler: Handler): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const r = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    received.push(r);
    handler(r, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const TOKEN = 'lading_abcdefghij_0123456789abcdefghijABCDEFGHIJKL';

function accepted(status: number, res: ServerResponse, jobState = 'queued'): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    ...(status === 202 ? { location: '/api/v1/jobs/job_01' } : {}),
  });
  res.end(
    JSON.stringify({
      job: { id: 'job_01', state: jobState, url: '/api/v1/jobs/job_01' },
      image: { digest: DIGEST, url: `/api/v1/images/${DIGEST}` },
      artifacts: [{ kind: 'sbom-cyclonedx', sha256: 'cd'.repeat(32), size: 12, new: status === 202 }],
    }),
  );
}

function problem(res: ServerResponse, status: number, doc: Record<string, unknown>, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify({ type: 'about:blank', status, ...doc }));
}

async function formOf(r: Received): Promise<FormData> {
  return new Response(new Uint8Array(r.body), {
    headers: { 'content-type': String(r.headers['content-type']) },
  }).formData();
}

const quickHttp = () => new HttpClient({ retry: { retries: 0 } });

describe('collector: pushBundle', () => {
  it('streams the metadata first, then every part byte for byte, with the token and an exact length', async (t) => {
    const dir = await tempDir(t);
    const sbom = randomBytes(3 * 1024 * 1024 + 7); // several stream chunks, not a round size
    const sbomPath = join(dir, 'sbom.cdx.json');
    await writeFile(sbomPath, sbom);
    const server = await startServer(t, (_r, res) => accepted(202, res));
    const out = await pushBundle({
      server: { url: server.url, token: TOKEN },
      metadata: { repository: 'registry.example/acme/api', digest: DIGEST, tags: ['1.0'] },
      parts: [
        { name: 'sbom', path: sbomPath, contentType: 'application/vnd.cyclonedx+json' },
        { name: 'attestation', bytes: Buffer.from('{"payloadType":"x"}') },
        { name: 'attestation', bytes: Buffer.from('{"payloadType":"y"}') },
      ],
    });
    assert.equal(out.accepted.job.id, 'job_01');
    assert.equal(out.accepted.replayed, false);
    assert.equal(out.job, undefined);
    const [r] = server.received;
    assert.ok(r);
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/api/v1/ingest');
    assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.equal(r.headers['content-encoding'], undefined);
    const form = await formOf(r);
    assert.deepEqual(formKeys(form), ['metadata', 'sbom', 'attestation', 'attestation']);
    const metadata = form.get('metadata') as File;
    assert.deepEqual(JSON.parse(await metadata.text()), {
      repository: 'registry.example/acme/api',
      digest: DIGEST,
      tags: ['1.0'],
    });
    const sent = Buffer.from(await (form.get('sbom') as File).arrayBuffer());
    assert.equal(createHash('sha256').update(sent).digest('hex'), createHash('sha256').update(sbom).digest('hex'));
    assert.equal((form.get('sbom') as File).type, 'application/vnd.cyclonedx+json');
    assert.equal((form.get('sbom') as File).name, 'sbom.cdx.json');
    const attestations = await Promise.all(form.getAll('attestation').map((f) => (f as File).text()));
    assert.deepEqual(attestations, ['{"payloadType":"x"}', '{"payloadType":"y"}']);
  });

  it('keeps a path prefix of the server URL', async (t) => {
    const server = await startServer(t, (_r, res) => accepted(202, res));
    await pushBundle({
      server: { url: `${server.url}/lading`, token: TOKEN },
      metadata: { repository: 'r', digest: DIGEST },
      parts: [{ name: 'report', bytes: Buffer.from('{}') }],
    });
    assert.equal(server.received[0]?.path, '/lading/api/v1/ingest');
  });

  it('says a replay (200) apart from a new ingest (202)', async (t) => {
    const server = await startServer(t, (_r, res) => accepted(200, res));
    const out = await pushBundle({
      server: { url: server.url, token: TOKEN },
      metadata: { repository: 'r', digest: DIGEST },
      parts: [{ name: 'report', bytes: Buffer.from('{}') }],
    });
    assert.equal(out.accepted.replayed, true);
  });

  it('waits for the job by long-polling ?wait= until it ends', async (t) => {
    let polls = 0;
    const server = await startServer(t, (r, res) => {
      if (r.method === 'POST') return accepted(202, res);
      polls++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'job_01',
          kind: 'ingest',
          state: polls < 3 ? 'running' : 'succeeded',
          result: { image: DIGEST, counts: { critical: 0, high: 1, medium: 0, low: 0, unknown: 0 } },
        }),
      );
    });
    const out = await pushBundle(
      {
        server: { url: server.url, token: TOKEN },
        metadata: { repository: 'r', digest: DIGEST },
        parts: [{ name: 'report', bytes: Buffer.from('{}') }],
      },
      { wait: true },
    );
    assert.equal(out.job?.state, 'succeeded');
    assert.equal(polls, 3);
    const polled = server.received.filter((r) => r.method === 'GET').map((r) => r.path);
    assert.ok(
      polled.every((p) => p === '/api/v1/jobs/job_01?wait=30'),
      polled.join(' '),
    );
    assert.ok(server.received.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
  });

  it('gives up waiting after the timeout, in one line', async (t) => {
    const server = await startServer(t, (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'job_01', kind: 'ingest', state: 'running' }));
    });
    let clock = 0;
    await assert.rejects(
      waitForJob({ url: server.url, token: TOKEN }, 'job_01', {
        timeoutMs: 5000,
        now: () => {
          clock += 2000;
          return clock;
        },
      }),
      (err: LadingError) => err.code === 'NETWORK' && /job job_01 did not end within 5 s/.test(err.message),
    );
  });

  it("turns the server's problem document into one line naming the part and the reason (exit 3)", async (t) => {
    const server = await startServer(t, (_r, res) =>
      problem(res, 422, {
        title: 'Unprocessable Entity',
        part: 'report',
        detail: `report: target digest sha256:${'00'.repeat(32)} differs from\nmetadata.digest`,
      }),
    );
    await assert.rejects(
      pushBundle(
        {
          server: { url: server.url, token: TOKEN },
          metadata: { repository: 'r', digest: DIGEST },
          parts: [{ name: 'report', bytes: Buffer.from('{}') }],
        },
        { http: quickHttp() },
      ),
      (err: LadingError) => {
        assert.equal(err.code, 'BAD_INPUT');
        assert.equal(err.exitCode, 3);
        assert.doesNotMatch(err.message, /\n/);
        assert.match(err.message, /^lading-server refused \/api\/v1\/ingest: 422 Unprocessable Entity: report: target/);
        return true;
      },
    );
  });

  it('maps refusals to codes: 401/403 AUTH, 413 and 429 LIMIT (with Retry-After), 5xx NETWORK', async (t) => {
    const cases: [number, string, Record<string, string>][] = [
      [401, 'AUTH', {}],
      [403, 'AUTH', {}],
      [413, 'LIMIT', {}],
      [429, 'LIMIT', { 'retry-after': '7' }],
      [503, 'NETWORK', {}],
    ];
    for (const [status, code, headers] of cases) {
      const server = await startServer(t, (_r, res) => problem(res, status, { title: `status ${status}` }, headers));
      await assert.rejects(
        pushBundle(
          {
            server: { url: server.url, token: TOKEN },
            metadata: { repository: 'r', digest: DIGEST },
            parts: [{ name: 'report', bytes: Buffer.from('{}') }],
          },
          { http: quickHttp() },
        ),
        (err: LadingError) => {
          assert.equal(err.code, code, `${status}`);
          if (status === 429) assert.match(err.message, /retry after 7 s/);
          return true;
        },
      );
    }
  });

  it('a 2xx answer without a job, a missing file, an empty bundle and a bad URL are one-line errors', async (t) => {
    const server = await startServer(t, (_r, res) => res.writeHead(202, { 'content-type': 'text/html' }).end('<p>'));
    const base = { server: { url: server.url, token: TOKEN }, metadata: { repository: 'r', digest: DIGEST } };
    await assert.rejects(pushBundle({ ...base, parts: [{ name: 'report', bytes: Buffer.from('{}') }] }), {
      code: 'NETWORK',
      message: 'lading-server: /api/v1/ingest answered 202 with no JSON',
    });
    await assert.rejects(pushBundle({ ...base, parts: [{ name: 'sbom', path: '/nonexistent/sbom.json' }] }), {
      code: 'IO',
    });
    await assert.rejects(pushBundle({ ...base, parts: [] }), { code: 'USAGE' });
    await assert.rejects(
      pushBundle({
        ...base,
        server: { url: 'ftp://x', token: TOKEN },
        parts: [{ name: 'report', bytes: Buffer.from('{}') }],
      }),
      { code: 'USAGE', option: 'server' },
    );
    await assert.rejects(
      pushBundle({
        ...base,
        server: { url: server.url, token: '' },
        parts: [{ name: 'report', bytes: Buffer.from('{}') }],
      }),
      { code: 'AUTH' },
    );
  });
});

describe('collector: requestPull', () => {
  it('posts the digest reference and tags as JSON', async (t) => {
    const server = await startServer(t, (_r, res) => accepted(202, res));
    const image = `registry.example/acme/api@${DIGEST}`;
    const out = await requestPull({ server: { url: server.url, token: TOKEN }, image, tags: ['1.0'] });
    assert.equal(out.accepted.job.id, 'job_01');
    const [r] = server.received;
    assert.equal(r?.path, '/api/v1/ingest/pull');
    assert.equal(r?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r?.body.toString() ?? ''), { image, tags: ['1.0'] });
  });

  it('refuses a tag reference before asking the server', async () => {
    await assert.rejects(
      requestPull({ server: { url: 'http://127.0.0.1:9', token: TOKEN }, image: 'registry.example/acme/api:1.0' }),
      { code: 'USAGE' },
    );
  });
});

describe('collector: jobFailure', () => {
  it('an enforced verification failure is a "no" (exit 1); other failures are operational (exit 3)', () => {
    assert.equal(jobFailure({ id: 'j', kind: 'ingest', state: 'succeeded' }), undefined);
    const verify = jobFailure({
      id: 'j',
      kind: 'ingest',
      state: 'failed',
      error: { code: 'verification_failed', message: 'provenance.signature failed' },
    });
    assert.equal(verify?.exitCode, 1);
    assert.equal(
      verify?.message,
      'lading-server: ingest job j failed (verification_failed: provenance.signature failed)',
    );
    const other = jobFailure({
      id: 'j',
      kind: 'ingest',
      state: 'failed',
      error: { code: 'unreadable_sbom', message: 'x\ny' },
    });
    assert.equal(other?.exitCode, 3);
    assert.doesNotMatch(other?.message ?? '', /\n/);
  });
});

/** The form's field names in order (FormData.forEach: the iterator methods are not in every TypeScript lib set). */
function formKeys(form: FormData): string[] {
  const keys: string[] = [];
  form.forEach((_value, key) => {
    keys.push(key);
  });
  return keys;
}
