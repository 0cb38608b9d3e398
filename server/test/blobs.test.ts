import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startS3, type TestS3 } from '../../engine/test/helpers/s3.js';
import {
  BlobDigestMismatchError,
  type BlobStore,
  BlobTooLargeError,
  blobKey,
  collectOrphanBlobs,
  DEFAULT_GC_AGE_MS,
  openBlobStore,
} from '../src/blobs/index.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';

const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function allBlobs(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const blob of store.list()) out.push(blob.sha256);
  return out.sort();
}

/**
 * Collects a day later while an ingest uploads the blob's bytes again at the `onCall`-th time GC asks whether the
 * blob is referenced (1: just after the listing; on a folder, 2: after the last date check, 3: once it is set aside).
 */
async function collectWhileReuploaded(
  store: BlobStore,
  body: Buffer,
  onCall: number,
): Promise<{ deleted: string[]; reput: boolean | undefined }> {
  const { sha256 } = await store.put(body, { maxBytes: 100 });
  // S3 dates are whole seconds: the upload again must fall in a later one
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const inADay = Date.now() + DEFAULT_GC_AGE_MS + 60_000;
  let calls = 0;
  let reput: boolean | undefined;
  const result = await store.gc(
    async (s) => {
      if (s === sha256 && ++calls === onCall)
        reput = (await store.put(Readable.from([body]), { maxBytes: 100 })).created;
      return false;
    },
    undefined,
    inADay,
  );
  return { deleted: result.deleted, reput };
}

