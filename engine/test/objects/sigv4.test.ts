import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { openObjectStore, signRequest } from '@lading/engine/objects';

// The examples of AWS's "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk
// (AWS Signature Version 4)" page of the Amazon S3 API Reference
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html): its example key pair, bucket,
// time and region, each request as the page gives it, and the signature the page says it must get.
const AWS_EXAMPLE = {
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  now: new Date('2013-05-24T00:00:00Z'),
  region: 'us-east-1',
  emptyHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

function signatureOf(headers: Record<string, string>): string | undefined {
  return /Signature=([0-9a-f]{64})$/.exec(headers['authorization'] ?? '')?.[1];
}

describe('objects: AWS Signature Version 4', () => {
  const cases: {
    name: string;
    method: string;
    url: string;
    headers: Record<string, string>;
    payloadHash: string;
    signedHeaders: string;
    signature: string;
  }[] = [
    {
      name: 'GET Object with a Range header',
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      headers: { range: 'bytes=0-9' },
      payloadHash: AWS_EXAMPLE.emptyHash,
      signedHeaders: 'host;range;x-amz-content-sha256;x-amz-date',
      signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    },
    {
      name: 'PUT Object ("Welcome to Amazon S3.", a `$` in the key, a Date and a storage class header)',
      method: 'PUT',
      url: 'https://examplebucket.s3.amazonaws.com/test$file.text',
      headers: { date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
      payloadHash: '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      signedHeaders: 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
      signature: '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    },
    {
      name: 'GET Bucket lifecycle (a sub-resource without a value)',
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/?lifecycle',
      headers: {},
      payloadHash: AWS_EXAMPLE.emptyHash,
      signedHeaders: 'host;x-amz-content-sha256;x-amz-date',
      signature: 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
    },
    {
      name: 'GET Bucket (List Objects) with max-keys and prefix',
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J',
      headers: {},
      payloadHash: AWS_EXAMPLE.emptyHash,
      signedHeaders: 'host;x-amz-content-sha256;x-amz-date',
      signature: '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    },
  ];
  for (const c of cases) {
    it(`gives AWS's signature for its example: ${c.name}`, () => {
      const headers = signRequest(
        {
          method: c.method,
          url: new URL(c.url),
          headers: c.headers,
          payloadHash: c.payloadHash,
          region: AWS_EXAMPLE.region,
          now: AWS_EXAMPLE.now,
        },
        AWS_EXAMPLE.credentials,
      );
      assert.equal(signatureOf(headers), c.signature);
      assert.equal(
        headers['authorization'],
        `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=${c.signedHeaders}, Signature=${c.signature}`,
      );
      assert.equal(headers['x-amz-date'], '20130524T000000Z');
    });
  }

  it('signs a session token when there is one', () => {
    const headers = signRequest(
      {
        method: 'GET',
        url: new URL('https://b.s3.amazonaws.com/k'),
        headers: {},
        payloadHash: AWS_EXAMPLE.emptyHash,
        region: 'eu-west-1',
        now: AWS_EXAMPLE.now,
      },
      { ...AWS_EXAMPLE.credentials, sessionToken: 'token/with+chars' },
    );
    assert.equal(headers['x-amz-security-token'], 'token/with+chars');
    assert.match(
      headers['authorization'] ?? '',
      /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/,
    );
  });

  it("signs the requests the store sends as botocore (AWS's own Python signer) computes them", async (t) => {
    // What the store really sends (odd keys, queries, streamed and signed payloads) is captured and re-signed by
    // botocore's S3SigV4Auth with the same time; both must give the same Authorization header.
    const captured: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body =
          req.headers['x-amz-content-sha256'] === 'UNSIGNED-PAYLOAD' ? '' : Buffer.concat(chunks).toString('base64');
        captured.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        res.writeHead(req.method === 'GET' ? 200 : 200, { 'content-type': 'application/xml' });
        res.end(
          req.method === 'GET' && (req.url ?? '').includes('max-keys')
            ? '<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>'
            : '',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const store = openObjectStore('s3://my-bucket/some prefix', {
      s3: {
        endpoint,
        region: 'eu-central-1',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret/key+example',
        sessionToken: 'tok',
      },
    });
    await store.put('sp ace/ü+$&=?#.json', Buffer.from('{"a":1}'), { contentType: 'application/json' });
    await store.put('big', {
      size: 17 * 1024 * 1024,
      open: () =>
        (async function* () {
          yield Buffer.alloc(17 * 1024 * 1024, 1);
        })() as never,
    });
    await store.list('a b/', { maxKeys: 5, continuationToken: 'a b/x~y' });
    await store.copy('from key', 'to');
    assert.equal(captured.length, 4);
    assert.equal(captured[1]?.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
    const script = `
import base64, json, sys, types
import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from unittest import mock
import datetime
out = []
for r in json.load(sys.stdin):
    h = {k: v for k, v in r['headers'].items() if k not in ('authorization', 'connection', 'user-agent', 'content-length', 'transfer-encoding')}
    req = AWSRequest(method=r['method'], url=r['url'], headers=h, data=base64.b64decode(r['body']))
    req.context['payload_signing_enabled'] = h['x-amz-content-sha256'] != 'UNSIGNED-PAYLOAD'
    auth = S3SigV4Auth(Credentials('AKIDEXAMPLE', 'secret/key+example', 'tok'), 's3', 'eu-central-1')
    # botocore always hashes payloads over plain http; the store leaves a large stream unsigned whatever the scheme
    auth._should_sha256_sign_payload = lambda request: request.context['payload_signing_enabled']
    d = r['headers']['x-amz-date']
    fixed = datetime.datetime.strptime(d, '%Y%m%dT%H%M%SZ')
    # the signing time: botocore 1.31+ asks get_current_datetime(), older ones (Debian 12's 1.29) datetime.utcnow()
    if hasattr(botocore.auth, 'get_current_datetime'):
        clock = mock.patch('botocore.auth.get_current_datetime', return_value=fixed)
    else:
        class Fixed(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return fixed
        clock = mock.patch('botocore.auth.datetime', types.SimpleNamespace(datetime=Fixed, timezone=datetime.timezone, timedelta=datetime.timedelta))
    with clock:
        auth.add_auth(req)
    out.append(req.headers['Authorization'])
print(json.dumps(out))
`;
    const input = captured.map((c) => ({
      method: c.method,
      url: `${endpoint}${c.path}`,
      headers: c.headers,
      body: c.body,
    }));
    const run = spawnSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const expected = JSON.parse(run.stdout) as string[];
    assert.deepEqual(
      captured.map((c) => c.headers['authorization']),
      expected,
    );
  });
});
