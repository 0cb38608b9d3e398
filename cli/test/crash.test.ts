// Every internal error becomes one line with exit 3 (operational), never Node's stack trace with exit 1 (which
// means "no" to a script): errors main catches, and errors thrown outside any promise (a stream handler, a timer).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeError, LadingError } from '@lading/engine/errors';

const CRASH = fileURLToPath(new URL('../src/crash.ts', import.meta.url));

/** Runs a script that installs the CLI's crash handlers and then throws `throwing` from a timer. */
function crashWith(throwing: string): { status: number | null; stderr: string } {
  const script = `import { installCrashHandlers } from ${JSON.stringify(CRASH)};
installCrashHandlers();
setTimeout(() => { ${throwing} }, 0);`;
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  return { status: r.status, stderr: r.stderr };
}

describe('internal errors: one line, exit 3', () => {
  it('words the JavaScript engine limits and bugs for people, never [object Object]', () => {
    assert.equal(
      describeError(new RangeError('Invalid string length')),
      'input too large to process (a value past what the JavaScript engine can hold)',
    );
    assert.equal(
      describeError(new RangeError('Maximum call stack size exceeded')),
      'input nested too deeply to process (the call stack overflowed)',
    );
    assert.equal(
      describeError(new TypeError("Cannot read properties of undefined (reading 'x')")),
      "internal error: Cannot read properties of undefined (reading 'x')",
    );
    assert.equal(describeError({ reason: 'odd' }), '{"reason":"odd"}');
    assert.equal(describeError({}), 'unexpected object thrown');
    assert.equal(
      describeError(new LadingError('LIMIT', 'Invalid string length in my words')),
      'Invalid string length in my words',
    );
  });

  it('an exception thrown from a timer ends the process with one line and exit 3', () => {
    const r = crashWith("throw new RangeError('Invalid string length');");
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stderr, 'lading: input too large to process (a value past what the JavaScript engine can hold)\n');
  });

  it('an unhandled rejection of a non-Error ends the process with one line and exit 3', () => {
    const r = crashWith('Promise.reject({ code: 42 });');
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stderr, 'lading: {"code":42}\n');
  });
});
