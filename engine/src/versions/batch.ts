import type { Readable, Writable } from 'node:stream';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { comparatorFor } from './ecosystems.js';

export interface BatchSummary {
  lines: number;
  failed: number;
}

function errorLine(message: string): string {
  return `${JSON.stringify({ error: message })}\n`;
}

/**
 * Compares `{"a":…,"b":…}` JSON lines from `input`, writing `-1`, `0` or `1` per line, or `{"error":"…"}` for a
 * line that is not such an object or holds an invalid version; blank lines are skipped without output.
 * Input is read and answered a chunk at a time: 100k lines must take about a second, not minutes.
 */
export async function compareBatch(ecosystem: string, input: Readable, output: Writable): Promise<BatchSummary> {
  const scheme = comparatorFor(ecosystem);
  let count = 0;
  let failed = 0;
  let carry = '';
  const onError = () => failed++;
  const answer = (lines: string[], last: number): string => {
    let out = '';
    for (let i = 0; i < last; i++) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      count++;
      out += compareLine(scheme, line, onError);
    }
    return out;
  };
  input.setEncoding('utf8');
  // whole chunks at a time: readline's per-line async iteration costs more than the comparisons
  for await (const chunk of input as AsyncIterable<string>) {
    const lines = (carry + chunk).split('\n');
    carry = lines[lines.length - 1]!;
    if (carry.length > MAX_LINE)
      throw new LadingError('BAD_INPUT', `batch input line ${count + 1} is over ${MAX_LINE} bytes`);
    await write(output, answer(lines, lines.length - 1));
  }
  await write(output, answer([carry], 1));
  return { lines: count, failed };
}

/** A line holds two versions of at most 256 characters each; anything far longer is not batch input. */
const MAX_LINE = 1 << 20;

function write(output: Writable, text: string): Promise<void> | undefined {
  if (text === '' || output.write(text)) return undefined;
  return new Promise<void>((resolve) => output.once('drain', resolve));
}

function compareLine(scheme: ReturnType<typeof comparatorFor>, line: string, onError: () => void): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    onError();
    return errorLine('not a JSON object');
  }
  const { a, b } = (record ?? {}) as { a?: unknown; b?: unknown };
  if (typeof record !== 'object' || typeof a !== 'string' || typeof b !== 'string') {
    onError();
    return errorLine('expected {"a": "VERSION", "b": "VERSION"}');
  }
  try {
    return `${scheme.compareParsed(scheme.parse(a), scheme.parse(b))}\n`;
  } catch (err) {
    onError();
    return errorLine(thrownValueText(err));
  }
}
