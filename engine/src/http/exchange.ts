import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { abortedError } from '../errors/abort.js';
import { LadingError } from '../errors/lading-error.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/**
 * A body too big to hold in memory (an object upload): its exact size, and a way to open it, once per attempt, so
 * that a retry or a redirect sends it again from the start.
 */
export interface StreamBody {
  size: number;
  open: () => Readable;
}

export type RequestBody = Buffer | StreamBody;

/** One request on the wire: what `exchange` sends, after the client added headers, timeouts and TLS choice. */
export interface Exchange {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: RequestBody;
  /** Idle time allowed on the socket (connect, headers, and between body chunks). */
  idleTimeoutMs: number;
  /** TLS certificates are checked unless the host was declared insecure. */
  rejectUnauthorized: boolean;
  signal?: AbortSignal;
  /** When the answer, body included, must be complete; past it the exchange fails with `deadlineError()`. */
  deadline?: { at: number; error: () => LadingError };
  /** The slowest transfer tolerated (see MinimumRate); none when undefined. */
  minimumRate?: MinimumRate;
  /**
   * Resolves the host for this connection (a ConnectGuard's): the request then gets a connection of its own, never
   * a pooled one another lookup opened.
   */
  lookup?: LookupFunction;
}

/**
 * Fewer than `bytes` moved on the socket (sent or received) over `windowMs` fails the exchange: a server that
 * drips a byte every few seconds never trips an idle timeout but would hold a scan for days. Windows in which the
 * caller, not the server, was slow (the body paused by backpressure, or not read yet) do not count.
 */
export interface MinimumRate {
  bytes: number;
  windowMs: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, left to the caller: read it (readBody), stream it, or drop it (discardBody). */
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
}

// Kept alive so a scan's many blob requests reuse connections.
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
const httpsInsecureAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });

/**
 * One HTTP exchange; resolves when the response headers arrive. The idle timeout, the caller's AbortSignal and the
 * deadline keep guarding the body while the caller reads it: each destroys the socket with a one-line error.
 */
export function exchange(req: Exchange): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (req.signal?.aborted) {
      reject(abortedError());
      return;
    }
    const isHttps = req.url.protocol === 'https:';
    const agent = isHttps ? (req.rejectUnauthorized ? httpsAgent : httpsInsecureAgent) : httpAgent;
    const headers: Record<string, string> = { ...req.headers };
    const body = req.body;
    if (body) headers['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.size);
    const options = req.lookup
      ? {
          method: req.method,
          headers,
          agent: false as const,
          lookup: req.lookup,
          rejectUnauthorized: req.rejectUnauthorized,
        }
      : { method: req.method, headers, agent };
    let response: IncomingMessage | undefined;
    let timer: NodeJS.Timeout | undefined;
    let rateTimer: NodeJS.Timeout | undefined;
    const stop = (err: Error) => {
      if (response) response.destroy(err);
      else request.destroy(err);
    };
    const onAbort = () => stop(abortedError());
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      if (rateTimer) clearInterval(rateTimer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    const onResponse = (res: IncomingMessage) => {
      response = res;
      // The same idle timeout keeps guarding the body while the caller reads it.
      res.socket?.setTimeout(req.idleTimeoutMs);
      res.once('close', cleanup);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url });
    };
    const request = isHttps ? https.request(req.url, options, onResponse) : http.request(req.url, options, onResponse);
    request.setTimeout(req.idleTimeoutMs, () => {
      const err = new Error(`no answer within ${req.idleTimeoutMs} ms`) as NodeJS.ErrnoException;
      err.code = 'ETIMEDOUT';
      request.destroy(err);
    });
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.deadline) {
      const error = req.deadline.error;
      timer = setTimeout(() => stop(error()), Math.max(0, req.deadline.at - Date.now()));
      // a response the caller abandoned must not keep the process alive until the deadline
      timer.unref();
    }
    if (req.minimumRate) {
      const { bytes, windowMs } = req.minimumRate;
      let moved: number | undefined;
      rateTimer = setInterval(() => {
        const socket = request.socket;
        // not connected yet (queued behind the agent's other sockets): nothing to judge
        if (!socket) return;
        const now = socket.bytesRead + socket.bytesWritten;
        const before = moved;
        moved = now;
        // Unread (no consumer yet) or its buffer full: the socket is paused for the caller, whatever the server does.
        const callerSlow =
          response !== undefined &&
          (response.readableFlowing === null || response.readableLength >= response.readableHighWaterMark);
        if (before === undefined || callerSlow) return;
        if (now - before < bytes) {
          stop(
            new LadingError(
              'NETWORK',
              `${req.url.host}: transfer too slow (fewer than ${bytes} bytes in ${windowMs / 1000} s) for ${req.url.pathname}`,
            ),
          );
        }
      }, windowMs);
      rateTimer.unref();
      request.once('socket', (socket) => {
        moved = socket.bytesRead + socket.bytesWritten;
      });
    }
    request.on('error', (err) => {
      if (!response) cleanup();
      reject(err);
    });
    if (body === undefined || Buffer.isBuffer(body)) {
      request.end(body);
      return;
    }
    // A streamed body: its read errors (a file gone) fail the request with that error; pipe ends the request.
    const source = body.open();
    source.once('error', (err) => request.destroy(err));
    request.once('close', () => source.destroy());
    source.pipe(request);
  });
}
