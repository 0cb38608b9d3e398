import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { LadingError } from '../../src/errors/lading-error.js';
import { readBody } from '../../src/http/body.js';
import { HttpClient } from '../../src/http/client.js';
import { downloadToFile, fetchBytes } from '../../src/http/download.js';
import { LADING_VERSION } from '../../src/version.js';
import { listenOnLoopback } from '../helpers/http-server.js';
import { tempDir } from '../helpers/tmp.js';

const FAST = { retries: 3, baseDelayMs: 5, maxDelayMs: 5000 };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** A server on 127.0.0.1 answering with `handle`; `seen` records every request. */
async function serve(t: TestContext, handle: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handle(req, res, seen.length);
  });
  const { port } = await listenOnLoopback(server, t);
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, seen };
}

function lading(code: string, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof LadingError, `a LadingError, not ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  };
}

describe('http: the one HTTP stack', () => {
  it('sends User-Agent lading/<version> on every request, the download helpers included', async (t) => {
    const server = await serve(t, (_req, res) => res.end('ok'));
    const res = await new HttpClient().request({ url: `${server.url}/a` });
    assert.equal((await readBody(res, 100, 'a')).toString(), 'ok');
    assert.deepEqual(await fetchBytes(`${server.url}/b`, 100), Buffer.from('ok'));
    const dir = await tempDir(t);
    await downloadToFile(`${server.url}/c`, join(dir, 'c'));
    assert.deepEqual(
      server.seen.map((s) => s.headers['user-agent']),
      [`lading/${LADING_VERSION}`, `lading/${LADING_VERSION}`, `lading/${LADING_VERSION}`],
    );
  });

  it('retries a 503 and a dropped connection, then succeeds; a POST is not repeated', async (t) => {
    const server = await serve(t, (req, res, n) => {
      if (req.url === '/post') res.writeHead(503).end();
      else if (n === 1) res.writeHead(503).end('busy');
      else if (n === 2) req.socket.destroy();
      else res.end('done');
    });
    const client = new HttpClient({ retry: FAST });
    const res = await client.request({ url: `${server.url}/get` });
    assert.equal(res.status, 200);
    assert.equal((await readBody(res, 100, 'get')).toString(), 'done');
    assert.equal(server.seen.length, 3);

    const post = await client.request({ method: 'POST', url: `${server.url}/post`, body: Buffer.from('x') });
    assert.equal(post.status, 503, 'the last answer is returned for the caller to judge');
    assert.equal(server.seen.filter((s) => s.url === '/post').length, 1);
  });

  it('honours Retry-After', async (t) => {
    const server = await serve(t, (_req, res, n) => {
      if (n === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.end('ok');
    });
    const started = Date.now();
    const res = await new HttpClient({ retry: FAST }).request({ url: `${server.url}/x` });
    assert.equal(res.status, 200);
    const waited = Date.now() - started;
    assert.ok(waited >= 950, `waited ${waited} ms`);
    assert.equal(server.seen.length, 2);
  });

  it('fails with a clear NETWORK error when the deadline passes, before the answer or during its body', async (t) => {
    const silent = await serve(t, () => {
      // accepts and never answers
    });
    const client = new HttpClient({ idleTimeoutMs: 10_000, retry: FAST });
    let started = Date.now();
    await assert.rejects(
      client.request({ url: `${silent.url}/slow`, deadlineMs: 300 }),
      lading('NETWORK', /127\.0\.0\.1:\d+\/slow: no complete answer within 300 ms/),
    );
    assert.ok(Date.now() - started < 3000);

    const trickle = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      const tick = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(tick));
    });
    started = Date.now();
    const res = await client.request({ url: `${trickle.url}/body`, deadlineMs: 400 });
    await assert.rejects(readBody(res, 10_000, 'body'), lading('NETWORK', /no complete answer within 400 ms/));
    assert.ok(Date.now() - started < 3000);

    // a wait for a retry that would end past the deadline fails at once with the deadline's error
    const busy = await serve(t, (_req, res) => res.writeHead(503, { 'retry-after': '5' }).end());
    started = Date.now();
    await assert.rejects(
      client.request({ url: `${busy.url}/busy`, deadlineMs: 1000 }),
      lading('NETWORK', /no complete answer within 1000 ms/),
    );
    assert.ok(Date.now() - started < 900);
  });

  it('refuses bodies over the size cap: declared, streamed, and in downloads (leaving no file)', async (t) => {
    const body = Buffer.alloc(4096, 'a');
    const server = await serve(t, (req, res) => {
      if (req.url === '/chunked') {
        res.write(body.subarray(0, 2048));
        res.end(body.subarray(2048));
      } else res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
    const client = new HttpClient();
    await assert.rejects(
      readBody(await client.request({ url: `${server.url}/declared` }), 1024, 'the answer'),
      lading('LIMIT', /the answer is 4096 bytes, more than the 1024 allowed/),
    );
    await assert.rejects(
      readBody(await client.request({ url: `${server.url}/chunked` }), 1024, 'the answer'),
      lading('LIMIT', /more than the 1024 bytes allowed/),
    );
    await assert.rejects(fetchBytes(`${server.url}/declared`, 1024), lading('LIMIT'));
    const dir = await tempDir(t);
    for (const path of ['/declared', '/chunked']) {
      const dest = join(dir, 'file');
      await assert.rejects(downloadToFile(`${server.url}${path}`, dest, { maxBytes: 1024 }), lading('LIMIT'));
      assert.ok(!existsSync(dest), `${path}: no partial file`);
    }
    const ok = await downloadToFile(`${server.url}/declared`, join(dir, 'ok'), { maxBytes: 4096 });
    assert.deepEqual(ok, { status: 'ok', bytes: 4096 });
  });

  it('follows redirects without carrying credentials to another origin, and bounds them', async (t) => {
    const other = await serve(t, (_req, res) => res.end('elsewhere'));
    const server = await serve(t, (req, res) => {
      if (req.url === '/away') res.writeHead(307, { location: `http://localhost:${other.host.split(':')[1]}/x` }).end();
      else if (req.url === '/file') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      else res.writeHead(302, { location: '/loop' }).end();
    });
    const client = new HttpClient();
    const res = await client.request({ url: `${server.url}/away`, headers: { authorization: 'Bearer secret' } });
    assert.equal((await readBody(res, 100, 'x')).toString(), 'elsewhere');
    assert.equal(server.seen[0]?.headers.authorization, 'Bearer secret');
    assert.equal(other.seen[0]?.headers.authorization, undefined);
    assert.equal(res.url.pathname, '/x');
    await assert.rejects(
      client.request({ url: `${server.url}/file` }),
      lading('NETWORK', /refusing a redirect to file:/),
    );
    await assert.rejects(client.request({ url: `${server.url}/loop` }), lading('NETWORK', /more than 5 redirects/));
  });

  it('stops on its AbortSignal: during a retry wait and while the body streams', async (t) => {
    const busy = await serve(t, (_req, res) => res.writeHead(503, { 'retry-after': '10' }).end());
    const client = new HttpClient({ retry: { ...FAST, maxDelayMs: 30_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await assert.rejects(client.request({ url: busy.url, signal: controller.signal }), lading('ABORTED'));
    assert.ok(Date.now() - started < 2000);

    const trickle = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      const tick = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(tick));
    });
    const second = new AbortController();
    const res = await client.request({ url: trickle.url, signal: second.signal });
    setTimeout(() => second.abort(), 100);
    await assert.rejects(readBody(res, 10_000, 'body'), lading('ABORTED'));
    await assert.rejects(client.request({ url: trickle.url, signal: second.signal }), lading('ABORTED'));
  });

  it('fails a server that drips bytes below the minimum rate, but not a caller that reads slowly', async (t) => {
    const drips: NodeJS.Timeout[] = [];
    t.after(() => {
      for (const timer of drips) clearInterval(timer);
    });
    const server = await serve(t, (req, res) => {
      if (req.url === '/drip') {
        // never silent for the idle timeout, yet a byte every 100 ms is far below the rate asked for
        res.writeHead(200, { 'content-length': '100000' });
        drips.push(setInterval(() => res.write('x'), 100));
      } else {
        res.writeHead(200, { 'content-length': String(4 << 20) }).end(Buffer.alloc(4 << 20));
      }
    });
    const client = new HttpClient({ idleTimeoutMs: 10_000, retry: FAST, minimumRate: { bytes: 100, windowMs: 400 } });
    const started = Date.now();
    const drip = await client.request({ url: `${server.url}/drip` });
    await assert.rejects(
      readBody(drip, 1 << 20, 'drip'),
      lading('NETWORK', /transfer too slow \(fewer than 100 bytes in 0\.4 s\) for \/drip/),
    );
    assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
    // the caller holds the body unread for several windows (backpressure): not the server's fault
    const held = await client.request({ url: `${server.url}/fast` });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await readBody(held, 8 << 20, 'fast')).length, 4 << 20);
  });

  it('turns a refused connection into one NETWORK line naming the host', async () => {
    const client = new HttpClient({ retry: { retries: 1, baseDelayMs: 5, maxDelayMs: 10 } });
    await assert.rejects(
      client.request({ url: 'http://127.0.0.1:1/x' }),
      lading('NETWORK', /cannot reach 127\.0\.0\.1:1/),
    );
  });
});
