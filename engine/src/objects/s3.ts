import type { Readable } from 'node:stream';
import { LadingError } from '../errors/lading-error.js';
import type { HttpMethod, RequestBody } from '../http/index.js';
import { discardBody, HttpClient, type HttpResponse, headerValue, readBody } from '../http/index.js';
import { byteOrder, pageSize, sizedStream } from './filesystem.js';
import { checkObjectKey, checkObjectPrefix } from './keys.js';
import {
  EMPTY_PAYLOAD_HASH,
  type SigningCredentials,
  sha256Hex,
  signRequest,
  UNSIGNED_PAYLOAD,
  uriEncode,
} from './sigv4.js';
import {
  type ListObjectsOptions,
  listEveryObject,
  type ObjectBody,
  type ObjectInfo,
  type ObjectPage,
  type ObjectStore,
  type PutObjectOptions,
} from './store.js';
import { elementText, elementTexts } from './xml.js';

export interface S3Options extends SigningCredentials {
  /** An S3-compatible endpoint (`http://127.0.0.1:9000`, MinIO, R2, Ceph); default AWS's for the region. */
  endpoint?: string;
  region: string;
  /** `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`; always so with a custom endpoint. */
  forcePathStyle?: boolean;
}

/** A ListObjects page of 1000 keys of 1024 bytes is about 1.5 MB of XML; more is not an S3 answer. */
const MAX_LIST_RESPONSE_BYTES = 8 * 1024 * 1024;
/** Error documents are a few hundred bytes. */
const MAX_ERROR_BYTES = 64 * 1024;
/** Bodies up to this size are hashed and signed; larger streams go as UNSIGNED-PAYLOAD (TLS guards them). */
const SIGNED_PAYLOAD_MAX_BYTES = 16 * 1024 * 1024;

/**
 * An S3 bucket (or a prefix in it) over Lading's own HTTP stack, signed with SigV4. Tested against s3rver, an
 * S3-compatible server from npm (not against AWS or MinIO themselves); it uses only PutObject, GetObject,
 * HeadObject, DeleteObject, ListObjects and CopyObject, which every S3-compatible store implements.
 */
export class S3ObjectStore implements ObjectStore {
  readonly url: string;
  private readonly http: HttpClient;

  constructor(
    private readonly bucket: string,
    /** '' or a prefix ending in `/`. */
    private readonly prefix: string,
    private readonly options: S3Options,
    http?: HttpClient,
  ) {
    this.url = `s3://${bucket}/${prefix}`;
    this.http = http ?? new HttpClient();
  }

  async put(key: string, body: ObjectBody, options: PutObjectOptions = {}): Promise<void> {
    checkObjectKey(key);
    const headers: Record<string, string> = {};
    if (options.contentType) headers['content-type'] = options.contentType;
    let payload: RequestBody;
    let payloadHash: string;
    if (body instanceof Uint8Array) {
      payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      payloadHash = sha256Hex(body);
    } else {
      const { size, open } = body;
      payload = { size, open: () => sizedStream(open(), size, key) };
      payloadHash = UNSIGNED_PAYLOAD;
      if (size <= SIGNED_PAYLOAD_MAX_BYTES) {
        // Small enough to read twice: the payload's hash is signed too, so a proxy cannot alter it unnoticed.
        const bytes = await readAll(open(), size, key);
        payload = bytes;
        payloadHash = sha256Hex(bytes);
      }
    }
    const res = await this.send('PUT', key, { headers, body: payload, payloadHash });
    await this.expectOk(res, key, [200]);
  }

  async get(key: string): Promise<Readable | undefined> {
    checkObjectKey(key);
    const res = await this.send('GET', key);
    if (res.status === 404) return this.absent(res, key);
    await this.expectOk(res, key, [200]);
    return res.body;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    checkObjectKey(key);
    const res = await this.send('HEAD', key);
    discardBody(res);
    if (res.status === 404) return undefined;
    // HEAD answers carry no error document: the status is all there is.
    if (res.status !== 200) throw this.statusError(res.status, key, 'HEAD');
    const modified = Date.parse(headerValue(res.headers, 'last-modified') ?? '');
    const contentType = headerValue(res.headers, 'content-type');
    return {
      key,
      size: Number(headerValue(res.headers, 'content-length') ?? 0),
      modifiedAt: Number.isFinite(modified) ? modified : 0,
      ...(contentType ? { contentType } : {}),
    };
  }

