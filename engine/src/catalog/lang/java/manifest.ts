/** A JAR manifest: the main section and the named (per-entry) sections, continuation lines joined. */
export interface Manifest {
  main: Record<string, string>;
  sections: Record<string, string>[];
}

export function parseManifest(text: string): Manifest {
  const sections: Record<string, string>[] = [{}];
  let last: { section: Record<string, string>; key: string } | undefined;
  for (const line of text.split(/\r?\n|\r/)) {
    if (line === '') {
      if (Object.keys(sections[sections.length - 1] ?? {}).length) sections.push({});
      last = undefined;
      continue;
    }
    const section = sections[sections.length - 1] ?? {};
    if (line.startsWith(' ') && last) {
      // The JAR spec wraps lines at 72 bytes with one leading space on the continuation.
      last.section[last.key] += line.slice(1);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    section[key] = line.slice(colon + 1).trim();
    last = { section, key };
  }
  const [main = {}, ...rest] = sections;
  return { main, sections: rest.filter((s) => Object.keys(s).length > 0) };
}
