import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { s3SettingsFrom } from '../src/environment.js';

// The engine's S3 store addresses any custom endpoint path-style (endpoint/bucket/key), so none is asked for here.
describe('object store credentials from the AWS variables', () => {
  it('maps the standard variables', () => {
    assert.deepEqual(
      s3SettingsFrom({
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
      },
    );
  });

  it('falls back to AWS_DEFAULT_REGION, then us-east-1; the S3-specific endpoint wins', () => {
    assert.equal(
      s3SettingsFrom({
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_DEFAULT_REGION: 'ap-south-1',
      })?.region,
      'ap-south-1',
    );
    const plain = s3SettingsFrom({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    assert.deepEqual(plain, { region: 'us-east-1', accessKeyId: 'a', secretAccessKey: 'b' });
    assert.equal(
      s3SettingsFrom({
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        AWS_ENDPOINT_URL: 'http://x',
        AWS_ENDPOINT_URL_S3: 'http://s3',
      })?.endpoint,
      'http://s3',
    );
  });

  it('is undefined without a key pair', () => {
    assert.equal(s3SettingsFrom({}), undefined);
    assert.equal(s3SettingsFrom({ AWS_ACCESS_KEY_ID: 'a' }), undefined);
  });
});
