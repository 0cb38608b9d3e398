/** The vendor/product/version of a CPE 2.3 formatted string or a CPE 2.2 URI, or undefined. */
export function parseCpe(cpe: string): { vendor: string; product: string; version?: string } | undefined {
  let fields: string[];
  if (cpe.startsWith('cpe:2.3:')) {
    // Split on ':' not escaped with a backslash.
    fields = cpe
      .slice('cpe:2.3:'.length)
      .split(/(?<!\\):/)
      .map(unescape23);
  } else if (cpe.startsWith('cpe:/')) {
    fields = cpe
      .slice('cpe:/'.length)
      .split(':')
      .map((f) => safeDecode(f));
  } else {
    return undefined;
  }
  const [, vendor, product, version] = fields;
  if (!vendor || !product || product === '*' || product === '-') return undefined;
  const result: { vendor: string; product: string; version?: string } = { vendor, product };
  if (version && version !== '*' && version !== '-') result.version = version;
  return result;
}

function unescape23(field: string): string {
  return field.replace(/\\(.)/g, '$1');
}

function safeDecode(field: string): string {
  try {
    return decodeURIComponent(field);
  } catch {
    return field;
  }
}
