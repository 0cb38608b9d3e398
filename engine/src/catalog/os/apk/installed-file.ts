/** One package of an apk `installed` database. */
export interface ApkRecord {
  name?: string;
  version?: string;
  arch?: string;
  origin?: string;
  license?: string;
  /** `D:` tokens as written (`so:libc.musl-x86_64.so.1`, `busybox>=1.36`, `!conflict`). */
  depends: string[];
  /** `p:` tokens: what the package provides (`so:libcrypto.so.3=3`, `cmd:openssl`). */
  provides: string[];
  /** Absolute paths of its `F:` directories and `R:` files. */
  files: string[];
  /** 1-based line where the record starts. */
  line: number;
  /** Single-valued keys (`P`, `V`, `A`, `o`) given more than once: which value is right cannot be told. */
  duplicates?: string[];
  /** Set on the last record when the file ends mid-line (truncated): the key of that cut line. */
  cutKey?: string;
}

const SINGLE_KEYS = new Set(['P', 'V', 'A', 'o']);

/**
 * Parses apk's installed database (apk-tools `database.c`): one record per blank-line-separated paragraph,
 * `X:value` lines; `R:` files belong to the latest `F:` directory. Unknown keys are ignored. Works line by line,
 * so cost is linear in the file size.
 */
export function parseInstalled(text: string): ApkRecord[] {
  const records: ApkRecord[] = [];
  let current: ApkRecord | undefined;
  let dir = '';
  let lineNo = 0;
  const lines = text.split('\n');
  // apk writes a newline after every line: a last line without one was cut short.
  const cutLine = lines.length > 0 && lines[lines.length - 1] !== '' ? lines.length : 0;
  for (const raw of lines) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (line.length < 2 || line[1] !== ':') continue;
    if (!current) {
      current = { depends: [], provides: [], files: [], line: lineNo };
      records.push(current);
      dir = '';
    }
    const value = line.slice(2);
    const key = line[0] ?? '';
    if (lineNo === cutLine) current.cutKey = key;
    if (SINGLE_KEYS.has(key) && seenKey(current, key)) {
      current.duplicates ??= [];
      if (!current.duplicates.includes(key)) current.duplicates.push(key);
      continue;
    }
    switch (key) {
      case 'P':
        current.name = value.trim();
        break;
      case 'V':
        current.version = value.trim();
        break;
      case 'A':
        current.arch = value.trim();
        break;
      case 'o':
        current.origin = value.trim();
        break;
      case 'L':
        current.license = value.trim();
        break;
      case 'D':
        for (const name of value.split(/\s+/).filter(Boolean)) current.depends.push(name);
        break;
      case 'p':
        for (const name of value.split(/\s+/).filter(Boolean)) current.provides.push(name);
        break;
      case 'F':
        dir = value.trim().replace(/^\/+|\/+$/g, '');
        if (dir) current.files.push(`/${dir}`);
        break;
      case 'R':
        if (value.trim()) current.files.push(dir ? `/${dir}/${value.trim()}` : `/${value.trim()}`);
        break;
    }
  }
  return records;
}

function seenKey(record: ApkRecord, key: string): boolean {
  if (key === 'P') return record.name !== undefined;
  if (key === 'V') return record.version !== undefined;
  if (key === 'A') return record.arch !== undefined;
  return record.origin !== undefined;
}

/** The name part of a dependency or provides token: `busybox>=1.36` → `busybox`, `so:libc.so=1` → `so:libc.so`. */
export function tokenName(token: string): string {
  return token.split(/[<>=~]/)[0] ?? token;
}
