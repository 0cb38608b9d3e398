import type { KeyObject } from 'node:crypto';
import { readKeyText } from './key-source.js';
import { isEncryptedKey, parsePrivateKey, parsePublicKey } from './keys.js';

export interface KeySourceOptions {
  /** Where `env://VAR` key references are looked up (the CLI passes its environment). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface SigningKeyOptions extends KeySourceOptions {
  /** Gives the password of an encrypted key (`purpose` names it, e.g. `key cosign.key`); not called otherwise. */
  password: (purpose: string) => Promise<string>;
}

/** Loads a signing key from a file or env://VAR, asking for the password only when the key is encrypted. */
export async function loadSigningKey(ref: string, options: SigningKeyOptions): Promise<KeyObject> {
  const { text, source } = await readKeyText(ref, options.env);
  const password = isEncryptedKey(text, source) ? await options.password(`key ${source}`) : '';
  return parsePrivateKey(text, source, () => password);
}

export async function loadVerificationKey(ref: string, options: KeySourceOptions): Promise<KeyObject> {
  const { text, source } = await readKeyText(ref, options.env);
  return parsePublicKey(text, source);
}
