import { abortedError } from '../errors/abort.js';
import { type ErrorCode, LadingError, thrownValueText } from '../errors/lading-error.js';
import { HttpClient, type HttpResponse, headerValue, readBody } from '../http/index.js';
import { type FormPart, multipartBody } from './multipart.js';

/** Where a lading-server answers, and the API token (`lading_<id>_<secret>`) it knows the caller by. */
export interface CollectorServer {
  /** The server's base URL, e.g. `https://lading.example.com` (a path prefix is kept). */
  url: string;
  token: string;
}

/** The push metadata part (SERVER.md section 2): which image the bundle is evidence for. */
export interface IngestMetadata {
  repository: string;
  /** The image manifest digest, `sha256:<64 hex>`. */
  digest: string;
  platform?: string;
  indexDigest?: string;
  tags?: string[];
  track?: string;
  /** RFC 3339. */
  observedAt?: string;
  ci?: Record<string, string | number>;
}

export type BundlePartName = 'sbom' | 'report' | 'attestation' | 'signature';

/** One evidence document of a bundle, sent byte for byte: from a file, or bytes in memory. */
export interface BundlePart {
  name: BundlePartName;
  path?: string;
  bytes?: Uint8Array;
  /** Default: `application/json`. */
  contentType?: string;
}

export interface PushBundleRequest {
  server: CollectorServer;
  metadata: IngestMetadata;
  parts: readonly BundlePart[];
}

export interface PullRequest {
  server: CollectorServer;
  /** A digest reference, `registry/repository@sha256:…` (the server refuses tags). */
  image: string;
  tags?: string[];
  ci?: Record<string, string | number>;
}

