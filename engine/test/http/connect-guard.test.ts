import assert from 'node:assert/strict';
import { lookup as dnsLookup } from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { LadingError } from '@lading/engine/errors';
import { type ConnectGuard, HttpClient } from '@lading/engine/http';

/** HttpClient's ConnectGuard: every URL (redirects included) goes through checkUrl, every connection through lookup. */

async function serve(t: TestContext, handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

function recordingGuard(refuseHost?: string): ConnectGuard & { urls: string[]; looked: string[] } {
  const urls: string[] = [];
  const looked: string[] = [];
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    looked.push(hostname);
    if (hostname === refuseHost) {
      const err = new Error(`${hostname} is not allowed`) as NodeJS.ErrnoException;
      err.code = 'EADDRNOTALLOWED';
      callback(err);
      return;
    }
    dnsLookup(hostname, { all: true, family: 4 }, (err, addresses) => {
      if (err) return callback(err);
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]?.address, addresses[0]?.family);
    });
  }) as unknown as LookupFunction;
  return {
    urls,
    looked,
    checkUrl(url: URL) {
      urls.push(url.href);
      if (url.hostname === '169.254.169.254') throw new LadingError('NETWORK', `refused ${url.host}`);
    },
    lookup,
  };
}

describe('HttpClient connectGuard', () => {
  it('looks host names up through the guard for each connection, and checks each redirect', async (t) => {
    const target = await serve(t, (_req, res) => res.writeHead(200).end('ok'));
    const origin = await serve(t, (_req, res) =>
      res.writeHead(302, { location: `http://localhost:${target}/there` }).end(),
    );
    const guard = recordingGuard();
    const client = new HttpClient({ connectGuard: guard, retry: { retries: 0 } });
    const res = await client.request({ url: `http://localhost:${origin}/here` });
    assert.equal(res.status, 200);
    res.body.resume();
    assert.deepEqual(guard.urls, [`http://localhost:${origin}/here`, `http://localhost:${target}/there`]);
    // a connection of its own per request: both hops resolved through the guard
    assert.deepEqual(guard.looked, ['localhost', 'localhost']);
  });

  it('a lookup the guard refuses fails the request; a redirect it refuses is never followed', async (t) => {
    let reached = 0;
    const port = await serve(t, (_req, res) => {
      reached++;
      res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    const refusing = new HttpClient({ connectGuard: recordingGuard('localhost'), retry: { retries: 0 } });
    await assert.rejects(refusing.request({ url: `http://localhost:${port}/` }), (err: LadingError) => {
      assert.equal(err.code, 'NETWORK');
      assert.match(err.message, /localhost is not allowed/);
      return true;
    });
    assert.equal(reached, 0);
    const redirected = new HttpClient({ connectGuard: recordingGuard(), retry: { retries: 0 } });
    await assert.rejects(redirected.request({ url: `http://127.0.0.1:${port}/` }), {
      message: 'refused 169.254.169.254',
    });
    assert.equal(reached, 1);
  });
});
