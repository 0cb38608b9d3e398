import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { LadingError } from '../../src/errors/lading-error.js';

/** The whole of a stream, for comparing blob bytes. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** An `assert.rejects` matcher: a one-line LadingError with this code (and message pattern). */
export function isLading(code: LadingError['code'], pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof LadingError, `expected a LadingError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(!err.message.includes('\n'), 'one line');
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}
