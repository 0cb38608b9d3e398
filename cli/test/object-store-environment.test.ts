import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectStoreCredentialsFromEnvironment } from '../src/environment.js';

describe('object store credentials from the AWS variables', () => {
  it('maps the standard variables, path-style for a custom endpoint', () => {
    assert.deepEqual(
      objectStoreCredentialsFromEnvironment({
        AWS_ACCESS_KEY_ID: 'id',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'tok',
        AWS_REGION: 'eu-west-3',
        AWS_DEFAULT_REGION: 'ignored',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
      }),
      {
        region: 'eu-west-3',
        accessKeyId: 'id',
        secretAccessKey: 'secret',
        sessionToken: 'tok',
        endpoint: 'http://127.0.0.1:9000',
        forcePathStyle: true,
      },
    );
  });

  it('falls back to AWS_DEFAULT_REGION, then us-east-1; the S3-specific endpoint wins', () => {
    assert.equal(
      objectStoreCredentialsFromEnvironment({
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_DEFAULT_REGION: 'ap-south-1',
      })?.region,
      'ap-south-1',
    );
    const plain = objectStoreCredentialsFromEnvironment({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    assert.deepEqual(plain, { region: 'us-east-1', accessKeyId: 'a', secretAccessKey: 'b' });
    assert.equal(
      objectStoreCredentialsFromEnvironment({
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_ENDPOINT_URL: 'http://x',
        AWS_ENDPOINT_URL_S3: 'http://s3',
      })?.endpoint,
      'http://s3',
    );
  });

  it('is undefined without a key pair', () => {
    assert.equal(objectStoreCredentialsFromEnvironment({}), undefined);
    assert.equal(objectStoreCredentialsFromEnvironment({ AWS_ACCESS_KEY_ID: 'a' }), undefined);
  });
});