  async delete(key: string): Promise<void> {
    checkObjectKey(key);
    const res = await this.send('DELETE', key);
    if (res.status === 404) {
      discardBody(res);
      return;
    }
    await this.expectOk(res, key, [200, 204]);
  }

  async list(prefix: string, options: ListObjectsOptions = {}): Promise<ObjectPage> {
    checkObjectPrefix(prefix);
    // ListObjects (version 1) with a marker, the last key seen: every S3-compatible store has it, and its marker
    // is a plain key, the same token the filesystem store gives. (Version 2's opaque continuation tokens are what
    // AWS recommends; s3rver cannot make them on OpenSSL 3, which has no DES.)
    const query: Record<string, string> = {
      prefix: this.prefix + prefix,
      'max-keys': String(pageSize(options.maxKeys)),
    };
    if (options.continuationToken !== undefined) {
      checkObjectKey(options.continuationToken, 'continuation token');
      if (!options.continuationToken.startsWith(prefix)) {
        throw new LadingError('USAGE', 'continuation token is not from this listing');
      }
      query['marker'] = this.prefix + options.continuationToken;
    }
    const res = await this.send('GET', undefined, { query });
    await this.expectOk(res, undefined, [200], false);
    const xml = (await readBody(res, MAX_LIST_RESPONSE_BYTES, `${this.url}: the listing`)).toString('utf8');
    const items: ObjectInfo[] = [];
    for (const entry of elementTexts(xml, 'Contents')) {
      const fullKey = elementText(entry, 'Key');
      if (fullKey === undefined || !fullKey.startsWith(this.prefix)) {
        throw new LadingError('IO', `${this.url}: the listing names a key outside the prefix`);
      }
      const modified = Date.parse(elementText(entry, 'LastModified') ?? '');
      items.push({
        key: fullKey.slice(this.prefix.length),
        size: Number(elementText(entry, 'Size') ?? 0),
        modifiedAt: Number.isFinite(modified) ? modified : 0,
      });
    }
    // Servers agree on the order; sorted again so both backends page identically whatever a server does.
    items.sort((a, b) => byteOrder(a.key, b.key));
    const truncated = elementText(xml, 'IsTruncated') === 'true';
    const last = items[items.length - 1];
    if (truncated && last === undefined) throw new LadingError('IO', `${this.url}: a truncated listing with no keys`);
    return truncated && last ? { items, nextToken: last.key } : { items };
  }

  listAll(prefix: string): AsyncIterable<ObjectInfo> {
    return listEveryObject(this, prefix);
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    checkObjectKey(fromKey);
    checkObjectKey(toKey);
    const source = `/${this.bucket}/${encodeKey(this.prefix + fromKey)}`;
    const res = await this.send('PUT', toKey, { headers: { 'x-amz-copy-source': source } });
    if (res.status === 404) {
      const detail = await this.errorDetail(res);
      throw new LadingError('NOT_FOUND', `${this.url}: no object ${JSON.stringify(fromKey)} to copy (${detail})`);
    }
    await this.expectOk(res, toKey, [200], false);
    // CopyObject may answer 200 and report its failure in the body.
    const xml = (await readBody(res, MAX_ERROR_BYTES, `${this.url}: the copy's answer`)).toString('utf8');
    if (xml.includes('<Error>')) throw this.s3Error(200, xml, toKey);
  }

  private async send(
    method: HttpMethod,
    key: string | undefined,
    extra: {
      headers?: Record<string, string>;
      body?: RequestBody;
      payloadHash?: string;
      query?: Record<string, string>;
    } = {},
  ): Promise<HttpResponse> {
    const url = this.urlOf(key === undefined ? undefined : this.prefix + key, extra.query);
    const payloadHash = extra.payloadHash ?? EMPTY_PAYLOAD_HASH;
    const headers = signRequest(
      // The signing time is network timing: S3 refuses a signature more than 15 minutes off its own clock.
      { method, url, headers: extra.headers ?? {}, payloadHash, region: this.options.region, now: new Date() },
      this.options,
    );
    return this.http.request({
      method,
      url,
      headers,
      ...(extra.body ? { body: extra.body } : {}),
      what: `${this.url}`,
      // A redirect would have to be signed again for its host: S3 answers 301 for a wrong region, reported as such.
      followRedirects: false,
    });
  }

