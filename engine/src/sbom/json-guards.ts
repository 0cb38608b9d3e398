/** Narrowing helpers for parsed JSON of unknown shape: wrong types read as absent, never as a crash. */
export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** CycloneDX/SPDX property-like lists (`[{name, value}]`) as name → values, in document order. */
export function propertyMap(list: unknown): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const item of asArray(list)) {
    const prop = asObject(item);
    const name = asString(prop?.['name']);
    const value = asString(prop?.['value']);
    if (name === undefined || value === undefined) continue;
    const values = map.get(name);
    if (values) values.push(value);
    else map.set(name, [value]);
  }
  return map;
}
