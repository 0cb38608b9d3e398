// The auth tests' view of the shared harness (helpers/server.ts): a real server on both engines with a clock the test
// moves, optional small rate limits, and `call`, which sends cookies, CSRF headers and Origin through the harness's
// client so that every answer is still checked against the OpenAPI document.

import type { RateLimits } from '../../src/auth/index.js';
import type { ServerConfig } from '../../src/config.js';
import { type ApiResponse, startTestServer, TestClock, type TestDatabaseKind, type TestServer } from './server.js';

export const T0 = Date.UTC(2026, 11, 6, 4);

export interface AuthTestServer extends TestServer {
  origin: string;
  clock: TestClock;
  adminToken: string;
}

export async function startAuthServer(
  kind: TestDatabaseKind,
  options: { rateLimits?: Partial<RateLimits> } = {},
): Promise<AuthTestServer> {
  const clock = new TestClock(T0);
  // `rateLimits` is read by registerAuth from the configuration when present (auth/index.ts).
  const config = (options.rateLimits ? { rateLimits: options.rateLimits } : {}) as Partial<ServerConfig>;
  const server = await startTestServer({ database: kind, clock, config, runJobs: false });
  return { ...server, origin: new URL(server.url).origin, clock, adminToken: server.admin.token };
}

export interface CallOptions {
  token?: string;
  cookie?: string;
  csrf?: string;
  origin?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request through the validating client; no bearer token unless given. */
export function call(
  s: TestServer,
  method: string,
  path: string,
  options: CallOptions = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers by their documented shape
): Promise<ApiResponse<any>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  if (options.origin) headers.origin = options.origin;
  return s.api.request(method, path, {
    headers,
    token: options.token ?? null,
    ...(options.body !== undefined ? { json: options.body } : {}),
  });
}

/** The `name=value` of a Set-Cookie answer, to send back as a Cookie header. */
export function cookieOf(headers: Headers): string | undefined {
  const set = headers.get('set-cookie');
  return set ? set.split(';')[0] : undefined;
}
