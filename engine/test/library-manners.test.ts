// The engine is a library: it reads no environment, names no CLI flags in its errors, and reads the clock only where
// a moment is not a decision. These tests read engine/src and fail on anything new of the kind.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ENGINE_ROOT } from './helpers/paths.js';

const SRC = join(ENGINE_ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The code of a file without its comments (a comment may say `--platform` or `process.env` freely). */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** `file:line: text` of every line of code matching `pattern`. */
function hits(pattern: RegExp, files = sources(SRC)): string[] {
  return files.flatMap((file) =>
    code(file)
      .split('\n')
      .flatMap((line, i) => (pattern.test(line) ? [`${relative(ENGINE_ROOT, file)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

/** The argument text of every `new LadingError(…)` / `super(…)` in an error class, parentheses balanced. */
function errorCalls(file: string): { at: string; text: string }[] {
  const text = code(file);
  const out: { at: string; text: string }[] = [];
  for (const m of text.matchAll(/new LadingError\(|\bsuper\(/g)) {
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && --depth === 0) break;
    }
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ at: `${relative(ENGINE_ROOT, file)}:${line}`, text: text.slice(m.index, end + 1) });
  }
  return out;
}

/**
 * Where the engine may read the clock, and why: none of these decides what a report says. Everything that does
 * (a report's date, data age, exception expiry, end of life) takes `now` from the caller.
 */
const CLOCK_ALLOWED: Record<string, string> = {
  'src/image/walk/progress-meter.ts': 'throttles progress events to a few a second',
  'src/registry/auth.ts': "a bearer token's lifetime, as the registry gave it",
  'src/http/': 'network timing: request deadlines, how long a Retry-After date asks to wait',
  'src/cache/result-cache.ts': "a cache entry's mtime, the recency its eviction goes by",
  'src/objects/s3.ts': "an S3 request signature's timestamp, which the server checks against its own clock",
};

describe('library manners', () => {
  it('reads no environment variable: the CLI reads them and passes options', () => {
    assert.deepEqual(hits(/\bprocess\.env\b/), []);
  });

  it('names no CLI flag in an error: the option in its own terms, for the CLI to put its flag (LadingError.option)', () => {
    const flagged = sources(SRC)
      .flatMap(errorCalls)
      .filter((call) => /['"`][^'"`]*(?<![\w-])--[a-z][a-z-]+/.test(call.text))
      .map((call) => `${call.at}: ${call.text.replace(/\s+/g, ' ').slice(0, 160)}`);
    assert.deepEqual(flagged, []);
  });

  it('reads the clock only where the moment decides nothing in a report', () => {
    const allowed = Object.keys(CLOCK_ALLOWED);
    const reads = hits(/\bnew Date\(\)|\bDate\.now\(\)/).filter((hit) => !allowed.some((a) => hit.startsWith(a)));
    assert.deepEqual(reads, []);
  });
});
