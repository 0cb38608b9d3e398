import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { decryptPrivateKey, encryptPrivateKey } from './encrypted-key.js';
import { decodePem, encodePem } from './pem.js';

export const COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';
export const SIGSTORE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';

export interface GeneratedKeyPair {
  /** PEM text of the encrypted private key (COSIGN label, readable by cosign and containers/image). */
  privatePem: string;
  /** PEM text of the SPKI public key. */
  publicPem: string;
}

export function generateCosignKeyPair(password: string): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privatePem: encryptedPrivateKeyPem(privateKey, password),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function encryptedPrivateKeyPem(key: KeyObject, password: string): string {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return encodePem(COSIGN_KEY_LABEL, encryptPrivateKey(der, password));
}

/** Whether the key text needs a password (so callers only prompt when it does). */
export function isEncryptedKey(pemText: string, source: string): boolean {
  const { label } = decodePem(pemText, source);
  return label === COSIGN_KEY_LABEL || label === SIGSTORE_KEY_LABEL || label === 'ENCRYPTED PRIVATE KEY';
}

/** Private key from cosign's encrypted PEM (either label), PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`. */
export function parsePrivateKey(pemText: string, source: string, password: () => string): KeyObject {
  const { label, der } = decodePem(pemText, source);
  let key: KeyObject;
  try {
    switch (label) {
      case COSIGN_KEY_LABEL:
      case SIGSTORE_KEY_LABEL:
        key = createPrivateKey({ key: decryptPrivateKey(der, password(), source), format: 'der', type: 'pkcs8' });
        break;
      case 'PRIVATE KEY':
        key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        break;
      case 'EC PRIVATE KEY':
        key = createPrivateKey({ key: der, format: 'der', type: 'sec1' });
        break;
      case 'RSA PRIVATE KEY':
        key = createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
        break;
      case 'ENCRYPTED PRIVATE KEY':
        key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase: password() });
        break;
      default:
        throw new LadingError('BAD_INPUT', `${source}: "${label}" is not a private key`);
    }
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('BAD_INPUT', `${source}: cannot parse the private key (${thrownValueText(err)})`, {
      cause: err,
    });
  }
  assertSupportedKey(key, source);
  return key;
}

/** Public key from a `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` PEM block. */
export function parsePublicKey(pemText: string, source: string): KeyObject {
  const { label, der } = decodePem(pemText, source);
  let key: KeyObject;
  try {
    if (label === 'PUBLIC KEY') key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    else if (label === 'RSA PUBLIC KEY') key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
    else throw new LadingError('BAD_INPUT', `${source}: "${label}" is not a public key`);
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('BAD_INPUT', `${source}: cannot parse the public key (${thrownValueText(err)})`, {
      cause: err,
    });
  }
  assertSupportedKey(key, source);
  return key;
}

/** The algorithms cosign's key validation (sigstore goodkey) accepts. */
function assertSupportedKey(key: KeyObject, source: string): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(details.namedCurve ?? '')) return;
  if (type === 'rsa' && (details.modulusLength ?? 0) >= 2048 && (details.modulusLength ?? 0) <= 4096) return;
  if (type === 'ed25519') return;
  throw new LadingError(
    'BAD_INPUT',
    `${source}: unsupported key type ${type}${details.namedCurve ? ` ${details.namedCurve}` : ''}${details.modulusLength ? ` ${details.modulusLength} bits` : ''}`,
  );
}

export function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

/** Sigstore bundle key hint: std-base64 SHA-256 of the SPKI DER (sigstore-go, cosign). */
export function keyHint(key: KeyObject): string {
  const spki = publicKeyOf(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
