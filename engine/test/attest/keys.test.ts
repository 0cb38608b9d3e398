import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decryptPrivateKey, encryptPrivateKey } from '../../src/attest/encrypted-key.js';
import {
  encryptedPrivateKeyPem,
  generateCosignKeyPair,
  keyHint,
  parsePrivateKey,
  parsePublicKey,
} from '../../src/attest/keys.js';
import { decodePem, encodePem } from '../../src/attest/pem.js';
import { LadingError } from '../../src/errors/lading-error.js';
import { fixture, fixtureText } from './helpers.js';

const TV1_PKCS8 = decodePem(fixtureText('dsse-spec.pkcs8.pem'), 'tv1').der;

describe('cosign encrypted key files', () => {
  it('decrypts the spec test vector (TV2) to the TV1 key with its password', () => {
    const key = parsePrivateKey(fixtureText('cosign-tv2.key'), 'tv2', () => 'test-password');
    assert.deepEqual(key.export({ type: 'pkcs8', format: 'der' }), TV1_PKCS8);
    assert.equal(keyHint(key), '95NYAGBWLW/wddgU6mmMKC/Md5sM3mTXn/xjAd8A0Us=');
  });

  it('encrypts byte-for-byte like the test vector for the same salt and nonce', () => {
    const body = encryptPrivateKey(TV1_PKCS8, 'test-password', {
      salt: Buffer.alloc(32, 1),
      nonce: Buffer.alloc(24, 2),
    });
    assert.equal(encodePem('ENCRYPTED COSIGN PRIVATE KEY', body), fixtureText('cosign-tv2.key'));
  });

  it('reads the SIGSTORE label too and round-trips a generated pair', () => {
    const pair = generateCosignKeyPair('pw');
    assert.match(pair.privatePem, /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n/);
    const sigstore = pair.privatePem.replaceAll('COSIGN', 'SIGSTORE');
    const key = parsePrivateKey(sigstore, 'k', () => 'pw');
    assert.equal(keyHint(key), keyHint(parsePublicKey(pair.publicPem, 'p')));
    const json = JSON.parse(decodePem(pair.privatePem, 'k').der.toString()) as { kdf: { params: unknown } };
    assert.deepEqual(json.kdf.params, { N: 32768, r: 8, p: 1 });
  });

  it('a wrong password is a CONFIG error naming the file', () => {
    assert.throws(
      () => parsePrivateKey(fixtureText('cosign-tv2.key'), 'cosign-tv2.key', () => 'nope'),
      (e: LadingError) => e.code === 'CONFIG' && /cosign-tv2.key: .*wrong password/.test(e.message),
    );
  });

  it('accepts plain PKCS#8, SEC1 EC and PKCS#1 RSA PEM keys', () => {
    const pkcs8 = parsePrivateKey(fixtureText('dsse-spec.pkcs8.pem'), 'p8', () => '');
    const sec1 = pkcs8.export({ type: 'sec1', format: 'pem' }).toString();
    assert.equal(keyHint(parsePrivateKey(sec1, 'sec1', () => '')), keyHint(pkcs8));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pkcs1 = rsa.export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.equal(parsePrivateKey(pkcs1, 'rsa', () => '').asymmetricKeyType, 'rsa');
  });

  it('refuses weak or unsupported keys and non-key PEM blocks', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    assert.throws(() => parsePrivateKey(small.toString(), 'small', () => ''), /unsupported key type rsa 1024/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    assert.throws(
      () => parsePrivateKey(k1.export({ type: 'pkcs8', format: 'pem' }).toString(), 'k1', () => ''),
      /unsupported/,
    );
    assert.throws(() => parsePublicKey(fixtureText('dsse-spec.pkcs8.pem'), 'x'), /is not a public key/);
    assert.throws(
      () => parsePrivateKey(encodePem('CERTIFICATE', Buffer.from('x')), 'x', () => ''),
      /not a private key/,
    );
  });

  it('refuses scrypt parameters outside the accepted set before deriving (no memory blow-up)', () => {
    const json = JSON.parse(decodePem(fixtureText('cosign-tv2.key'), 'k').der.toString());
    for (const params of [
      { N: 1048576, r: 8, p: 1 },
      { N: 32768, r: 16, p: 1 },
      { N: 16384, r: 8, p: 1 },
    ]) {
      json.kdf.params = params;
      const pem = encodePem('ENCRYPTED COSIGN PRIVATE KEY', Buffer.from(JSON.stringify(json)));
      assert.throws(
        () => parsePrivateKey(pem, 'evil', () => 'test-password'),
        (e: LadingError) => e.code === 'BAD_INPUT' && /unsupported scrypt parameters/.test(e.message),
      );
    }
  });

  it('accepts N=65536 (what recent cosign writes)', () => {
    const json = JSON.parse(decodePem(fixtureText('cosign-tv2.key'), 'k').der.toString());
    json.kdf.params.N = 65536;
    // A different N derives a different key, so the TV ciphertext no longer opens: the parameter is accepted, the
    // password check then fails as it should.
    assert.throws(
      () => decryptPrivateKey(Buffer.from(JSON.stringify(json)), 'test-password', 'n65536'),
      (e: LadingError) => e.code === 'CONFIG',
    );
  });

  it('hostile key files give one-line LadingErrors, never a crash', () => {
    const tv2 = fixtureText('cosign-tv2.key');
    fc.assert(
      fc.property(fc.nat(tv2.length), fc.string({ maxLength: 20 }), (cut, junk) => {
        const text = tv2.slice(0, cut) + junk;
        try {
          parsePrivateKey(text, 'fuzz', () => 'test-password');
        } catch (err) {
          assert.ok(err instanceof LadingError, String(err));
          assert.ok(!err.message.includes('\n'));
        }
      }),
      { numRuns: 60 },
    );
    assert.throws(() => decodePem('x'.repeat(70 * 1024), 'big'), /too large/);
  });

  it('exports an encrypted PEM of any supported key', () => {
    const key = createPrivateKey(fixtureText('dsse-spec.pkcs8.pem'));
    const pem = encryptedPrivateKeyPem(key, '');
    assert.equal(keyHint(parsePrivateKey(pem, 'e', () => '')), keyHint(key));
    assert.ok(fixture('cosign-tv2.key').length > 0);
  });
});
