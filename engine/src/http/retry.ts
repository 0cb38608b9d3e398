import type { IncomingHttpHeaders } from 'node:http';
import { abortedError } from '../errors/abort.js';
import { headerValue } from './body.js';

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  baseDelayMs: number;
  /** Longest single wait, a server's Retry-After included. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 30_000 };

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED']);

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

export function isRetryableError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && RETRY_ERRORS.has(code);
}

/** Exponential backoff with jitter, or the server's Retry-After (seconds or HTTP date), capped. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, headers?: IncomingHttpHeaders): number {
  const retryAfter = headers ? headerValue(headers, 'retry-after') : undefined;
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), policy.maxDelayMs);
  }
  const exp = policy.baseDelayMs * 2 ** attempt;
  return Math.min(exp / 2 + Math.random() * (exp / 2), policy.maxDelayMs);
}

/** Waits `ms`; an abort ends the wait at once with LadingError('ABORTED'). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
