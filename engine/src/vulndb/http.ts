import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { LadingError } from '../errors/lading-error.js';

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export type DownloadResult =
  | { status: 'not-modified' }
  | { status: 'not-found' }
  | ({ status: 'ok'; bytes: number } & Validators);

const TIMEOUT_MS = 120_000;

/**
 * GETs a URL into a file, conditionally when validators are known. The body streams to disk (all.zip of
 * Debian is hundreds of MB); a short body or a dropped connection is an error and the partial file is removed.
 */
export async function downloadToFile(url: string, dest: string, validators: Validators = {}): Promise<DownloadResult> {
  const response = await get(url, validators);
  if (response.status === 304) return { status: 'not-modified' };
  if (response.status === 404) return { status: 'not-found' };
  if (!response.ok || !response.body) throw new LadingError('NETWORK', `${url}: HTTP ${response.status}`);
  let bytes = 0;
  try {
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    await pipeline(body, createWriteStream(dest));
  } catch (err) {
    await rm(dest, { force: true });
    throw new LadingError('NETWORK', `${url}: download interrupted after ${bytes} bytes: ${causeOf(err)}`, {
      cause: err,
    });
  }
  const expected = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(expected) && expected !== bytes) {
    await rm(dest, { force: true });
    throw new LadingError('NETWORK', `${url}: download incomplete (${bytes} of ${expected} bytes)`);
  }
  const result: DownloadResult = { status: 'ok', bytes };
  const etag = response.headers.get('etag');
  const lastModified = response.headers.get('last-modified');
  if (etag) result.etag = etag;
  if (lastModified) result.lastModified = lastModified;
  return result;
}

/** A small document (one OSV record, modified_id.csv); undefined on 404. */
export async function fetchBytes(url: string, maxBytes: number): Promise<Buffer | undefined> {
  const response = await get(url, {});
  if (response.status === 404) return undefined;
  if (!response.ok || !response.body) throw new LadingError('NETWORK', `${url}: HTTP ${response.status}`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw new LadingError('LIMIT', `${url}: response larger than ${maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('NETWORK', `${url}: download interrupted: ${causeOf(err)}`, { cause: err });
  }
  return Buffer.concat(chunks);
}

async function get(url: string, validators: Validators): Promise<Response> {
  const headers: Record<string, string> = { 'user-agent': 'lading' };
  if (validators.etag) headers['if-none-match'] = validators.etag;
  if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;
  try {
    return await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new LadingError('NETWORK', `${url}: ${causeOf(err)}`, { cause: err });
  }
}

function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
