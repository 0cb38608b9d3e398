import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { IN_TOTO_PAYLOAD_TYPE, pae, parseEnvelope, signEnvelope, verifyEnvelope } from '../../src/attest/dsse.js';
import { parseStatement, statementCovers } from '../../src/attest/statement.js';
import { LadingError } from '../../src/errors/lading-error.js';
import { fixture, fixtureText } from './helpers.js';

const run = promisify(execFile);
const specKey = createPublicKey(fixtureText('dsse-spec.pub'));
const specPrivate = createPrivateKey(fixtureText('dsse-spec.pkcs8.pem'));

describe('DSSE envelopes', () => {
  it('PAE matches the DSSE specification test vector (TV1)', () => {
    const encoded = pae('http://example.com/HelloWorld', Buffer.from('hello world'));
    assert.equal(encoded.toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
    assert.equal(
      createHash('sha256').update(encoded).digest('hex'),
      '217751fac2c4f14edb2c9297fbc34abcb016ba88e74757e875ec4ac16fb6b6a1',
    );
    // lengths are bytes, not characters
    assert.equal(pae('t', Buffer.from('é')).toString(), 'DSSEv1 1 t 2 é');
  });

  it('verifies the spec vector signature in DER and in P1363 form', () => {
    for (const sig of [
      'MEQCIANyarEBrVbCdjtsaqyOSHJ14qeRk6CdxfhZ2fjvPEo7AiBR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==',
      'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==',
    ]) {
      const env = {
        payloadType: 'http://example.com/HelloWorld',
        payload: 'aGVsbG8gd29ybGQ=',
        signatures: [{ keyid: '', sig }],
      };
      assert.equal(verifyEnvelope(specKey, env, 'tv1').toString(), 'hello world');
    }
  });

  it('verifies a real cosign attestation (TV4) and reads its statement', () => {
    const key = createPublicKey(fixtureText('cosign-attestation.pub'));
    const envelope = parseEnvelope(fixture('cosign-attestation.dsse.json'), 'tv4');
    const payload = verifyEnvelope(key, envelope, 'tv4');
    assert.equal(
      createHash('sha256').update(pae(IN_TOTO_PAYLOAD_TYPE, payload)).digest('hex'),
      '5214c143daab7478f33db06e1399ee09e842c6507f9f46ea78945722059274d3',
    );
    const statement = parseStatement(payload, 'tv4');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v0.2');
    const someDigest = `sha256:${createHash('sha256').update('some-payload').digest('hex')}`;
    assert.ok(statementCovers(statement, someDigest));
    assert.ok(!statementCovers(statement, `sha256:${'0'.repeat(64)}`));
    // the same envelope under another key, or with its payloadType changed, fails
    assert.throws(
      () => verifyEnvelope(specKey, envelope, 'tv4'),
      (e: LadingError) => e.code === 'VERIFY_FAILED',
    );
    assert.throws(
      () => verifyEnvelope(key, { ...envelope, payloadType: 'application/json' }, 'tv4'),
      /no DSSE signature/,
    );
  });

  it("Python's cryptography verifies our signature over the PAE", async () => {
    const statement = Buffer.from('{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicate":{"x":"ü"}}');
    const envelope = signEnvelope(specPrivate, IN_TOTO_PAYLOAD_TYPE, statement);
    const script = [
      'import base64, json, sys',
      'from cryptography.hazmat.primitives import hashes, serialization',
      'from cryptography.hazmat.primitives.asymmetric import ec',
      'env = json.loads(sys.argv[1]); key = serialization.load_pem_public_key(sys.argv[2].encode())',
      'body = base64.b64decode(env["payload"]); t = env["payloadType"].encode()',
      'pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)',
      'key.verify(base64.b64decode(env["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))',
      'print("OK")',
    ].join('\n');
    const good = await run('/usr/bin/python3', ['-c', script, JSON.stringify(envelope), fixtureText('dsse-spec.pub')]);
    assert.equal(good.stdout.trim(), 'OK');
    const tampered = { ...envelope, payload: Buffer.from(statement.toString().replace('ü', 'u')).toString('base64') };
    await assert.rejects(
      run('/usr/bin/python3', ['-c', script, JSON.stringify(tampered), fixtureText('dsse-spec.pub')]),
      /InvalidSignature/,
    );
  });

  it('round-trips and rejects any single-byte change of payload or signature', () => {
    const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');
    const envelope = signEnvelope(specPrivate, IN_TOTO_PAYLOAD_TYPE, payload);
    assert.deepEqual(verifyEnvelope(specKey, envelope, 'rt'), payload);
    fc.assert(
      fc.property(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const changed = Buffer.from(payload);
        changed[at] = (changed[at] ?? 0) ^ xor;
        assert.throws(
          () => verifyEnvelope(specKey, { ...envelope, payload: changed.toString('base64') }, 'fc'),
          (e: LadingError) => e.code === 'VERIFY_FAILED',
        );
      }),
      { numRuns: 40 },
    );
  });

  it('malformed envelopes are clear errors', () => {
    const cases: [string, RegExp][] = [
      ['', /not JSON/],
      ['[]', /not an object/],
      ['{"payloadType":1,"payload":"","signatures":[{"sig":""}]}', /payloadType/],
      ['{"payloadType":"x","payload":"","signatures":[]}', /non-empty/],
      ['{"payloadType":"x","payload":"","signatures":[{"keyid":3,"sig":"AA=="}]}', /keyid/],
      ['{"payloadType":"x","payload":"","signatures":[null]}', /"sig" string/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseEnvelope(text, 'case'),
        (e: LadingError) => e instanceof LadingError && message.test(e.message),
        text,
      );
    }
    const env = { payloadType: 'x', payload: '%%%', signatures: [{ keyid: '', sig: 'AA==' }] };
    assert.throws(() => verifyEnvelope(specKey, env, 'b64'), /not base64/);
    fc.assert(
      fc.property(fc.json(), (text) => {
        try {
          verifyEnvelope(specKey, parseEnvelope(text, 'fuzz'), 'fuzz');
          assert.fail('a random document verified');
        } catch (err) {
          assert.ok(err instanceof LadingError, String(err));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('statement parsing rejects what a consumer cannot trust', () => {
    for (const [text, message] of [
      ['{"_type":"x","subject":[{"digest":{}}],"predicateType":"p"}', /_type/],
      ['{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}', /subject/],
      ['{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"p"}', /digest map/],
      ['{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"a"}}]}', /predicateType/],
      ['nope', /not JSON/],
    ] as const) {
      assert.throws(() => parseStatement(Buffer.from(text), 's'), message);
    }
  });
});