/** The BlobStore contract, the same on a folder and on an S3-compatible server. */
function blobStoreContract(open: () => Promise<BlobStore>): void {
  it('stores bytes under their SHA-256 and gives them back exactly; a second upload creates nothing', async () => {
    const store = await open();
    const body = randomBytes(200_000);
    const first = await store.put(body, { maxBytes: 1 << 20 });
    assert.deepEqual(first, { sha256: sha(body), size: body.length, created: true });
    assert.deepEqual(await store.put(Readable.from([body]), { maxBytes: 1 << 20 }), { ...first, created: false });
    assert.equal((await bytesOf(await store.open(first.sha256))).equals(body), true);
    assert.equal(await store.has(first.sha256), true);
    assert.deepEqual(await allBlobs(store), [first.sha256]);
  });

  it('stages the bodies of a bundle, then publishes them together; nothing is in the store before, nothing staged after', async () => {
    const store = await open();
    const known = await store.put(Buffer.from('known'), { maxBytes: 100 });
    const bodies = [Buffer.from('{"a":1}'), Buffer.from('known'), Buffer.from('{"a":1}'), randomBytes(100_000)];
    const staged = [];
    for (const body of bodies) staged.push(await store.stage(Readable.from([body]), { maxBytes: 1 << 20 }));
    assert.deepEqual(
      staged.map((s) => [s.sha256, s.size]),
      bodies.map((b) => [sha(b), b.length]),
    );
    // staged is not stored: a crash now leaves only staging files
    assert.deepEqual(await allBlobs(store), [known.sha256]);
    const published = await store.publish(staged);
    // the same bytes twice are created once; bytes the store had are not created
    assert.deepEqual(
      published.map((p) => p.created),
      [true, false, false, true],
    );
    assert.deepEqual(await allBlobs(store), [...new Set(bodies.map((b) => sha(b)))].sort());
    for (const body of bodies) assert.equal((await bytesOf(await store.open(sha(body)))).equals(body), true);
    for (const s of staged) await assert.rejects(stat(s.path), /ENOENT/);

    // a refused bundle: its staged bodies are removed, nothing stored
    const refused = await store.stage(Readable.from([Buffer.from('refused')]), { maxBytes: 100 });
    await store.discard([refused]);
    await assert.rejects(stat(refused.path), /ENOENT/);
    assert.equal(await store.has(sha('refused')), false);
    await assert.rejects(store.stage(Readable.from([Buffer.alloc(11)]), { maxBytes: 10 }), BlobTooLargeError);
  });

  it('hashes a stream while staging it, and stores an empty blob', async () => {
    const store = await open();
    const parts = [Buffer.from('{"bomFormat":'), Buffer.from('"CycloneDX"}')];
    const result = await store.put(Readable.from(parts), { maxBytes: 1000, expectedSha256: sha(Buffer.concat(parts)) });
    assert.equal(result.size, 25);
    assert.equal((await bytesOf(await store.open(result.sha256))).toString(), '{"bomFormat":"CycloneDX"}');
    const empty = await store.put(Readable.from([]), { maxBytes: 10 });
    assert.equal(empty.sha256, sha(''));
    assert.equal((await bytesOf(await store.open(empty.sha256))).length, 0);
  });

  it('refuses a body past maxBytes with BlobTooLargeError and keeps nothing', async () => {
    const store = await open();
    let produced = 0;
    // an endless body: the cap must stop reading it, not wait for its end
    const endless = new Readable({
      read() {
        produced += 65536;
        this.push(Buffer.alloc(65536, 7));
      },
    });
    await assert.rejects(store.put(endless, { maxBytes: 1_000_000 }), (err: unknown) => {
      assert.ok(err instanceof BlobTooLargeError);
      assert.equal(err.maxBytes, 1_000_000);
      assert.equal(err.code, 'LIMIT');
      return true;
    });
    assert.ok(produced < 3_000_000, `read ${produced} bytes of a body capped at 1 MB`);
    await assert.rejects(store.put(Buffer.alloc(11), { maxBytes: 10 }), BlobTooLargeError);
    assert.deepEqual(await allBlobs(store), []);
  });

  it('refuses a body whose hash is not the one announced, and keeps nothing', async () => {
    const store = await open();
    const announced = sha('something else');
    for (const body of [Buffer.from('the real bytes'), Readable.from([Buffer.from('the real bytes')])]) {
      await assert.rejects(store.put(body, { maxBytes: 100, expectedSha256: announced }), (err: unknown) => {
        assert.ok(err instanceof BlobDigestMismatchError);
        assert.equal(err.actual, sha('the real bytes'));
        assert.equal(err.code, 'DIGEST_MISMATCH');
        return true;
      });
    }
    assert.deepEqual(await allBlobs(store), []);
    await assert.rejects(store.put(Buffer.from('x'), { maxBytes: 10, expectedSha256: 'not-hex' }), { code: 'USAGE' });
  });

  it('answers NOT_FOUND for an absent blob, USAGE for a malformed digest, and deletes', async () => {
    const store = await open();
    await assert.rejects(store.open(sha('absent')), { code: 'NOT_FOUND' });
    assert.equal(await store.has(sha('absent')), false);
    await assert.rejects(store.open('../../etc/passwd'), { code: 'USAGE' });
    await assert.rejects(store.has(`${sha('a').toUpperCase()}`), { code: 'USAGE' });
    const { sha256 } = await store.put(Buffer.from('to delete'), { maxBytes: 100 });
    await store.delete(sha256);
    assert.equal(await store.has(sha256), false);
    await store.delete(sha256);
  });

  it('collapses concurrent uploads of the same bytes into one blob', async () => {
    const store = await open();
    const body = randomBytes(50_000);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.put(Readable.from([body]), { maxBytes: 1 << 20 })),
    );
    assert.ok(results.every((r) => r.sha256 === sha(body)));
    assert.ok(results.some((r) => r.created));
    assert.deepEqual(await allBlobs(store), [sha(body)]);
  });

  it('GC removes unreferenced blobs older than its age, keeps referenced and young ones', async () => {
    const store = await open();
    const keep = await store.put(Buffer.from('referenced'), { maxBytes: 100 });
    const orphan = await store.put(Buffer.from('orphan'), { maxBytes: 100 });
    const young = await store.put(Buffer.from('young'), { maxBytes: 100 });
    const now = Date.now();
    // judged a day later, only the blobs listed as old are candidates
    const inADay = now + 24 * 60 * 60 * 1000 + 60_000;
    const firstPass = await store.gc((s) => s === keep.sha256, undefined, now);
    assert.deepEqual(firstPass, { deleted: [], kept: 3 }, 'nothing is a day old yet');
    const asked: string[] = [];
    const result = await store.gc(
      async (s) => {
        asked.push(s);
        return s === keep.sha256 || s === young.sha256;
      },
      undefined,
      inADay,
    );
    assert.deepEqual(result.deleted, [orphan.sha256]);
    assert.equal(result.kept, 2);
    assert.deepEqual(await allBlobs(store), [keep.sha256, young.sha256].sort());
    assert.ok(asked.includes(orphan.sha256));
  });

  it('GC keeps a blob uploaded again after the listing judged it unreferenced (an ingest deduplicating against it)', async () => {
    const store = await open();
    const body = Buffer.from('uploaded again after the listing');
    const { deleted, reput } = await collectWhileReuploaded(store, body, 1);
    assert.equal(reput, false, 'the upload found the blob and wrote nothing');
    assert.deepEqual(deleted, []);
    assert.deepEqual(await allBlobs(store), [sha(body)]);
    assert.deepEqual(await bytesOf(await store.open(sha(body))), body);
  });
}

