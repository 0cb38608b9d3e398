import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { LadingError } from '../errors/lading-error.js';

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  /** Idle time allowed on the socket (connect, headers, and between body chunks). */
  timeoutMs: number;
  /** TLS certificates are checked unless the registry was declared insecure. */
  rejectUnauthorized: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** Set on a 401 that answered the user's own credentials (basic auth): they were refused, not missing. */
  credentialsRefused?: boolean;
}

// Kept alive so a scan's many blob requests reuse connections.
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
const httpsInsecureAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });

/** One HTTP exchange; resolves when the response headers arrive, the body is left to the caller. */
export function sendRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = req.url.protocol === 'https:';
    const agent = isHttps ? (req.rejectUnauthorized ? httpsAgent : httpsInsecureAgent) : httpAgent;
    const headers: Record<string, string> = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.length);
    const options = { method: req.method, headers, agent };
    const onResponse = (res: IncomingMessage) => {
      // The same timeout keeps guarding the body while the caller reads it.
      res.socket?.setTimeout(req.timeoutMs);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
    };
    const request = isHttps ? https.request(req.url, options, onResponse) : http.request(req.url, options, onResponse);
    request.setTimeout(req.timeoutMs, () => {
      const err = new Error(`no answer within ${req.timeoutMs} ms`) as NodeJS.ErrnoException;
      err.code = 'ETIMEDOUT';
      request.destroy(err);
    });
    request.on('error', reject);
    request.end(req.body);
  });
}

/** Reads a whole (small) body, failing with LadingError('LIMIT') past `maxBytes` instead of buffering it. */
export async function readBody(res: HttpResponse, maxBytes: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy();
    throw new LadingError('LIMIT', `${what} is ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      res.body.destroy();
      throw new LadingError('LIMIT', `${what} is more than the ${maxBytes} bytes allowed`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Drops a body we do not need, so the keep-alive socket can be reused. */
export function discardBody(res: HttpResponse): void {
  res.body.resume();
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
