// deb822 control data (dpkg's status, Packages, Release, `.sources`): stanzas of `Field: value` lines with
// continuation lines, kept in their order so a stanza can be written back as dpkg writes it.
export type Stanza = [name: string, value: string][];

/** Stanzas separated by blank lines; `#` comment lines (allowed in `.sources`) are dropped. */
export function parseStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (current.length > 0) stanzas.push(current);
      current = [];
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = current[current.length - 1];
      if (last) last[1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  if (current.length > 0) stanzas.push(current);
  return stanzas;
}

/** A field's value (field names are case-insensitive). */
export function field(stanza: Stanza, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of stanza) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The stanza as dpkg writes it: `Name: value` lines (continuations kept), ending with a newline. */
export function formatStanza(stanza: Stanza): string {
  return stanza.map(([k, v]) => (v.startsWith('\n') || v === '' ? `${k}:${v}\n` : `${k}: ${v}\n`)).join('');
}

/** A multi-line field's lines after the first (e.g. `Conffiles:`, `SHA256:`), trimmed, empty lines dropped. */
export function fieldLines(stanza: Stanza, name: string): string[] {
  const value = field(stanza, name);
  if (value === undefined) return [];
  return value
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