describe('blobs: filesystem store', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lading-blobs-'));
  });
  after(() => rm(root, { recursive: true, force: true }));
  let n = 0;
  const dirOf = () => join(root, `store-${n++}`);
  blobStoreContract(async () => openBlobStore({ blobs: `file://${dirOf()}` }));

  it('lays blobs out as cas/sha256/ab/cd/<hex> and leaves no staged file', async () => {
    const dir = dirOf();
    const store = openBlobStore({ blobs: `file://${dir}` });
    const { sha256 } = await store.put(Readable.from([Buffer.from('layout')]), { maxBytes: 100 });
    assert.equal(blobKey(sha256), `cas/sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`);
    assert.equal(
      await readFile(join(dir, 'cas', 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256), 'utf8'),
      'layout',
    );
    await assert.rejects(store.put(Buffer.alloc(5), { maxBytes: 4 }));
    await assert.rejects(store.put(Readable.from([Buffer.alloc(5)]), { maxBytes: 4 }));
    assert.deepEqual(await readdir(join(dir, 'staging')), []);
  });

  it('a re-upload renews an old blob, so GC does not take what a new ingest is about to refer to', async () => {
    const dir = dirOf();
    let clock = Date.now();
    const store = openBlobStore({ blobs: `file://${dir}`, now: () => clock });
    const { sha256 } = await store.put(Buffer.from('old artifact'), { maxBytes: 100 });
    const file = join(dir, blobKey(sha256));
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await utimes(file, twoDaysAgo, twoDaysAgo);
    clock = Date.now();
    assert.equal((await store.put(Readable.from([Buffer.from('old artifact')]), { maxBytes: 100 })).created, false);
    assert.ok((await stat(file)).mtimeMs >= clock - 1000);
    assert.deepEqual((await store.gc(() => false, undefined, Date.now())).deleted, []);
    await utimes(file, twoDaysAgo, twoDaysAgo);
    assert.deepEqual((await store.gc(() => false, undefined, Date.now())).deleted, [sha256]);
  });

  it('GC keeps a blob uploaded again at any step of its deletion, and leaves nothing set aside', async () => {
    for (const onCall of [2, 3]) {
      const dir = dirOf();
      const store = openBlobStore({ blobs: `file://${dir}` });
      const body = Buffer.from(`uploaded again at step ${onCall}`);
      const { deleted, reput } = await collectWhileReuploaded(store, body, onCall);
      assert.equal(reput, onCall === 3, `step ${onCall}: an upload after the blob was set aside writes it again`);
      assert.deepEqual(deleted, [], `step ${onCall}`);
      assert.deepEqual(await bytesOf(await store.open(sha(body))), body, `step ${onCall}`);
      assert.deepEqual(await readdir(join(dir, 'gc-aside')), []);
    }
  });

  it('GC puts back a blob a crashed collection left set aside, then judges it as any other', async () => {
    const dir = dirOf();
    const store = openBlobStore({ blobs: `file://${dir}` });
    const { sha256 } = await store.put(Buffer.from('set aside by a crash'), { maxBytes: 100 });
    await mkdir(join(dir, 'gc-aside'));
    await rename(join(dir, blobKey(sha256)), join(dir, 'gc-aside', `${sha256}.0a0b0c`));
    assert.deepEqual(await allBlobs(store), []);
    assert.deepEqual(await store.gc(() => true, undefined, Date.now() + 2 * DEFAULT_GC_AGE_MS), {
      deleted: [],
      kept: 1,
    });
    assert.deepEqual(await allBlobs(store), [sha256]);
    assert.deepEqual(await readdir(join(dir, 'gc-aside')), []);
  });

  it('stages in the folder it is given, and moves the file from there', async () => {
    const dir = dirOf();
    const staging = join(root, `staging-${n}`);
    const store = openBlobStore({ blobs: `file://${dir}`, stagingDir: staging });
    const { sha256 } = await store.put(Readable.from([Buffer.from('staged elsewhere')]), { maxBytes: 100 });
    assert.equal(await readFile(join(dir, blobKey(sha256)), 'utf8'), 'staged elsewhere');
    assert.deepEqual(await readdir(staging), []);
  });

  it('GC removes staged files a crash left behind, once they are old', async () => {
    const dir = dirOf();
    const store = openBlobStore({ blobs: `file://${dir}` });
    const stale = join(dir, 'staging', 'deadbeef.lading-tmp');
    const fresh = join(dir, 'staging', 'cafe.lading-tmp');
    await writeFile(stale, 'half an upload');
    await writeFile(fresh, 'an upload in progress');
    const old = new Date(Date.now() - 2 * 86_400_000);
    await utimes(stale, old, old);
    await store.gc(() => false, undefined, Date.now());
    assert.deepEqual(await readdir(join(dir, 'staging')), ['cafe.lading-tmp']);
  });
});

