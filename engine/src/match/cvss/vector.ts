/** Vectors longer than any legal one (CVSS v4 with every metric is under 300 characters) are refused outright. */
const MAX_VECTOR_LENGTH = 512;

/**
 * Splits `K:V/K:V/…` into a map, checking every key is known, every value allowed, no key repeats and every
 * mandatory key is present. Returns undefined for anything else.
 */
export function parseMetrics(
  body: string,
  allowed: Readonly<Record<string, readonly string[]>>,
  mandatory: readonly string[],
): Map<string, string> | undefined {
  if (body.length === 0 || body.length > MAX_VECTOR_LENGTH) return undefined;
  const metrics = new Map<string, string>();
  for (const part of body.split('/')) {
    const colon = part.indexOf(':');
    if (colon <= 0) return undefined;
    const key = part.slice(0, colon);
    const value = part.slice(colon + 1);
    const values = Object.hasOwn(allowed, key) ? allowed[key] : undefined;
    if (!values?.includes(value) || metrics.has(key)) return undefined;
    metrics.set(key, value);
  }
  for (const key of mandatory) if (!metrics.has(key)) return undefined;
  return metrics;
}
