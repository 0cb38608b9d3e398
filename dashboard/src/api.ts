// The dashboard's only way to the server: lading-server's public API under /api/v1, with the browser session
// cookie. Unsafe requests carry the session's CSRF token (the server also checks Origin). Errors arrive as
// problem documents and are shown as their title and detail, never as raw bodies.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the server answers 401: the app shows the login page. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export interface Page<T> {
  items: T[];
  next_page_token: string | null;
  total: { count: number; type: 'EXACT' | 'AT_LEAST' };
}

type Query = Record<string, string | number | boolean | undefined>;

export function apiPath(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return `/api/v1${path}${text ? `?${text}` : ''}`;
}

export async function api<T>(
  path: string,
  options: { method?: string; query?: Query; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(apiPath(path, options.query), {
    method,
    headers,
    credentials: 'same-origin',
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status === 401) onUnauthorized();
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function problemOf(response: Response): Promise<ApiError> {
  try {
    const problem = (await response.json()) as { title?: unknown; detail?: unknown };
    const title = typeof problem.title === 'string' ? problem.title : response.statusText;
    const detail = typeof problem.detail === 'string' ? problem.detail : '';
    return new ApiError(response.status, title, detail);
  } catch {
    return new ApiError(response.status, response.statusText || `HTTP ${response.status}`, '');
  }
}
