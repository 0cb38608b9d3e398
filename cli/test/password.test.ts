import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LadingError } from '@lading/engine/errors';
import { obtainPassword } from '../src/password.js';

describe('key passwords (the CLI reads them; the engine is handed them)', () => {
  it('without a password source and no terminal, asking for one is a usage error, not a hang', async () => {
    await assert.rejects(
      obtainPassword('key k', {}),
      (e: LadingError) => e.code === 'USAGE' && /set LADING_PASSWORD/.test(e.message),
    );
    assert.equal(await obtainPassword('key k', { COSIGN_PASSWORD: '' }), '', 'an empty password is a valid password');
    assert.equal(await obtainPassword('key k', { LADING_PASSWORD: 'first', COSIGN_PASSWORD: 'second' }), 'first');
  });
});
