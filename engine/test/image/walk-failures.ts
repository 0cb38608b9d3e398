import assert from 'node:assert/strict';
import { type ErrorCode, isLadingError } from '../../src/errors/lading-error.js';
import { openTarget } from '../../src/image/open.js';
import { LIMITS, OS_SELECTOR } from './select.js';

/** Opens a target and walks it with the OS selector, closing it whatever happens. */
export async function openAndWalk(
  spec: string,
  limits: typeof LIMITS & { maxInflatedBytes?: number; maxEntries?: number } = LIMITS,
) {
  const opened = await openTarget(spec);
  try {
    return await opened.walk(OS_SELECTOR, limits);
  } finally {
    await opened.close();
  }
}

/** An `assert.rejects` check: a one-line LadingError with this code, exit 3, matching `pattern` and naming `names`. */
export function failsWith(code: ErrorCode, pattern: RegExp, names: string) {
  return (err: unknown) => {
    assert.ok(isLadingError(err), `expected a LadingError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, pattern);
    assert.ok(err.message.includes(names), `message names ${names}: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  };
}