  private urlOf(fullKey: string | undefined, query: Record<string, string> | undefined): URL {
    const { endpoint, region, forcePathStyle } = this.options;
    const base = new URL(endpoint ?? `https://s3.${region}.amazonaws.com`);
    const pathStyle = endpoint !== undefined || forcePathStyle === true || this.bucket.includes('.');
    const basePath = base.pathname.replace(/\/+$/, '');
    if (!pathStyle) base.hostname = `${this.bucket}.${base.hostname}`;
    const bucketPath = pathStyle ? `/${uriEncode(this.bucket)}` : '';
    const keyPath = fullKey === undefined ? (pathStyle ? '' : '/') : `/${encodeKey(fullKey)}`;
    base.pathname = `${basePath}${bucketPath}${keyPath}`;
    // Built by hand: URLSearchParams writes a space as `+`, which SigV4 does not sign as `%20`.
    base.search = query
      ? Object.entries(query)
          .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
          .join('&')
      : '';
    return base;
  }

  private async absent(res: HttpResponse, key: string): Promise<undefined> {
    const xml = (await readBody(res, MAX_ERROR_BYTES, `${this.url}: the error document`)).toString('utf8');
    const code = elementText(xml, 'Code');
    // A missing bucket is a misconfiguration, not an absent object.
    if (code && code !== 'NoSuchKey') throw this.s3Error(404, xml, key);
    return undefined;
  }

  private async expectOk(res: HttpResponse, key: string | undefined, ok: number[], drain = true): Promise<void> {
    if (ok.includes(res.status)) {
      if (drain) discardBody(res);
      return;
    }
    const xml = (
      await readBody(res, MAX_ERROR_BYTES, `${this.url}: the error document`).catch(() => Buffer.alloc(0))
    ).toString('utf8');
    throw this.s3Error(res.status, xml, key);
  }

  private async errorDetail(res: HttpResponse): Promise<string> {
    const xml = (await readBody(res, MAX_ERROR_BYTES, `${this.url}: the error document`)).toString('utf8');
    return elementText(xml, 'Code') ?? `HTTP ${res.status}`;
  }

  /** `s3://bucket/prefix/key: S3 said SignatureDoesNotMatch (HTTP 403): The request signature …` on one line. */
  private s3Error(status: number, xml: string, key: string | undefined): LadingError {
    // Both come from the server: kept to one short line whatever it sent.
    const code = oneLine(elementText(xml, 'Code') ?? '').slice(0, 64) || `HTTP ${status}`;
    const message = oneLine(elementText(xml, 'Message') ?? '');
    const where = key === undefined ? this.url : `${this.url}${key}`;
    const text = `${where}: S3 said ${code} (HTTP ${status})${message ? `: ${message}` : ''}`;
    return new LadingError(errorCodeFor(status, code), text);
  }

  private statusError(status: number, key: string, method: string): LadingError {
    const answer = status === 403 ? 'access denied or bad credentials' : 'an unexpected answer';
    return new LadingError(
      errorCodeFor(status, ''),
      `${this.url}${key}: S3 gave ${answer} (HTTP ${status}) to ${method}`,
    );
  }
}

function errorCodeFor(status: number, code: string): 'AUTH' | 'NOT_FOUND' | 'IO' {
  if (status === 401 || status === 403 || /Signature|AccessKey|AccessDenied|Token/.test(code)) return 'AUTH';
  if (code === 'NoSuchBucket') return 'NOT_FOUND';
  return 'IO';
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function encodeKey(key: string): string {
  return key.split('/').map(uriEncode).join('/');
}

async function readAll(stream: Readable, size: number, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of sizedStream(stream, size, key) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
