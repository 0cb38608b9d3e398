import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { signBlob } from '../../src/attest/blob.js';
import {
  dsseBundle,
  messageSignatureBundle,
  parseBundle,
  verifyDsseBundle,
  verifyMessageBundle,
} from '../../src/attest/bundle.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../../src/attest/dsse.js';
import { keyHint } from '../../src/attest/keys.js';
import type { LadingError } from '../../src/errors/lading-error.js';
import { fixtureText } from './helpers.js';

const privateKey = createPrivateKey(fixtureText('dsse-spec.pkcs8.pem'));
const publicKey = createPublicKey(fixtureText('dsse-spec.pub'));

/**
 * sigstore-js verification of a key-based bundle: the trust root has no logs or authorities, the key is found by
 * hint, and thresholds 0 say no tlog entry, SCT or timestamp is expected. Checked: the bundle's shape, the key
 * lookup by hint, the signature (over the artifact, or the DSSE PAE), the message digest. Not checked (there is
 * nothing to check): transparency log inclusion, signing time.
 */
function sigstoreVerify(json: unknown, artifact?: Buffer): void {
  const trust = toTrustMaterial(
    {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      certificateAuthorities: [],
      ctlogs: [],
      timestampAuthorities: [],
    },
    (hint: string) => {
      if (hint !== keyHint(publicKey)) throw new Error(`unknown key hint ${hint}`);
      return { publicKey, validFor: () => true };
    },
  );
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 });
  verifier.verify(toSignedEntity(bundleFromJSON(json), artifact));
}

describe('Sigstore bundle v0.3 (key-based)', () => {
  it('@sigstore/verify verifies our message-signature bundle and rejects a changed artifact', () => {
    const artifact = Buffer.from('release-1.2.3.tar.gz contents');
    const bundle = messageSignatureBundle(privateKey, artifact, signBlob(privateKey, artifact));
    const json = JSON.parse(JSON.stringify(bundle));
    sigstoreVerify(json, artifact);
    assert.throws(() => sigstoreVerify(json, Buffer.from('other')), /signature verification failed/);
    verifyMessageBundle(publicKey, parseBundle(Buffer.from(JSON.stringify(bundle)), 'b'), artifact, 'artifact');
    assert.throws(() => verifyMessageBundle(publicKey, bundle, Buffer.from('other'), 'x'), /message digest/);
  });

  it('@sigstore/verify verifies our DSSE bundle and rejects a changed payload', () => {
    const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const bundle = dsseBundle(privateKey, signEnvelope(privateKey, IN_TOTO_PAYLOAD_TYPE, statement));
    const json = JSON.parse(JSON.stringify(bundle));
    sigstoreVerify(json);
    assert.deepEqual(verifyDsseBundle(publicKey, bundle, 'b'), statement);
    json.dsseEnvelope.payload = Buffer.from('{"_type":"evil"}').toString('base64');
    assert.throws(() => sigstoreVerify(json), /signature verification failed/);
    assert.throws(
      () => verifyDsseBundle(publicKey, json, 'b'),
      (e: LadingError) => e.code === 'VERIFY_FAILED',
    );
  });

  it('hostile bundle files are clear errors', () => {
    for (const [text, message] of [
      ['{', /not JSON/],
      ['{"mediaType":"application/json"}', /unknown bundle media type/],
      ['{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}', /exactly one/],
      ['null', /not a Sigstore bundle/],
    ] as const) {
      assert.throws(() => parseBundle(Buffer.from(text), 'b'), message);
    }
  });
});
