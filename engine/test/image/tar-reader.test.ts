// Header fields the reader decodes by hand: pax records (only path, linkpath and size matter) and NUL-ended names.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { StreamByteSource } from '../../src/image/tar/byte-source.js';
import { TarReader } from '../../src/image/tar/tar-reader.js';

function header(name: Buffer, flag: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(name.length, 100));
  h.write('0000644\0', 100, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write(flag, 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function tarOf(entries: { pax?: Buffer; name: Buffer; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) parts.push(header(Buffer.from('PaxHeader'), 'x', e.pax.length), padded(e.pax));
    parts.push(header(e.name, '0', e.data.length), padded(e.data));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

async function names(tar: Buffer): Promise<{ name: string; size: number }[]> {
  const reader = new TarReader(new StreamByteSource(Readable.from([tar])), { maxEntryBytes: 1 << 30 });
  const out: { name: string; size: number }[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) out.push({ name: e.name, size: e.size });
  return out;
}

describe('tar reader fields', () => {
  test('pax path and size win over the header; time-only records change nothing; UTF-8 names decode', async () => {
    const times = Buffer.from(paxRecord('mtime', '1700000000.5') + paxRecord('atime', '1700000000'));
    const renamed = Buffer.from(paxRecord('atime', '1') + paxRecord('path', 'usr/share/doc/héllo/copyright'));
    const tar = tarOf([
      { pax: times, name: Buffer.from('etc/os-release'), data: Buffer.from('ID=x\n') },
      { pax: renamed, name: Buffer.from('short-name'), data: Buffer.from('text') },
      { name: Buffer.from('opt/caf\u00e9/bin', 'utf8'), data: Buffer.alloc(700, 1) },
    ]);
    assert.deepEqual(await names(tar), [
      { name: 'etc/os-release', size: 5 },
      { name: 'usr/share/doc/héllo/copyright', size: 4 },
      { name: 'opt/café/bin', size: 700 },
    ]);
  });

  test('trailing NUL padding after the last pax record is ignored', async () => {
    const pax = Buffer.concat([Buffer.from(paxRecord('path', 'a/b')), Buffer.alloc(7)]);
    assert.deepEqual(await names(tarOf([{ pax, name: Buffer.from('x'), data: Buffer.from('1') }])), [
      { name: 'a/b', size: 1 },
    ]);
  });

  for (const [what, pax] of [
    ['a length past the record data', '99 path=a\n'],
    ['a length shorter than its own digits', '2 path=a\n'],
    ['letters inside the length', '1x path=a\n'],
    ['no length before the space', ' path=a\n'],
  ] as const) {
    test(`a pax record with ${what} is a clear BAD_INPUT`, async () => {
      const tar = tarOf([{ pax: Buffer.from(pax), name: Buffer.from('x'), data: Buffer.from('1') }]);
      await assert.rejects(
        names(tar),
        (err) => isLadingError(err) && err.code === 'BAD_INPUT' && /pax/.test(err.message),
      );
    });
  }
});
