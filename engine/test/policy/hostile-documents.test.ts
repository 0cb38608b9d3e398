import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LadingError } from '../../src/errors/lading-error.js';
import { loadPolicy } from '../../src/policy/policy-file.js';
import { loadVex } from '../../src/policy/vex.js';
import { tempDir } from '../helpers/tmp.js';

/** A usage error (exit 2) of one line, naming the file, within `withinMs`. */
async function refused(load: () => Promise<unknown>, pattern: RegExp, withinMs = 5000): Promise<void> {
  const started = Date.now();
  await assert.rejects(load(), (err: unknown) => {
    assert.ok(err instanceof LadingError, String(err));
    assert.equal(err.exitCode, 2, err.message);
    assert.match(err.message, pattern);
    assert.equal(err.message.split('\n').length, 1);
    assert.ok(!/\[object Object\]|Invalid string length|call stack/.test(err.message), err.message);
    return true;
  });
  assert.ok(Date.now() - started < withinMs, `${Date.now() - started} ms`);
}

describe('hostile policy and VEX files', () => {
  it('a named pipe, a device or a directory is refused at once, without a read', async (t) => {
    const dir = await tempDir(t);
    const fifo = join(dir, 'policy.yaml');
    execFileSync('mkfifo', [fifo]);
    await refused(() => loadPolicy(fifo), /policy .*policy\.yaml is not a regular file/);
    await refused(() => loadVex(fifo), /VEX document .*policy\.yaml is not a regular file/);
    await refused(() => loadPolicy('/dev/zero'), /\/dev\/zero is not a regular file/);
    await refused(() => loadPolicy(dir), /is a directory/);
  });

  it('a policy over 1 MiB is refused before parsing', async (t) => {
    const file = join(await tempDir(t), 'big.yaml');
    await writeFile(file, `version: 1\nrules: []\n#${'x'.repeat(1024 * 1024)}\n`);
    await refused(() => loadPolicy(file), /big\.yaml is larger than the 1 MiB limit/);
  });

  it('80,000 keys are checked for duplicates in one pass (seconds, not a minute); a duplicate names its line', async (t) => {
    const dir = await tempDir(t);
    const many = join(dir, 'many.yaml');
    const keys = Array.from({ length: 80_000 }, (_, i) => `k${i}: 1`).join('\n');
    await writeFile(many, `version: 1\nrules: []\n${keys}\n`);
    await refused(() => loadPolicy(many), /many\.yaml:3:\d+: invalid policy: k0: unknown field/, 10_000);
    const twice = join(dir, 'twice.yaml');
    await writeFile(twice, 'version: 1\nrules: []\nexceptions: []\nrules: []\n');
    await refused(() => loadPolicy(twice), /twice\.yaml:4:1: invalid policy: Map keys must be unique/);
  });

  it('an alias bomb is a usage error naming the file', async (t) => {
    const file = join(await tempDir(t), 'bomb.yaml');
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    await writeFile(file, `${levels.join('\n')}\nversion: 1\nrules: []\n`);
    await refused(() => loadPolicy(file), /bomb\.yaml: invalid policy: .*alias/i);
    await refused(() => loadVex(file), /bomb\.yaml: invalid VEX document: .*alias/i);
  });

  it('deep flow or block nesting is refused before parsing, with its line', async (t) => {
    const dir = await tempDir(t);
    const flow = join(dir, 'flow.json');
    await writeFile(flow, `{"version": 1, "rules": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    await refused(() => loadPolicy(flow), /flow\.json:1: invalid policy: nested deeper than 64 levels/);
    const block = join(dir, 'block.yaml');
    const lines = Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}a${i}:`);
    await writeFile(block, `version: 1\nrules: []\nx:\n${lines.join('\n')}\n`);
    await refused(() => loadVex(block), /block\.yaml:\d+: invalid VEX document: nested deeper than 64 levels/);
    const dashes = join(dir, 'dashes.yaml');
    await writeFile(dashes, `version: 1\nrules:\n${'- '.repeat(100)}x\n`);
    await refused(() => loadPolicy(dashes), /dashes\.yaml:3: invalid policy: nested deeper than 64 levels/);
  });

  it('an exception expiring on a day that does not exist is refused with its line', async (t) => {
    const file = join(await tempDir(t), 'expires.yaml');
    await writeFile(
      file,
      'version: 1\nrules: []\nexceptions:\n  - vulnerability: CVE-2023-45853\n    reason: ok\n    expires: 2024-02-30\n',
    );
    await refused(
      () => loadPolicy(file),
      /expires\.yaml:6:\d+: invalid policy: exceptions\[0\]\.expires: 2024-02-30 is not a date/,
    );
    await writeFile(
      file,
      'version: 1\nrules: []\nexceptions:\n  - vulnerability: CVE-2023-45853\n    reason: ok\n    expires: 2024-02-29\n',
    );
    assert.equal((await loadPolicy(file)).exceptions[0]?.expires, '2024-02-29');
  });
});
