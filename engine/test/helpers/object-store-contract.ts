import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import type { ObjectStore } from '@lading/engine/objects';

async function text(stream: Readable | undefined): Promise<string | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('latin1');
}

async function keysOf(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.listAll(prefix)) keys.push(info.key);
  return keys;
}

/**
 * What every object store must do, the same on a folder and on an S3-compatible server. `open` gives a fresh,
 * empty store for each test (a new folder, or a new prefix in the bucket).
 */
export function objectStoreContract(open: () => Promise<ObjectStore>): void {
  it('round-trips bytes exactly, every byte value included', async () => {
    const store = await open();
    const bytes = Buffer.alloc(70_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    await store.put('a/b/c.bin', bytes, { contentType: 'application/octet-stream' });
    const got = await text(await store.get('a/b/c.bin'));
    assert.equal(Buffer.from(got ?? '', 'latin1').equals(bytes), true);
    const info = await store.head('a/b/c.bin');
    assert.equal(info?.size, bytes.length);
    assert.equal(info?.key, 'a/b/c.bin');
    assert.ok((info?.modifiedAt ?? 0) > 0);
  });

  it('keeps keys with spaces, punctuation and non-ASCII letters as they are', async () => {
    const store = await open();
    const keys = ['sp ace/a+b=c&d', "odd/q?x#y%25;,:@!$'()*~", 'ünï/çødé ✓.json'];
    for (const key of keys) await store.put(key, Buffer.from(key));
    for (const key of keys)
      assert.equal(Buffer.from((await text(await store.get(key))) ?? '', 'latin1').toString(), key);
    assert.deepEqual((await keysOf(store, '')).sort(), [...keys].sort());
  });

  it('stores an empty object', async () => {
    const store = await open();
    await store.put('empty', new Uint8Array(0));
    assert.equal(await text(await store.get('empty')), '');
    assert.equal((await store.head('empty'))?.size, 0);
  });

  it('streams a body of known size, opened anew per attempt, and refuses one of another size', async () => {
    const store = await open();
    const body = Buffer.from('streamed body '.repeat(5000));
    await store.put('s/streamed.txt', {
      size: body.length,
      open: () => Readable.from([body.subarray(0, 10), body.subarray(10)]),
    });
    assert.equal(await text(await store.get('s/streamed.txt')), body.toString('latin1'));
    await assert.rejects(
      store.put('s/short.txt', { size: body.length + 5, open: () => Readable.from([body]) }),
      (err: Error) => /not the \d+ bytes declared|declared/.test(err.message) && !err.message.includes('\n'),
    );
    assert.equal(await store.head('s/short.txt'), undefined, 'a body of the wrong size leaves no object');
  });

  it('answers undefined for absent keys and deletes absent keys quietly', async () => {
    const store = await open();
    assert.equal(await store.get('nothing/here'), undefined);
    assert.equal(await store.head('nothing/here'), undefined);
    await store.delete('nothing/here');
  });

  it('overwrites an object whole', async () => {
    const store = await open();
    await store.put('k', Buffer.from('first version, rather long'));
    await store.put('k', Buffer.from('second'));
    assert.equal(await text(await store.get('k')), 'second');
    assert.equal((await store.head('k'))?.size, 6);
  });

  it('deletes', async () => {
    const store = await open();
    await store.put('d/x', Buffer.from('x'));
    await store.delete('d/x');
    assert.equal(await store.get('d/x'), undefined);
    assert.deepEqual(await keysOf(store, ''), []);
  });

  it('copies, and names an absent source', async () => {
    const store = await open();
    await store.put('from/one', Buffer.from('copied bytes'));
    await store.copy('from/one', 'to/two');
    assert.equal(await text(await store.get('to/two')), 'copied bytes');
    assert.equal(await text(await store.get('from/one')), 'copied bytes');
    await assert.rejects(store.copy('from/none', 'to/three'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NOT_FOUND');
      assert.match(err.message, /from\/none/);
      return true;
    });
  });

  it('lists by prefix in byte order, page by page', async () => {
    const store = await open();
    const keys = ['p/a', 'p/b/1', 'p/b/2', 'p/ba', 'p/c', 'q/a', 'p/é', 'p/z'];
    for (const key of keys) await store.put(key, Buffer.from(key));
    assert.deepEqual(await keysOf(store, 'p/'), ['p/a', 'p/b/1', 'p/b/2', 'p/ba', 'p/c', 'p/z', 'p/é']);
    assert.deepEqual(await keysOf(store, 'p/b'), ['p/b/1', 'p/b/2', 'p/ba']);
    assert.deepEqual(await keysOf(store, 'q'), ['q/a']);
    assert.deepEqual(await keysOf(store, 'r/'), []);
    const first = await store.list('p/', { maxKeys: 3 });
    assert.deepEqual(
      first.items.map((i) => i.key),
      ['p/a', 'p/b/1', 'p/b/2'],
    );
    assert.ok(first.nextToken);
    const second = await store.list('p/', { maxKeys: 3, continuationToken: first.nextToken });
    assert.deepEqual(
      second.items.map((i) => i.key),
      ['p/ba', 'p/c', 'p/z'],
    );
    const third = await store.list('p/', {
      maxKeys: 3,
      ...(second.nextToken ? { continuationToken: second.nextToken } : {}),
    });
    assert.deepEqual(
      third.items.map((i) => i.key),
      ['p/é'],
    );
    assert.equal(third.nextToken, undefined);
    assert.equal(first.items[0]?.size, 3);
  });

  it('lists more than one page of 1000 keys', async () => {
    const store = await open();
    const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, Buffer.from('x'))));
    }
    const first = await store.list('many/');
    assert.equal(first.items.length, 1000);
    assert.ok(first.nextToken);
    assert.deepEqual(await keysOf(store, 'many/'), keys);
  });

  it('refuses hostile keys before touching anything', async () => {
    const store = await open();
    const hostile = [
      '../escape',
      'a/../../b',
      '/etc/passwd',
      'a\u0000b',
      'a//b',
      './a',
      'a\\b',
      '',
      'x'.repeat(1025),
      'a\nb',
    ];
    for (const key of hostile) {
      await assert.rejects(store.put(key, Buffer.from('no')), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'USAGE', key);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
      await assert.rejects(store.get(key), { code: 'USAGE' });
      await assert.rejects(store.head(key), { code: 'USAGE' });
      await assert.rejects(store.delete(key), { code: 'USAGE' });
      await assert.rejects(store.copy('a', key), { code: 'USAGE' });
    }
    await assert.rejects(store.list('../'), { code: 'USAGE' });
    assert.deepEqual(await keysOf(store, ''), []);
  });
}
