import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

describe('sign and verify name a file where an image belongs', () => {
  it('say which command handles files (exit 2), before reading the key or reaching a registry', async (t) => {
    const dir = await tempDir(t);
    const file = join(dir, 'artifact.tar.gz');
    await writeFile(file, 'not an image');
    const [sign, verify] = await Promise.all([
      runCli(['sign', file, '--key', join(dir, 'missing.key')]),
      runCli(['verify', file, '--key', join(dir, 'missing.pub')]),
    ]);
    assert.equal(sign.code, 2, sign.stderr);
    assert.equal(sign.stderr, `lading: ${file} is a file: use sign-blob to sign files, sign to sign images\n`);
    assert.equal(verify.code, 2, verify.stderr);
    assert.equal(
      verify.stderr,
      `lading: ${file} is a file: use verify-blob to verify files, verify to verify images\n`,
    );
  });
});
