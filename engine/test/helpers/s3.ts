import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; the constructor and run/close are all the tests use.
// @ts-expect-error no declaration file
import S3rver from 's3rver';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3rver's one built-in key pair. */
  credentials: { accessKeyId: string; secretAccessKey: string; region: string };
  close(): Promise<void>;
}

/**
 * s3rver (an S3-compatible server from npm, the only one that runs here: Debian ships none) on 127.0.0.1:0 with
 * its data in a temporary folder and one bucket. It checks the access key id but not SigV4 signatures themselves
 * (its own words: "V4 signatures have incomplete support"), so signing is tested separately against AWS's
 * published examples and against botocore.
 */
export async function startS3(bucket = 'lading-test'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'lading-s3rver-'));
  const S3rverClass = S3rver as unknown as new (options: Record<string, unknown>) => S3rverInstance;
  const server = new S3rverClass({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
    // requests go to http://127.0.0.1:PORT/bucket/key; no virtual-host buckets
    vhostBuckets: false,
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
