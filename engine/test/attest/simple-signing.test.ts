import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseBundle } from '../../src/attest/bundle.js';
import { appendLayer, attachmentTag, descriptorFor, parseAttachmentManifest } from '../../src/attest/cosign-layout.js';
import { predicateTypeFor } from '../../src/attest/predicate-types.js';
import { decodeBase64, verifyBytes } from '../../src/attest/signature.js';
import { parseSimpleSigning, repositoryOf, simpleSigningPayload } from '../../src/attest/simple-signing.js';
import { parseStatement } from '../../src/attest/statement.js';
import { LadingError } from '../../src/errors/lading-error.js';
import { fixture, fixtureText } from './helpers.js';

const TV3_DIGEST = 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00';

describe('cosign simple-signing payloads', () => {
  it('a real cosign image signature (TV3) verifies and parses', () => {
    const payload = fixture('cimage-cosign-payload.json');
    const sig = decodeBase64(fixtureText('cimage-cosign-payload.sig'));
    assert.ok(sig);
    assert.ok(verifyBytes(createPublicKey(fixtureText('cimage-cosign.pub')), payload, sig));
    assert.equal(
      descriptorFor('x', payload).digest,
      'sha256:cf482371b51a7633b3f02e29b87fc3f4a18b3f127af61cb114af5f2c04fcdd75',
    );
    const parsed = parseSimpleSigning(payload, 'tv3');
    assert.equal(parsed.critical.image['docker-manifest-digest'], TV3_DIGEST);
    assert.equal(
      repositoryOf(parsed.critical.identity['docker-reference']),
      '192.168.64.2:5000/cosign-signed-single-sample',
    );
    assert.equal(
      attachmentTag(TV3_DIGEST, 'sig'),
      'sha256-634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00.sig',
    );
  });

  it('we write the same bytes cosign wrote for the same claims', () => {
    const ours = simpleSigningPayload('192.168.64.2:5000/cosign-signed-single-sample', TV3_DIGEST, null);
    assert.deepEqual(ours, fixture('cimage-cosign-payload.json'));
    const annotated = JSON.parse(simpleSigningPayload('r/x:1', TV3_DIGEST, { a: 'b' }).toString());
    assert.deepEqual(annotated.optional, { a: 'b' });
  });

  it('rejects payloads containers/image would reject', () => {
    const good = JSON.parse(fixture('cimage-cosign-payload.json').toString());
    const variants: [unknown, RegExp][] = [
      [{ ...good, critical: { ...good.critical, extra: 1 } }, /exactly identity, image, type/],
      [{ ...good, critical: { ...good.critical, type: 'atomic container signature' } }, /unexpected type/],
      [
        { ...good, critical: { ...good.critical, image: { 'docker-manifest-digest': 5 } } },
        /docker-manifest-digest string/,
      ],
      [{ ...good, critical: { ...good.critical, identity: {} } }, /docker-reference string/],
      [{ ...good, optional: 'x' }, /"optional" must be an object/],
      [[], /not an object/],
    ];
    for (const [value, message] of variants) {
      assert.throws(() => parseSimpleSigning(Buffer.from(JSON.stringify(value)), 'p'), message);
    }
    assert.throws(() => parseSimpleSigning(Buffer.from('{"critical":'), 'p'), /not JSON/);
  });

  it('normalizes docker references and maps cosign predicate type names', () => {
    assert.equal(repositoryOf('alpine:3.19'), 'docker.io/library/alpine');
    assert.equal(repositoryOf('127.0.0.1:5000/a/b@sha256:' + 'a'.repeat(64)), '127.0.0.1:5000/a/b');
    assert.equal(predicateTypeFor('slsaprovenance'), 'https://slsa.dev/provenance/v0.2');
    assert.equal(predicateTypeFor('slsaprovenance1'), 'https://slsa.dev/provenance/v1');
    assert.equal(predicateTypeFor('cyclonedx'), 'https://cyclonedx.org/bom');
    assert.equal(predicateTypeFor('spdxjson'), 'https://spdx.dev/Document');
    assert.equal(predicateTypeFor('vuln'), 'https://cosign.sigstore.dev/attestation/vuln/v1');
    assert.equal(predicateTypeFor('https://example.com/p/v1'), 'https://example.com/p/v1');
    assert.throws(() => predicateTypeFor('sbom'), /not a known predicate type/);
  });
});

describe('cosign attachment manifests', () => {
  it('hostile .sig/.att manifests are clear errors', () => {
    for (const [text, message] of [
      ['<html>', /not JSON/],
      ['{"layers":{}}', /no layers array/],
      ['{"layers":[{"mediaType":"x","digest":"sha256:00"}]}', /descriptor is malformed/],
      [
        '{"layers":[{"mediaType":"x","digest":"sha256:00","size":1,"annotations":"a"}]}',
        /annotations must be an object/,
      ],
    ] as const) {
      assert.throws(() => parseAttachmentManifest(Buffer.from(text), 'sha256-x.sig'), message);
    }
    const layer = descriptorFor('m', Buffer.from('a'), { k: 'v' });
    assert.equal(appendLayer([layer], { ...layer, annotations: { k: 'v' } }).added, false);
    assert.equal(appendLayer([layer], { ...layer, annotations: { k: 'w' } }).added, true);
    assert.throws(() => attachmentTag('sha512:abc', 'sig'), /not a sha256 digest/);
  });
});

describe('parsers of signed documents under random input', () => {
  it('random JSON gives a LadingError or a value, never a crash', () => {
    const parsers = [
      (b: Buffer) => parseSimpleSigning(b, 'p'),
      (b: Buffer) => parseAttachmentManifest(b, 'm'),
      (b: Buffer) => parseStatement(b, 's'),
      (b: Buffer) => parseBundle(b, 'b'),
    ];
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), fc.nat(parsers.length - 1), (text, which) => {
        try {
          parsers[which]?.(Buffer.from(text));
        } catch (err) {
          assert.ok(err instanceof LadingError, String(err));
          assert.ok(!err.message.includes('\n'));
        }
      }),
      { numRuns: 300 },
    );
  });
});
