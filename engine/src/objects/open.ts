import { fileURLToPath } from 'node:url';
import { LadingError } from '../errors/lading-error.js';
import type { HttpClient } from '../http/index.js';
import { FilesystemObjectStore } from './filesystem.js';
import { S3ObjectStore, type S3Options } from './s3.js';
import type { ObjectStore } from './store.js';

export interface OpenObjectStoreOptions {
  /** Credentials and endpoint for `s3://` URLs (the engine reads no environment: the CLI maps the AWS_* variables). */
  s3?: S3Options;
  /** The HTTP client for S3 (tests pass one with short retries); default a new one. */
  http?: HttpClient;
  /** The caller's name for the URL in messages (`store`), for LadingError.option. */
  option?: string;
}

/**
 * `file:///abs/dir` (or `file://relative/dir`) → a folder; `s3://bucket[/prefix]` → an S3-compatible bucket.
 * Anything else is a USAGE error naming the option.
 */
export function openObjectStore(url: string, options: OpenObjectStoreOptions = {}): ObjectStore {
  const option = options.option;
  const usage = (why: string) =>
    new LadingError('USAGE', `${url}: ${why}`, option === undefined ? undefined : { option });
  if (url.startsWith('file://')) {
    const rest = url.slice('file://'.length);
    if (rest === '') throw usage('a file:// store needs a folder');
    const folder = rest.startsWith('/') ? fileURLToPath(`file://${rest}`) : rest;
    return new FilesystemObjectStore(folder);
  }
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/*$/, '');
    // S3's bucket naming rules (3-63 characters, lower-case letters, digits, dots and hyphens).
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw usage('not a valid S3 bucket name');
    if (prefix.split('/').some((s) => s === '' || s === '.' || s === '..') && prefix !== '') {
      throw usage('the prefix has an empty, "." or ".." segment');
    }
    if (!options.s3) throw usage('an s3:// store needs credentials and a region');
    if (!options.s3.accessKeyId || !options.s3.secretAccessKey)
      throw usage('an s3:// store needs an access key and its secret');
    if (options.s3.endpoint !== undefined) {
      let endpoint: URL;
      try {
        endpoint = new URL(options.s3.endpoint);
      } catch {
        throw usage(`the S3 endpoint ${JSON.stringify(options.s3.endpoint)} is not a URL`);
      }
      if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:')
        throw usage('the S3 endpoint must be http(s)');
    }
    return new S3ObjectStore(bucket, prefix === '' ? '' : `${prefix}/`, options.s3, options.http);
  }
  throw usage('an object store is file://DIR or s3://bucket/prefix');
}
