import { PassThrough, type Readable } from 'node:stream';
import { LadingError } from '../errors/lading-error.js';
import { discardBody, headerValue } from './body.js';
import type { HttpResponse } from './exchange.js';
import { isRetryableError, type RetryPolicy, retryDelayMs, sleep } from './retry.js';

/**
 * A body that survives dropped connections (a registry blob): on a reset mid-stream it asks again from the byte it
 * got to (HTTP Range) and carries on, so a multi-hundred-megabyte layer does not restart from zero, nor fail, on
 * one network hiccup. Gives up after the policy's retries, when the server cannot resume (no 206), or on abort.
 */
export function resumableBody(
  first: HttpResponse,
  reopen: (offset: number) => Promise<HttpResponse>,
  policy: RetryPolicy,
  what: string,
  signal?: AbortSignal,
): Readable {
  const out = new PassThrough();
  let offset = 0;
  let attempt = 0;
  let current: Readable = first.body;

  const fail = (err: unknown) => {
    if (out.destroyed) return;
    const e = err as NodeJS.ErrnoException;
    const why = `connection lost after ${offset} bytes (${e.code ?? e.message})`;
    out.destroy(err instanceof LadingError ? err : new LadingError('NETWORK', `${what}: ${why}`, { cause: err }));
  };

  const resume = async (cause: unknown) => {
    if (attempt >= policy.retries || !isRetryableError(cause)) {
      fail(cause);
      return;
    }
    try {
      await sleep(retryDelayMs(policy, attempt++), signal);
    } catch (err) {
      fail(err);
      return;
    }
    if (out.destroyed) return;
    try {
      const res = await reopen(offset);
      const range = headerValue(res.headers, 'content-range') ?? '';
      if (res.status !== 206 || !range.startsWith(`bytes ${offset}-`)) {
        discardBody(res);
        fail(new LadingError('NETWORK', `${what}: connection lost at byte ${offset} and the server cannot resume`));
        return;
      }
      attach(res.body);
    } catch (err) {
      await resume(err);
    }
  };

  const attach = (body: Readable) => {
    current = body;
    body.on('data', (chunk: Buffer) => {
      offset += chunk.length;
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    });
    body.on('end', () => out.end());
    body.on('error', (err) => {
      body.removeAllListeners('data');
      void resume(err);
    });
  };

  out.on('close', () => {
    if (!current.readableEnded) current.destroy();
  });
  attach(first.body);
  return out;
}
