import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { discardBody, headerValue, readBody } from './body.js';
import { HttpClient } from './client.js';

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type DownloadResult =
  | { status: 'not-modified' }
  | { status: 'not-found' }
  | ({ status: 'ok'; bytes: number } & Validators);

export interface DownloadOptions {
  /** Ask conditionally (If-None-Match / If-Modified-Since): a 304 is `not-modified`. */
  validators?: Validators;
  /** Largest body accepted; default 4 GiB (Debian's all.zip is hundreds of MB). */
  maxBytes?: number;
  /** Overall time for the download; default 30 minutes (the idle timeout catches a stalled one sooner). */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** The client to send with (default: one shared client with the default policy). */
  client?: HttpClient;
}

export interface FetchOptions {
  /** Overall time for the answer and its body; default 2 minutes. */
  deadlineMs?: number;
  signal?: AbortSignal;
  client?: HttpClient;
}

const DEFAULT_MAX_DOWNLOAD = 4 * 1024 ** 3;
const DEFAULT_DOWNLOAD_DEADLINE_MS = 30 * 60_000;
const DEFAULT_FETCH_DEADLINE_MS = 120_000;

let shared: HttpClient | undefined;

/** The client downloads use unless given one: default User-Agent, timeouts and retry policy. */
export function defaultHttpClient(): HttpClient {
  shared ??= new HttpClient();
  return shared;
}

/**
 * GETs a URL into a file, conditionally when validators are known. The body streams to disk; a short body, a
 * dropped connection or a body over `maxBytes` is an error and the partial file is removed.
 */
export async function downloadToFile(
  url: string,
  dest: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const headers: Record<string, string> = {};
  if (options.validators?.etag) headers['if-none-match'] = options.validators.etag;
  if (options.validators?.lastModified) headers['if-modified-since'] = options.validators.lastModified;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOWNLOAD;
  const response = await (options.client ?? defaultHttpClient()).request({
    url,
    headers,
    deadlineMs: options.deadlineMs ?? DEFAULT_DOWNLOAD_DEADLINE_MS,
    what: url,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status === 304 || response.status === 404) {
    discardBody(response);
    return { status: response.status === 304 ? 'not-modified' : 'not-found' };
  }
  if (response.status < 200 || response.status > 299) {
    discardBody(response);
    throw new LadingError('NETWORK', `${url}: HTTP ${response.status}`);
  }
  const expected = Number(headerValue(response.headers, 'content-length') ?? Number.NaN);
  if (Number.isFinite(expected) && expected > maxBytes) {
    response.body.destroy();
    throw new LadingError('LIMIT', `${url}: ${expected} bytes is more than the ${maxBytes} allowed`);
  }
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) done(new LadingError('LIMIT', `${url}: more than the ${maxBytes} bytes allowed`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(response.body, counter, createWriteStream(dest));
  } catch (err) {
    await rm(dest, { force: true });
    if (err instanceof LadingError) throw err;
    throw new LadingError('NETWORK', `${url}: download interrupted after ${bytes} bytes: ${causeOf(err)}`, {
      cause: err,
    });
  }
  if (Number.isFinite(expected) && expected !== bytes) {
    await rm(dest, { force: true });
    throw new LadingError('NETWORK', `${url}: download incomplete (${bytes} of ${expected} bytes)`);
  }
  const result: DownloadResult = { status: 'ok', bytes };
  const etag = headerValue(response.headers, 'etag');
  const lastModified = headerValue(response.headers, 'last-modified');
  if (etag) result.etag = etag;
  if (lastModified) result.lastModified = lastModified;
  return result;
}

/** A small document (one OSV record, modified_id.csv, the KEV catalog) read whole; undefined on 404. */
export async function fetchBytes(
  url: string,
  maxBytes: number,
  options: FetchOptions = {},
): Promise<Buffer | undefined> {
  const response = await (options.client ?? defaultHttpClient()).request({
    url,
    deadlineMs: options.deadlineMs ?? DEFAULT_FETCH_DEADLINE_MS,
    what: url,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status === 404) {
    discardBody(response);
    return undefined;
  }
  if (response.status < 200 || response.status > 299) {
    discardBody(response);
    throw new LadingError('NETWORK', `${url}: HTTP ${response.status}`);
  }
  try {
    return await readBody(response, maxBytes, url);
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('NETWORK', `${url}: download interrupted: ${causeOf(err)}`, { cause: err });
  }
}

function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return thrownValueText(err);
}
