/**
 * Parses os-release(5): `KEY=value` lines, values optionally in single or double quotes with shell-style
 * backslash escapes inside double quotes. Malformed lines are skipped: the file is informative, not a contract.
 */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue;
    fields.set(key, unquote(line.slice(eq + 1).trim()));
  }
  return fields;
}

function unquote(value: string): string {
  const first = value[0];
  if ((first === '"' || first === "'") && value.length >= 2 && value.endsWith(first)) {
    const inner = value.slice(1, -1);
    return first === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return value;
}