describe('blobs: S3 store against s3rver', () => {
  let s3: TestS3;
  let staging: string;
  before(async () => {
    s3 = await startS3('lading-blobs');
    staging = await mkdtemp(join(tmpdir(), 'lading-blob-staging-'));
  });
  after(async () => {
    await s3?.close();
    await rm(staging, { recursive: true, force: true });
  });
  const open = async () =>
    openBlobStore({
      blobs: `s3://${s3.bucket}/run-${randomBytes(4).toString('hex')}?endpoint=${encodeURIComponent(s3.endpoint)}`,
      blobsS3: s3.credentials,
      stagingDir: staging,
    });
  blobStoreContract(open);

  it('stages nothing after an upload, refused or not', async () => {
    const store = await open();
    await store.put(Readable.from([Buffer.from('staged then put')]), { maxBytes: 100 });
    await assert.rejects(store.put(Readable.from([Buffer.alloc(200)]), { maxBytes: 100 }), BlobTooLargeError);
    assert.deepEqual(await readdir(staging), []);
  });

  it('needs credentials, and reports refused ones in one line', async () => {
    assert.throws(() => openBlobStore({ blobs: `s3://${s3.bucket}/x` }), { code: 'CONFIG' });
    const store = openBlobStore({
      blobs: `s3://${s3.bucket}/x?endpoint=${encodeURIComponent(s3.endpoint)}`,
      blobsS3: { ...s3.credentials, accessKeyId: 'WRONG' },
      stagingDir: staging,
    });
    await assert.rejects(store.put(Buffer.from('x'), { maxBytes: 10 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'AUTH');
      assert.match(err.message, /^s3:\/\/lading-blobs\/x\/.*(InvalidAccessKeyId|access denied or bad credentials)/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });
});

forEachDatabase((kind) => {
  describe('blobs: garbage collection against the artifacts table', () => {
    let db: TestDatabase;
    let dir: string;
    before(async () => {
      db = await openTestDatabase(kind);
      dir = await mkdtemp(join(tmpdir(), 'lading-blob-gc-'));
    });
    after(async () => {
      await db?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('removes day-old blobs no artifact row names, keeps named and young ones', async () => {
      const store = openBlobStore({ blobs: `file://${dir}` });
      const named = await store.put(Buffer.from('an SBOM an image refers to'), { maxBytes: 1000 });
      const orphan = await store.put(Buffer.from('the upload of a crashed ingest'), { maxBytes: 1000 });
      await db.db
        .insertInto('artifacts')
        .values({
          sha256: named.sha256,
          kind: 'sbom-cyclonedx',
          media_type: 'application/vnd.cyclonedx+json',
          size: named.size,
          storage_key: blobKey(named.sha256),
          first_job_id: null,
          created_at: Date.now(),
        })
        .execute();
      assert.deepEqual(await collectOrphanBlobs(db.db, store, Date.now()), { deleted: [], kept: 2 });
      const dayLater = Date.now() + DEFAULT_GC_AGE_MS + 60_000;
      assert.deepEqual(await collectOrphanBlobs(db.db, store, dayLater), { deleted: [orphan.sha256], kept: 1 });
      assert.equal(await store.has(named.sha256), true);
      assert.equal(await store.has(orphan.sha256), false);
    });
  });
});
