// RFC 9457 problem documents: every error the API answers is `application/problem+json` with a one-line detail,
// never a stack trace. Route code throws ProblemError; everything else (Fastify's own 400/404/413/415, rate
// limits, unexpected exceptions) is translated by the app's error handler with problemFromError.
import { STATUS_CODES } from 'node:http';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    /** Extension members (e.g. `code`, `part`, `errors`), merged into the document. */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail ?? title);
  }

  toDocument(instance?: string): ProblemDocument {
    return problemDocument(this.status, this.title, this.detail, instance, this.extra);
  }
}

/** One line: control characters and newlines become spaces, and it stays short. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function problemDocument(
  status: number,
  title: string,
  detail?: string,
  instance?: string,
  extra: Readonly<Record<string, unknown>> = {},
): ProblemDocument {
  return {
    type: typeof extra.type === 'string' ? extra.type : 'about:blank',
    ...extra,
    title,
    status,
    ...(detail !== undefined ? { detail: oneLine(detail) } : {}),
    ...(instance !== undefined ? { instance } : {}),
  };
}

interface ErrorLike {
  readonly statusCode?: unknown;
  readonly status?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly validation?: unknown;
}

/** Fastify error codes whose message is safe and useful to show. */
const FASTIFY_DETAIL: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the request body is larger than this endpoint accepts',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'this endpoint does not accept that Content-Type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the JSON body is empty',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
};

/**
 * The problem for any thrown value. Statuses below 500 keep their (one-line) message; 500s say only that the
 * server failed and which request it was, since their messages may carry internals.
 */
export function problemFromError(error: unknown, requestId: string): { document: ProblemDocument; internal: boolean } {
  if (error instanceof ProblemError) return { document: error.toDocument(), internal: error.status >= 500 };
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const rawStatus = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : 500;
  const status = rawStatus >= 400 && rawStatus <= 599 ? rawStatus : 500;
  const title = STATUS_CODES[status] ?? 'Error';
  if (status >= 500 && status !== 503) {
    return {
      document: problemDocument(status, title, `the server failed to answer this request (request ${requestId})`),
      internal: true,
    };
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  let detail = (code && FASTIFY_DETAIL[code]) ?? (typeof e.message === 'string' ? e.message : title);
  // a SyntaxError from JSON.parse inside Fastify's JSON parser carries the position: keep it, it helps
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (status === 400 && error instanceof SyntaxError)) {
    detail = `the body is not valid JSON: ${typeof e.message === 'string' ? e.message : ''}`;
  }
  if (e.validation !== undefined && typeof e.message === 'string') detail = `invalid request: ${e.message}`;
  return { document: problemDocument(status, title, detail, undefined, code ? { code } : {}), internal: false };
}
