/** A problem that did not stop the scan: reported, never silently dropped (Syft's "unknowns"). */
export interface ScanWarning {
  /** Cataloger id, or the layer that raised it (`image`, `sbom`, `vulndb`, `match`, …). */
  cataloger: string;
  path?: string;
  message: string;
  /** The `packages[].id` the warning concerns, when it is about one package (e.g. a version its scheme refuses). */
  packageId?: string;
}

/**
 * The one way to record a warning: `source` is the cataloger id or layer (`image`, `vulndb`, …), `path` what it is
 * about. Messages often quote untrusted input, so line breaks and control characters are flattened: a warning is
 * one line wherever it is printed.
 */
export function scanWarning(source: string, message: string, path?: string, packageId?: string): ScanWarning {
  // Keys in the report's order (cataloger, path, message, packageId): JSON output stays byte-for-byte the same.
  const warning: ScanWarning =
    path === undefined
      ? { cataloger: source, message: flatten(message) }
      : { cataloger: source, path: flatten(path), message: flatten(message) };
  if (packageId !== undefined) warning.packageId = packageId;
  return warning;
}

/** A warning as one line of text, the same for every front end: `source[ path]: message`. */
export function formatWarning(warning: ScanWarning): string {
  return `${warning.cataloger}${warning.path ? ` ${warning.path}` : ''}: ${warning.message}`;
}

/** Error text from untrusted input can hold anything: keep it one short line (`max` characters at most). */
export function oneLine(text: string, max = 200): string {
  const flat = flatten(text);
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function flatten(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/\p{Cc}/gu, '');
}
