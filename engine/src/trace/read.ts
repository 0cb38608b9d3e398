/**
 * Reads a JSON-lines file, plain or gzip-compressed (judged from its first bytes, not its name), one record at a
 * time. The study's files are tens of MB uncompressed; each line and the whole decompressed text are capped so a
 * hostile or corrupt file (a gzip bomb, one endless line) is refused with one line instead of filling memory.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { openRegularFile } from '../image/sources/regular-file.js';

export interface JsonLinesLimits {
  /** Largest decompressed text, all lines together. */
  maxBytes: number;
  /** Longest single line. */
  maxLineBytes: number;
}

export const DEFAULT_JSON_LINES_LIMITS: JsonLinesLimits = {
  maxBytes: 512 * 1024 * 1024,
  maxLineBytes: 4 * 1024 * 1024,
};

/** Calls `onRecord(value, "FILE:LINE")` for each non-empty line, in order. */
export async function readJsonLines(
  file: string,
  onRecord: (value: unknown, where: string) => void,
  limits: JsonLinesLimits = DEFAULT_JSON_LINES_LIMITS,
): Promise<number> {
  const fh = await openFileForLines(file);
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    const gzipped = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    const raw = fh.createReadStream({ start: 0, autoClose: false });
    const text: Readable = gzipped ? raw.pipe(createGunzip()) : raw;
    if (gzipped) raw.on('error', (err) => text.destroy(err));
    return await eachLine(text, file, onRecord, limits);
  } catch (err) {
    if (err instanceof LadingError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'ERR_PADDING_1') {
      throw new LadingError('BAD_INPUT', `${file}: corrupt gzip data`);
    }
    throw new LadingError('IO', `cannot read ${file}: ${code ?? thrownValueText(err)}`);
  } finally {
    await fh.close().catch(() => {});
  }
}

async function openFileForLines(file: string) {
  try {
    return await openRegularFile(file, 'document');
  } catch (err) {
    if (err instanceof LadingError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LadingError('NOT_FOUND', `${file}: no such file or directory`);
    throw new LadingError('IO', `cannot read ${file}: ${code ?? thrownValueText(err)}`);
  }
}

async function eachLine(
  stream: Readable,
  file: string,
  onRecord: (value: unknown, where: string) => void,
  limits: JsonLinesLimits,
): Promise<number> {
  let total = 0;
  let lineNumber = 0;
  let records = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const finish = (line: Buffer) => {
    lineNumber += 1;
    const text = line.toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new LadingError('BAD_INPUT', `${file}:${lineNumber}: not JSON: ${thrownValueText(err)}`);
    }
    onRecord(value, `${file}:${lineNumber}`);
    records += 1;
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limits.maxBytes) {
      stream.destroy();
      throw new LadingError('LIMIT', `${file}: more than ${limits.maxBytes} bytes of JSON lines`);
    }
    let start = 0;
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, i);
      if (pendingBytes + piece.length > limits.maxLineBytes) tooLong(stream, file, lineNumber + 1, limits);
      pending.push(piece);
      finish(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
      start = i + 1;
    }
    const rest = chunk.subarray(start);
    pendingBytes += rest.length;
    if (pendingBytes > limits.maxLineBytes) tooLong(stream, file, lineNumber + 1, limits);
    pending.push(rest);
  }
  if (pendingBytes > 0) finish(Buffer.concat(pending));
  return records;
}

function tooLong(stream: Readable, file: string, line: number, limits: JsonLinesLimits): never {
  stream.destroy();
  throw new LadingError('LIMIT', `${file}:${line}: line longer than ${limits.maxLineBytes} bytes`);
}
