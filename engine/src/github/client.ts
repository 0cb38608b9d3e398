// The GitHub REST calls Lading makes (the Action's SARIF upload and comments, the issue-per-image lifecycle of the
// Action and of the server), over the engine's one HTTP stack. The base URL is the caller's: api.github.com,
// a GitHub Enterprise Server's `/api/v3`, or a test's local replay.
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { readBody } from '../http/body.js';
import { HttpClient } from '../http/client.js';
import type { HttpMethod } from '../http/exchange.js';

export interface GithubApi {
  request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T>;
}

export interface GithubApiOptions {
  /** e.g. `https://api.github.com` or `https://ghe.example/api/v3` (no trailing slash needed). */
  readonly apiUrl: string;
  readonly token?: string | undefined;
  readonly userAgent?: string;
  /** An HTTP client of the caller's (a server's, with its connect guard); a default one otherwise. */
  readonly http?: HttpClient;
}

/** GitHub's answers are small JSON documents; anything larger is not one. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

function permissionFor(path: string): string {
  if (path.includes('/code-scanning/')) return 'permissions: security-events: write';
  if (path.includes('/dispatches')) return 'permissions: contents: write';
  if (path.includes('/comments') && path.includes('/issues/')) return 'permissions: pull-requests: write';
  return 'permissions: issues: write';
}

export function githubApi(options: GithubApiOptions): GithubApi {
  const base = options.apiUrl.replace(/\/+$/, '');
  const http = options.http ?? new HttpClient({ userAgent: options.userAgent ?? 'lading' });
  return {
    async request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
      const res = await http
        .request({
          method,
          url: `${base}${path}`,
          headers: {
            accept: 'application/vnd.github+json',
            'x-github-api-version': '2022-11-28',
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body), 'utf8') }),
          deadlineMs: 60_000,
          what: `GitHub API ${method} ${path}`,
        })
        .catch((error: unknown) => {
          // the stack's message names the host; which call failed is what a user needs
          const cause = error instanceof LadingError ? error : undefined;
          throw new LadingError(cause?.code ?? 'NETWORK', `GitHub API ${method} ${path}: ${thrownValueText(error)}`, {
            cause: error,
          });
        });
      const text = (await readBody(res, MAX_ANSWER_BYTES, `GitHub API ${method} ${path}`)).toString('utf8');
      if (res.status < 200 || res.status >= 300) {
        // GitHub's error documents carry a message; the permission hint is what users of other actions lacked
        let message = text.slice(0, 300);
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // not JSON: the start of the body is the best description there is
        }
        const hint =
          res.status === 403 || res.status === 404
            ? ` (does the token grant the permission? ${permissionFor(path)})`
            : '';
        throw new LadingError(
          'NETWORK',
          `GitHub API ${method} ${path}: HTTP ${res.status}: ${message.replace(/\s+/g, ' ')}${hint}`,
        );
      }
      if (text === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new LadingError('NETWORK', `GitHub API ${method} ${path}: the answer is not JSON`);
      }
    },
  };
}

/** The most a comment or issue body may hold (GitHub refuses more than 65,536 characters). */
export const COMMENT_MAX_CHARS = 65_000;

/** Cuts a markdown body at a line boundary under the limit, saying so. */
export function limitMarkdown(
  text: string,
  max = COMMENT_MAX_CHARS,
  note = '\n\n… truncated: the full comparison is in the job summary.\n',
): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf('\n', max - note.length);
  return `${text.slice(0, cut > 0 ? cut : max - note.length)}${note}`;
}