/** The server's answer to an ingest: 202 for a new bundle, 200 (`replayed`) for one it already has. */
export interface IngestAccepted {
  job: { id: string; state: string; url: string };
  image: { digest: string; url: string };
  artifacts: { kind: string; sha256: string; size: number; new: boolean }[];
  replayed: boolean;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface JobStatus {
  id: string;
  kind: string;
  state: JobState;
  createdAt?: string;
  finishedAt?: string | null;
  steps?: { name: string; state: string; ms?: number | null; detail?: string | null }[];
  result?: Record<string, unknown> | null;
  error?: { code: string; message: string } | null;
}

export interface CollectorOptions {
  signal?: AbortSignal;
  /** Wait for the ingest job to end (long-polling `?wait=`); default false. */
  wait?: boolean;
  /** The longest the whole wait may take; default 10 minutes. */
  waitTimeoutMs?: number;
  /** The HTTP client (tests pass one with short timeouts); default a new one. */
  http?: HttpClient;
}

export interface IngestOutcome {
  accepted: IngestAccepted;
  /** The job's final state when waited for. */
  job?: JobStatus;
}

const MAX_ANSWER_BYTES = 1024 * 1024;
const TERMINAL = new Set<string>(['succeeded', 'failed', 'canceled']);
const DEFAULT_WAIT_TIMEOUT_MS = 10 * 60_000;
/** Seconds per long poll: below common proxies' 60 s idle cut-off. */
const LONG_POLL_SECONDS = 30;

/**
 * Push mode: sends the image's evidence (SBOM, Lading report, attestations, signatures) as one streamed
 * multipart/form-data request, metadata first, each document byte for byte (the provenance refers to their sha256).
 */
export async function pushBundle(request: PushBundleRequest, options: CollectorOptions = {}): Promise<IngestOutcome> {
  if (request.parts.length === 0) {
    throw new LadingError('USAGE', 'a bundle needs at least one part (sbom, report, attestation or signature)');
  }
  const parts: FormPart[] = [
    {
      name: 'metadata',
      contentType: 'application/json',
      filename: 'metadata.json',
      bytes: Buffer.from(JSON.stringify(request.metadata)),
    },
    ...request.parts.map((p): FormPart => {
      const part: FormPart = { name: p.name, contentType: p.contentType ?? 'application/json' };
      if (p.path !== undefined) part.path = p.path;
      if (p.bytes !== undefined) part.bytes = p.bytes;
      return part;
    }),
  ];
  const form = await multipartBody(parts);
  const http = options.http ?? new HttpClient();
  const url = apiUrl(request.server, 'ingest');
  const res = await http.request({
    method: 'POST',
    url,
    headers: { ...authorization(request.server), 'content-type': form.contentType, accept: 'application/json' },
    body: form.body,
    what: 'lading-server',
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const accepted = await acceptedFrom(res, url);
  return withJob(request.server, accepted, options);
}

/** Notify-and-pull mode: asks the server to read the image and its signatures and attestations from the registry. */
export async function requestPull(request: PullRequest, options: CollectorOptions = {}): Promise<IngestOutcome> {
  if (!/@sha256:[0-9a-f]{64}$/.test(request.image)) {
    throw new LadingError('USAGE', `${request.image}: the server pulls by digest only (IMAGE@sha256:…)`);
  }
  const http = options.http ?? new HttpClient();
  const url = apiUrl(request.server, 'ingest/pull');
  const body: Record<string, unknown> = { image: request.image };
  if (request.tags?.length) body['tags'] = request.tags;
  if (request.ci) body['ci'] = request.ci;
  const res = await http.request({
    method: 'POST',
    url,
    headers: { ...authorization(request.server), 'content-type': 'application/json', accept: 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
    what: 'lading-server',
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const accepted = await acceptedFrom(res, url);
  return withJob(request.server, accepted, options);
}

/**
 * Long-polls a job (`GET …/jobs/{id}?wait=30`, repeated) until it ends or `timeoutMs` passes, and returns its last
 * state. `job` is the job's id or its URL as the server gave it (`/api/v1/jobs/…`).
 */
export async function waitForJob(
  server: CollectorServer,
  job: string,
  options: { signal?: AbortSignal; timeoutMs?: number; http?: HttpClient; now?: () => number } = {},
): Promise<JobStatus> {
  const http = options.http ?? new HttpClient();
  const now = options.now ?? (() => performance.now());
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const started = now();
  const url = job.startsWith('/') ? new URL(job, server.url) : apiUrl(server, `jobs/${encodeURIComponent(job)}`);
  for (;;) {
    if (options.signal?.aborted) throw abortedError();
    const left = timeoutMs - (now() - started);
    if (left <= 0) {
      throw new LadingError(
        'NETWORK',
        `lading-server: job ${job} did not end within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    const polled = new URL(url);
    polled.searchParams.set('wait', String(Math.max(1, Math.min(LONG_POLL_SECONDS, Math.ceil(left / 1000)))));
    const res = await http.request({
      url: polled,
      headers: { ...authorization(server), accept: 'application/json' },
      what: 'lading-server',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const status = jobStatusFrom(await answerJson(res, polled), polled);
    if (TERMINAL.has(status.state)) return status;
  }
}

/**
 * The error a job that did not succeed stands for: a verification the repository enforces said "no" (exit 1);
 * any other failure or a cancel is operational (exit 3). Undefined for a job that succeeded.
 */
export function jobFailure(job: JobStatus): LadingError | undefined {
  if (job.state === 'succeeded') return undefined;
  const code: ErrorCode = job.error?.code === 'verification_failed' ? 'VERIFY_FAILED' : 'BAD_INPUT';
  const why = job.error ? `${oneLine(job.error.code)}: ${oneLine(job.error.message)}` : job.state;
  return new LadingError(code, `lading-server: ingest job ${oneLine(job.id)} ${job.state} (${why})`);
}

async function withJob(
  server: CollectorServer,
  accepted: IngestAccepted,
  options: CollectorOptions,
): Promise<IngestOutcome> {
  if (!options.wait) return { accepted };
  const waitOptions: Parameters<typeof waitForJob>[2] = {};
  if (options.signal) waitOptions.signal = options.signal;
  if (options.http) waitOptions.http = options.http;
  if (options.waitTimeoutMs !== undefined) waitOptions.timeoutMs = options.waitTimeoutMs;
  const job = await waitForJob(server, accepted.job.url || accepted.job.id, waitOptions);
  return { accepted, job };
}

function apiUrl(server: CollectorServer, path: string): URL {
  let base: URL;
  try {
    base = new URL(server.url.endsWith('/') ? server.url : `${server.url}/`);
  } catch {
    throw new LadingError('USAGE', `${server.url}: not a URL (https://host[:port])`, { option: 'server' });
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new LadingError('USAGE', `${server.url}: the server URL must start with https:// or http://`, {
      option: 'server',
    });
  }
  if (base.username || base.password) {
    throw new LadingError('USAGE', `${base.host}: credentials do not belong in the server URL; use an API token`, {
      option: 'server',
    });
  }
  return new URL(`api/v1/${path}`, base);
}

function authorization(server: CollectorServer): Record<string, string> {
  if (!server.token) throw new LadingError('AUTH', 'lading-server needs an API token (lading_<id>_<secret>)');
  // A token with a line break would smuggle a header; the server's tokens are base62 with underscores.
  if (!/^[\x21-\x7e]+$/.test(server.token))
    throw new LadingError('AUTH', 'the API token has characters a token cannot have');
  return { authorization: `Bearer ${server.token}` };
}

async function acceptedFrom(res: HttpResponse, url: URL): Promise<IngestAccepted> {
  const json = await answerJson(res, url);
  const o = json as Partial<IngestAccepted> | null;
  const job = o?.job;
  const image = o?.image;
  if (
    typeof job?.id !== 'string' ||
    typeof job.state !== 'string' ||
    typeof image?.digest !== 'string' ||
    !Array.isArray(o?.artifacts)
  ) {
    throw new LadingError('NETWORK', `lading-server: ${url.pathname} answered ${res.status} without a job`);
  }
  return {
    job: { id: job.id, state: job.state, url: typeof job.url === 'string' ? job.url : '' },
    image: { digest: image.digest, url: typeof image.url === 'string' ? image.url : '' },
    artifacts: o.artifacts,
    replayed: res.status === 200,
  };
}

function jobStatusFrom(json: unknown, url: URL): JobStatus {
  const o = json as Partial<JobStatus> | null;
  if (typeof o?.id !== 'string' || typeof o.state !== 'string') {
    throw new LadingError('NETWORK', `lading-server: ${url.pathname} answered without a job state`);
  }
  return o as JobStatus;
}

/** A 2xx JSON answer, or the server's problem document turned into one line. */
async function answerJson(res: HttpResponse, url: URL): Promise<unknown> {
  let text: string;
  try {
    text = (await readBody(res, MAX_ANSWER_BYTES, `lading-server's answer to ${url.pathname}`)).toString('utf8');
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('NETWORK', `lading-server: ${url.pathname}: ${thrownValueText(err)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.status >= 200 && res.status < 300) {
    if (json === undefined)
      throw new LadingError('NETWORK', `lading-server: ${url.pathname} answered ${res.status} with no JSON`);
    return json;
  }
  throw refusal(res, url, json);
}

/** The server's refusal in one line: `lading-server refused …: 422 Unprocessable Entity: report: …`. */
function refusal(res: HttpResponse, url: URL, json: unknown): LadingError {
  const problem = (json ?? {}) as { title?: unknown; detail?: unknown; part?: unknown };
  const title = typeof problem.title === 'string' ? oneLine(problem.title) : '';
  const detail = typeof problem.detail === 'string' ? oneLine(problem.detail) : '';
  const part = typeof problem.part === 'string' ? oneLine(problem.part) : '';
  const reason = [title, part && !detail.startsWith(part) ? `${part}: ${detail}` : detail].filter(Boolean).join(': ');
  const retryAfter = res.status === 429 ? headerValue(res.headers, 'retry-after') : undefined;
  const message = `lading-server refused ${url.pathname}: ${res.status}${reason ? ` ${reason}` : ''}${
    retryAfter ? ` (retry after ${oneLine(retryAfter)} s)` : ''
  }`;
  return new LadingError(codeForStatus(res.status), message);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413 || status === 429) return 'LIMIT';
  if (status >= 400 && status < 500) return 'BAD_INPUT';
  return 'NETWORK';
}

/** Server-provided words in our one-line errors: control characters out, length bounded. */
function oneLine(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}
