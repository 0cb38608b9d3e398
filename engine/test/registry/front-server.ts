// A tiny HTTP server of our own, placed in front of the real docker-registry, that behaves like the registries we
// cannot start locally: Docker Hub's token challenge, rate limits, dropped connections, blob-storage redirects.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { listenOnLoopback } from '../helpers/http-server.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FrontServer {
  host: string;
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export async function startFront(t: Pick<TestContext, 'after'>, handler: Handler): Promise<FrontServer> {
  const seen: SeenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString() });
    try {
      await handler(req, res, body);
    } catch (err) {
      res.statusCode = 599;
      res.end(String(err));
    }
  });
  const { port, close } = await listenOnLoopback(server, t);
  return { host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, seen, close };
}

/** Forwards a request to the real registry and copies its answer back (headers, status, body). */
export function proxyTo(target: string, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    delete headers['host'];
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers }, (up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        // Upload locations point at the registry itself: keep the client talking to us.
        if (v !== undefined) out[k] = k === 'location' && typeof v === 'string' ? v.replace(target, '') : v;
      }
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on('end', resolve);
      up.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/** Sends a recorded response (fixture JSON: status, headers, body), with header values rewritten by `edit`. */
export function sendRecorded(
  res: ServerResponse,
  recorded: { status: number; headers: Record<string, string>; body: string },
  edit: (name: string, value: string) => string = (_n, v) => v,
): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(recorded.headers)) headers[k] = edit(k, v);
  res.writeHead(recorded.status, headers);
  res.end(recorded.body);
}
