// Integration secrets at rest (SERVER.md section 7): webhook URLs, SMTP credentials and signing keys are sealed with
// AES-256-GCM under a key derived (HKDF) from the server's one secret key, so a copy of the database alone reveals no
// target. The sealed form names its key version (`v1`), which is what a later key rotation re-encrypts by.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from '../secrets.js';

const VERSION = 'v1';

/** The AES key for integration secrets, from the server's root secret. */
export function integrationKey(root: Uint8Array): Uint8Array {
  return deriveKey(root, 'integration-secrets/v1');
}

/** Seals `plaintext`; `purpose` (e.g. `notification_rules.target`) is bound as associated data so a sealed value
 * cannot be moved to another column and decrypted there. */
export function seal(key: Uint8Array, purpose: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), body.toString('base64url'), tag.toString('base64url')].join(':');
}

export function open(key: Uint8Array, purpose: string, sealed: string): string {
  const [version, iv, body, tag] = sealed.split(':');
  if (version !== VERSION || iv === undefined || body === undefined || tag === undefined) {
    throw new Error('a sealed integration secret has an unknown form');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(purpose, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('a sealed integration secret does not open with this server key (was LADING_SECRET_KEY changed?)');
  }
}
