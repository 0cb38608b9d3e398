import { randomBytes, scryptSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { LadingError } from '../errors/lading-error.js';

/**
 * cosign's encrypted private key body (go-securesystemslib `encrypted`): scrypt-derived key, NaCl secretbox over
 * PKCS#8 DER. Written with N=32768 because containers/image up to 5.24 (go-tuf 0.5) accepts only that value.
 */
export const WRITE_SCRYPT = { N: 32768, r: 8, p: 1 } as const;
/** Later go-securesystemslib also writes 65536 and 131072; larger values are refused so a key file cannot exhaust memory. */
const ACCEPTED_N = new Set([32768, 65536, 131072]);
const SALT_BYTES = 32;
const NONCE_BYTES = nacl.secretbox.nonceLength;
const KEY_BYTES = nacl.secretbox.keyLength;
const MAX_PLAINTEXT_BYTES = 16 * 1024;

interface EncryptedKeyJson {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

export interface EncryptOptions {
  /** Fixed salt and nonce are for test vectors only. */
  salt?: Buffer;
  nonce?: Buffer;
}

function deriveKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Uint8Array {
  // Node's default maxmem (32 MiB) is below what N=32768,r=8 needs (128*N*r = 32 MiB plus overhead).
  return scryptSync(Buffer.from(password, 'utf8'), salt, KEY_BYTES, { ...params, maxmem: 512 * 1024 * 1024 });
}

/** The bytes that go inside the PEM block: the JSON text in Go's field order. */
export function encryptPrivateKey(pkcs8Der: Buffer, password: string, options: EncryptOptions = {}): Buffer {
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const nonce = options.nonce ?? randomBytes(NONCE_BYTES);
  const key = deriveKey(password, salt, WRITE_SCRYPT);
  const sealed = nacl.secretbox(new Uint8Array(pkcs8Der), new Uint8Array(nonce), key);
  const json: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: { ...WRITE_SCRYPT }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(sealed).toString('base64'),
  };
  return Buffer.from(JSON.stringify(json), 'utf8');
}

/** Returns PKCS#8 DER; a wrong password is a CONFIG error (the user's input is wrong, nothing else). */
export function decryptPrivateKey(body: Buffer, password: string, source: string): Buffer {
  const json = parseEncryptedKeyJson(body, source);
  const { N, r, p } = json.kdf.params;
  const salt = Buffer.from(json.kdf.salt, 'base64');
  const nonce = Buffer.from(json.cipher.nonce, 'base64');
  const sealed = Buffer.from(json.ciphertext, 'base64');
  if (nonce.length !== NONCE_BYTES) throw bad(source, `nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
  if (salt.length === 0 || salt.length > 1024) throw bad(source, 'salt has an invalid length');
  if (sealed.length < nacl.secretbox.overheadLength || sealed.length > MAX_PLAINTEXT_BYTES) {
    throw bad(source, 'ciphertext has an invalid length');
  }
  const key = deriveKey(password, salt, { N, r, p });
  const opened = nacl.secretbox.open(new Uint8Array(sealed), new Uint8Array(nonce), key);
  if (!opened) {
    throw new LadingError(
      'CONFIG',
      `${source}: cannot decrypt the private key: wrong password (or a corrupted key file)`,
    );
  }
  return Buffer.from(opened);
}

function parseEncryptedKeyJson(body: Buffer, source: string): EncryptedKeyJson {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw bad(source, 'the PEM body is not JSON');
  }
  const j = raw as Partial<EncryptedKeyJson> | null;
  const kdf = j?.kdf;
  const params = kdf?.params;
  if (!j || typeof j !== 'object' || !kdf || kdf.name !== 'scrypt' || !params) throw bad(source, 'kdf must be scrypt');
  if (!ACCEPTED_N.has(params.N) || params.r !== 8 || params.p !== 1) {
    throw bad(source, `unsupported scrypt parameters N=${params.N} r=${params.r} p=${params.p}`);
  }
  if (j.cipher?.name !== 'nacl/secretbox') throw bad(source, 'cipher must be nacl/secretbox');
  for (const value of [kdf.salt, j.cipher.nonce, j.ciphertext]) {
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw bad(source, 'a field is not base64');
  }
  return j as EncryptedKeyJson;
}

function bad(source: string, why: string): LadingError {
  return new LadingError('BAD_INPUT', `${source}: not a valid encrypted cosign key: ${why}`);
}
