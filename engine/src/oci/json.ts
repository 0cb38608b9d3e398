import { LadingError } from '../errors/lading-error.js';

/** A JSON document that must be an object (every OCI document is). */
export function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${what} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LadingError('BAD_INPUT', `${what} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

export function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
  );
}
