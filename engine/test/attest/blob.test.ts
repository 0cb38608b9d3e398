import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseSignatureText, signBlob, verifyBlob } from '../../src/attest/blob.js';
import { signFile, verifyFile } from '../../src/attest/blob-file.js';
import { verifyBytes } from '../../src/attest/signature.js';
import type { LadingError } from '../../src/errors/lading-error.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURES, fixtureText } from './helpers.js';

const run = promisify(execFile);
const PASSWORD_ENV = { LADING_PASSWORD: 'blob-test', COSIGN_PASSWORD: '' };
const specPrivate = createPrivateKey(fixtureText('dsse-spec.pkcs8.pem'));
const specPublic = createPublicKey(fixtureText('dsse-spec.pub'));

describe('generate-key-pair, sign-blob and verify-blob', () => {
  it('CLI: signatures and bundles interoperate with openssl in both directions; tampering exits 1', async (t) => {
    const dir = await tempDir(t);
    const prefix = join(dir, 'ci');
    const gen = await runCli(['generate-key-pair', '--output-key-prefix', prefix], { env: PASSWORD_ENV });
    assert.equal(gen.code, 0, gen.stderr);
    const blob = join(dir, 'artifact.bin');
    await writeFile(blob, Buffer.from([0, 1, 2, 255, 10, 13]));

    // ours -> openssl
    const sigFile = join(dir, 'artifact.sig');
    const bundleFile = join(dir, 'artifact.bundle.json');
    const sign = await runCli(
      ['sign-blob', blob, '--key', `${prefix}.key`, '--output-signature', sigFile, '--bundle', bundleFile],
      { env: PASSWORD_ENV },
    );
    assert.equal(sign.code, 0, sign.stderr);
    const sigText = await readFile(sigFile, 'utf8');
    assert.match(sigText, /^[A-Za-z0-9+/]+=*$/, 'cosign writes --output-signature as base64 without a newline');
    await writeFile(join(dir, 'sig.der'), Buffer.from(sigText, 'base64'));
    const ossl = await run('openssl', [
      ...['dgst', '-sha256', '-verify', `${prefix}.pub`, '-signature', join(dir, 'sig.der'), blob],
    ]);
    assert.match(ossl.stdout, /Verified OK/);
    const bundle = JSON.parse(await readFile(bundleFile, 'utf8'));
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.equal(bundle.messageSignature.signature, sigText);

    // openssl -> ours (raw DER signature file made with a plain PKCS#8 key)
    const opensslSig = join(dir, 'openssl.der');
    await run('openssl', ['dgst', '-sha256', '-sign', join(FIXTURES, 'dsse-spec.pkcs8.pem'), '-out', opensslSig, blob]);
    const ok = await runCli(['verify-blob', blob, '--key', join(FIXTURES, 'dsse-spec.pub'), '--signature', opensslSig]);
    assert.equal(ok.code, 0, ok.stderr);

    await writeFile(blob, 'changed');
    const tampered = await runCli(['verify-blob', blob, '--key', `${prefix}.pub`, '--bundle', bundleFile]);
    assert.equal(tampered.code, 1, tampered.stderr);
    assert.equal(tampered.stderr.trim().split('\n').length, 1, tampered.stderr);
    assert.match(tampered.stderr, /^lading: .*message digest/);
  });

  it('CLI: refuses to overwrite keys; a wrong password fails before signing; env:// keys and COSIGN_PASSWORD work', async (t) => {
    const dir = await tempDir(t);
    const prefix = join(dir, 'k');
    await writeFile(`${prefix}.pub`, 'keep me');
    const again = await runCli(['generate-key-pair', '--output-key-prefix', prefix], { env: PASSWORD_ENV });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /k\.pub already exists \(use --force/);
    assert.equal(await readFile(`${prefix}.pub`, 'utf8'), 'keep me');

    const blob = join(dir, 'f');
    await writeFile(blob, 'x');
    const wrong = await runCli(['sign-blob', blob, '--key', join(FIXTURES, 'cosign-tv2.key')], {
      env: { LADING_PASSWORD: 'nope' },
    });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^lading: .*cosign-tv2\.key: cannot decrypt the private key: wrong password/);
    assert.equal(wrong.stdout, '');

    const viaEnv = await runCli(['sign-blob', blob, '--key', 'env://SIGNING_KEY'], {
      env: { LADING_PASSWORD: undefined, COSIGN_PASSWORD: 'test-password', SIGNING_KEY: fixtureText('cosign-tv2.key') },
    });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    verifyBlob(specPublic, Buffer.from('x'), parseSignatureText(Buffer.from(viaEnv.stdout), 'stdout'), 'f');
  });

  it('files are signed streaming; P-384 uses SHA-384 (current cosign) and verifies SHA-256 (older cosign) too', async (t) => {
    const dir = await tempDir(t);
    const big = join(dir, 'big.bin');
    const content = Buffer.alloc(5 * 1024 * 1024 + 3, 0x5a);
    await writeFile(big, content);
    const p256 = await signFile(specPrivate, big);
    assert.ok(verifyBytes(specPublic, content, p256.signature));
    assert.deepEqual(p256.sha256, createHash('sha256').update(content).digest());

    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const signed384 = await signFile(p384.privateKey, big);
    await writeFile(join(dir, 'p384.pub'), p384.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'p384.sig'), signed384.signature);
    const ossl = await run('openssl', [
      ...['dgst', '-sha384', '-verify', join(dir, 'p384.pub'), '-signature', join(dir, 'p384.sig'), big],
    ]);
    assert.match(ossl.stdout, /Verified OK/);
    assert.equal((await verifyFile(p384.publicKey, big, signed384.signature)).ok, true);
    const legacy = sign('sha256', content, p384.privateKey);
    assert.equal((await verifyFile(p384.publicKey, big, legacy)).ok, true);
    assert.equal((await verifyFile(p384.publicKey, big, p256.signature)).ok, false);

    const ed = generateKeyPairSync('ed25519');
    const edSig = await signFile(ed.privateKey, big);
    assert.equal((await verifyFile(ed.publicKey, big, edSig.signature)).ok, true);
    await writeFile(big, Buffer.concat([content, Buffer.from('!')]));
    assert.equal((await verifyFile(ed.publicKey, big, edSig.signature)).ok, false);
    assert.equal((await verifyFile(specPublic, big, p256.signature)).ok, false);
    await assert.rejects(
      signFile(specPrivate, dir),
      (e: LadingError) => e.code === 'IO' && /not a regular file/.test(e.message),
    );
  });

  it('signature text: base64 with or without newline, raw DER; garbage and forgeries are rejected', () => {
    const blob = Buffer.from('payload');
    const der = signBlob(specPrivate, blob);
    for (const form of [der, Buffer.from(der.toString('base64')), Buffer.from(`${der.toString('base64')}\n`)]) {
      verifyBlob(specPublic, blob, parseSignatureText(form, 'sig'), 'blob');
    }
    assert.throws(
      () => parseSignatureText(Buffer.from('not base64 !!!'), 'bad.sig'),
      /bad.sig: the signature is neither base64 text nor DER/,
    );
    assert.throws(() => parseSignatureText(Buffer.alloc(70 * 1024, 0x41), 'big.sig'), /too large/);
    assert.throws(
      () => verifyBlob(specPublic, blob, parseSignatureText(Buffer.from('MEUCIQ=='), 's'), 'blob'),
      (e: LadingError) => e.code === 'VERIFY_FAILED',
    );
    assert.throws(() => verifyBlob(specPublic, Buffer.from('other'), der, 'other'), /other: invalid signature/);
  });
});
