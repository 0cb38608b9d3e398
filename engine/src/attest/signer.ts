import type { KeyObject } from 'node:crypto';
import { readKeyText } from './key-source.js';
import { isEncryptedKey, parsePrivateKey, parsePublicKey } from './keys.js';
import { obtainPassword } from './password.js';

/** Loads a signing key from a file or env://VAR, asking for the password only when the key is encrypted. */
export async function loadSigningKey(ref: string): Promise<KeyObject> {
  const { text, source } = await readKeyText(ref);
  const password = isEncryptedKey(text, source) ? await obtainPassword(`key ${source}`) : '';
  return parsePrivateKey(text, source, () => password);
}

export async function loadVerificationKey(ref: string): Promise<KeyObject> {
  const { text, source } = await readKeyText(ref);
  return parsePublicKey(text, source);
}
