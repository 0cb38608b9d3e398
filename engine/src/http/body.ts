import type { IncomingHttpHeaders } from 'node:http';
import { LadingError } from '../errors/lading-error.js';
import type { HttpResponse } from './exchange.js';

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
