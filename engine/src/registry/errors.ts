import { LadingError } from '../errors/lading-error.js';
import { readBody } from '../http/body.js';
import type { RegistryResponse } from './transport.js';

/** The registry's own words, from an OCI distribution error body, when it sent one. */
function registryMessage(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    if (!first) return undefined;
    const parts = [first.code, first.message].filter((x): x is string => typeof x === 'string' && x !== '');
    return parts.length ? parts.join(': ').slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/** One-line LadingError for a response that is not what the operation needed; consumes the body. */
export async function statusError(res: RegistryResponse, what: string): Promise<LadingError> {
  let detail: string | undefined;
  try {
    detail = registryMessage(await readBody(res, 64 * 1024, 'error body'));
  } catch {
    detail = undefined;
  }
  const suffix = detail ? ` (${res.status} ${detail})` : ` (HTTP ${res.status})`;
  switch (res.status) {
    case 401:
      return res.credentialsRefused
        ? new LadingError('AUTH', `${what}: the registry refused the credentials${suffix}`)
        : new LadingError('AUTH', `${what}: authentication required${suffix}`);
    case 403:
      return new LadingError('AUTH', `${what}: access denied${suffix}`);
    case 404:
      return new LadingError('NOT_FOUND', `${what}: not found${suffix}`);
    case 429:
      return new LadingError('REGISTRY', `${what}: rate limited by the registry${suffix}`);
    default:
      return new LadingError('REGISTRY', `${what}: unexpected registry answer${suffix}`);
  }
}
