import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface ServedFile {
  body: Buffer | string;
  etag?: string;
  /** An HTTP date (`new Date().toUTCString()`). */
  lastModified?: string;
  /** Send the full Content-Length but only this many bytes, then drop the connection. */
  cutAfter?: number;
  status?: number;
}

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
}

export interface FileServer {
  /** Base URL without a trailing slash: `http://127.0.0.1:PORT`. */
  url: string;
  requests: RecordedRequest[];
  set(path: string, file: ServedFile | undefined): void;
  close(): Promise<void>;
}

/**
 * A tiny HTTP server on 127.0.0.1 serving recorded files, with the conditional-request behaviour of a real
 * object store (ETag/If-None-Match, Last-Modified/If-Modified-Since → 304) and a way to cut a response short.
 */
export async function startFileServer(
  t: Pick<TestContext, 'after'>,
  files: Record<string, ServedFile> = {},
): Promise<FileServer> {
  const served = new Map(Object.entries(files));
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    requests.push({ path, headers: req.headers });
    const file = served.get(path);
    if (!file || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers: Record<string, string> = {};
    if (file.etag) headers['etag'] = file.etag;
    if (file.lastModified) headers['last-modified'] = file.lastModified;
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const notModified =
      (file.etag !== undefined && inm === file.etag) ||
      (inm === undefined &&
        ims !== undefined &&
        file.lastModified !== undefined &&
        Date.parse(ims) >= Date.parse(file.lastModified));
    if (notModified) {
      res.writeHead(304, headers).end();
      return;
    }
    const body = typeof file.body === 'string' ? Buffer.from(file.body) : file.body;
    res.writeHead(file.status ?? 200, { ...headers, 'content-length': String(body.length) });
    if (file.cutAfter !== undefined) {
      res.write(body.subarray(0, file.cutAfter), () => {
        res.socket?.destroy();
      });
      return;
    }
    res.end(body);
  });
  const { port, close } = await listenOnLoopback(server, t);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    set(path, file) {
      if (file) served.set(path, file);
      else served.delete(path);
    },
    close,
  };
}

/**
 * Starts `server` on a free port of 127.0.0.1; `close` (also run when the test ends) drops open connections too,
 * so keep-alive clients cannot hold the test open.
 */
export async function listenOnLoopback(
  server: Server,
  t: Pick<TestContext, 'after'>,
): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(close);
  return { port, close };
}
