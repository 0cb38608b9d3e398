// The server's one secret key (SERVER.md section 7): from LADING_SECRET_KEY (via config), else a random 32-byte key
// kept in `<dataDir>/secret.key`, created 0600 on first start. Every purpose-specific key (token pepper, session
// hashes, page-token signatures, integration-secret encryption) is derived from it with HKDF, so one value is all an
// operator has to back up and protect.
import { hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config.js';

export const SECRET_KEY_FILE = 'secret.key';

export interface ServerSecrets {
  /** The root secret (never logged, never sent). */
  readonly key: Uint8Array;
  /** HMAC key for keyset page tokens. */
  readonly pageTokenKey: Uint8Array;
}

export function deriveKey(root: Uint8Array, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', root, new Uint8Array(0), `lading-server/${purpose}`, 32));
}

export function serverSecrets(root: Uint8Array): ServerSecrets {
  return { key: root, pageTokenKey: deriveKey(root, 'page-token/v1') };
}

/** Reads `<dataDir>/secret.key`, creating it (0600, exclusive) when absent. Refuses a file others can read. */
export function loadOrCreateSecretKeyFile(dataDir: string): Uint8Array {
  const path = join(dataDir, SECRET_KEY_FILE);
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, `${Buffer.from(randomBytes(32)).toString('hex')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`${path} is readable by other users (mode ${mode.toString(8)}): chmod 600 it`);
  }
  const bytes = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
  if (bytes.length < 32) throw new ConfigError(`${path} does not hold a 32-byte hex key`);
  return new Uint8Array(bytes);
}
