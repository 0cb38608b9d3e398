import { LadingError } from '../errors/lading-error.js';

/** `-a key=value` flags into a map; a flag without '=' is a usage error. */
export function parseAnnotations(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new LadingError('USAGE', `annotation "${value}" must be key=value`);
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}
