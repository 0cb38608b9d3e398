// The pieces patching trusts nothing in: `.deb` archives (ar + tar) that try to leave the root or inflate without
// bound, and the OpenPGP verifier, checked against signatures gpg made (RSA and Ed25519, binary and armored keys).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isLadingError } from '../../src/errors/index.js';
import { readDeb } from '../../src/patch/deb.js';
import { readKeyring, verifyClearsigned, verifyDetached } from '../../src/patch/openpgp.js';
import { END_OF_ARCHIVE, readTar, type TarItem, tarEntry } from '../../src/patch/tar.js';
import { run, testGpgKey } from '../helpers/apt-repo.js';
import { tempDir } from '../helpers/tmp.js';

function ar(members: [string, Uint8Array][]): Buffer {
  const parts: Uint8Array[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const header = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(header, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function item(path: string, content: string, extra: Partial<TarItem> = {}): TarItem {
  return {
    path,
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtime: 0,
    linkname: '',
    data: Buffer.from(content),
    xattrs: {},
    ...extra,
  };
}

/** A tar whose one entry's name is written raw (tarEntry itself only writes normalized paths). */
function rawNameTar(name: string): Buffer {
  const entry = tarEntry(item('placeholder', 'x'));
  const header = Buffer.from(entry.subarray(0, 512));
  header.fill(0, 0, 100);
  header.write(name, 0, 'utf8');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return Buffer.concat([header, entry.subarray(512), END_OF_ARCHIVE]);
}

const CONTROL = gzipSync(
  Buffer.concat([tarEntry(item('control', 'Package: evil\nVersion: 1\nArchitecture: all\n')), END_OF_ARCHIVE]),
);

function deb(data: Buffer): Buffer {
  return ar([
    ['debian-binary', Buffer.from('2.0\n')],
    ['control.tar.gz', CONTROL],
    ['data.tar.gz', data],
  ]);
}

async function failure(fn: () => unknown): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isLadingError(err), String(err));
    assert.doesNotMatch(err.message, /\n/);
    return { code: err.code, message: err.message };
  }
  assert.fail('expected an error');
}

describe('hostile packages', () => {
  it('refuses data.tar paths that leave the root, and hard links that point outside it', async () => {
    for (const name of ['../../etc/shadow', './usr/../../root/.ssh/authorized_keys']) {
      const got = await failure(() => readDeb(deb(gzipSync(rawNameTar(name))), 'evil.deb', 1024 ** 2));
      assert.equal(got.code, 'BAD_INPUT');
      assert.match(got.message, /^evil\.deb data\.tar: the path .* leaves the root$/);
    }
    const link = Buffer.concat([
      tarEntry(item('etc/x', '', { type: 'hardlink', linkname: '../../etc/shadow' })),
      END_OF_ARCHIVE,
    ]);
    assert.match((await failure(() => readDeb(deb(gzipSync(link)), 'evil.deb', 1024 ** 2))).message, /leaves the root/);
  });

  it('refuses a member that inflates past the limit, a truncated archive and a non-package', async () => {
    const bomb = gzipSync(Buffer.concat([tarEntry(item('usr/big', 'z'.repeat(4 * 1024 ** 2))), END_OF_ARCHIVE]));
    assert.ok(bomb.length < 64 * 1024);
    const limit = await failure(() => readDeb(deb(bomb), 'bomb.deb', 1024 ** 2));
    assert.equal(limit.code, 'LIMIT');
    assert.match(limit.message, /bomb\.deb: data\.tar\.gz inflates to more than 1048576 bytes/);
    // The same through xz (Debian's default), compressed by the real xz tool.
    const tar = Buffer.concat([tarEntry(item('usr/big', 'z'.repeat(4 * 1024 ** 2))), END_OF_ARCHIVE]);
    const xzBomb = execFileSync('xz', ['-9', '--format=xz', '-c'], { input: tar, maxBuffer: 64 * 1024 ** 2 });
    const xzDeb = ar([
      ['debian-binary', Buffer.from('2.0\n')],
      ['control.tar.gz', CONTROL],
      ['data.tar.xz', xzBomb],
    ]);
    const xzLimit = await failure(() => readDeb(xzDeb, 'xzbomb.deb', 1024 ** 2));
    assert.equal(xzLimit.code, 'LIMIT');
    assert.match(xzLimit.message, /xzbomb\.deb: data\.tar\.xz inflates to more than 1048576 bytes/);
    const xzCut = ar([
      ['debian-binary', Buffer.from('2.0\n')],
      ['control.tar.gz', CONTROL],
      ['data.tar.xz', xzBomb.subarray(0, xzBomb.length - 20)],
    ]);
    assert.equal((await failure(() => readDeb(xzCut, 'xzcut.deb', 8 * 1024 ** 2))).code, 'BAD_INPUT');
    const whole = deb(gzipSync(Buffer.concat([tarEntry(item('usr/a', 'a')), END_OF_ARCHIVE])));
    assert.equal(
      (await failure(() => readDeb(whole.subarray(0, whole.length - 40), 'cut.deb', 1024 ** 2))).code,
      'BAD_INPUT',
    );
    assert.match(
      (await failure(() => readDeb(Buffer.from('PK\x03\x04'), 'zip.deb', 1024))).message,
      /not an ar archive/,
    );
    const truncatedTar = Buffer.concat([tarEntry(item('usr/a', 'a'.repeat(2000)))]).subarray(0, 1024);
    assert.match((await failure(() => readTar(truncatedTar, 't.tar'))).message, /truncated tar/);
  });

  it('reads packages dpkg-deb compressed with xz (the Debian default), gzip, zstd (Ubuntu) or nothing', async (t) => {
    const dir = await tempDir(t);
    const root = join(dir, 'pkg');
    await mkdir(join(root, 'DEBIAN'), { recursive: true });
    await mkdir(join(root, 'usr/lib'), { recursive: true });
    await writeFile(
      join(root, 'DEBIAN/control'),
      'Package: libx\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@t.invalid>\nDescription: x\n',
    );
    await writeFile(join(root, 'usr/lib/libx.so'), 'x\n');
    for (const compression of ['gzip', 'zstd', 'none', 'xz']) {
      const out = join(dir, `libx-${compression}.deb`);
      await run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, out]);
      const bytes = await readFile(out);
      const deb = await readDeb(bytes, out, 1024 ** 2);
      assert.deepEqual(
        deb.data.map((e) => `${e.type} ${e.path}`),
        ['directory ', 'directory usr', 'directory usr/lib', 'file usr/lib/libx.so'],
        compression,
      );
      assert.equal(deb.data[3]?.data.toString(), 'x\n');
    }
  });

  it('round-trips long names and xattrs through the layer writer', () => {
    const long = `usr/share/${'d'.repeat(120)}/file`;
    const tar = Buffer.concat([
      tarEntry(item(long, 'content', { xattrs: { 'security.capability': '\x01\x00\x00\x02' } })),
      END_OF_ARCHIVE,
    ]);
    const [back] = readTar(tar, 'round-trip');
    assert.equal(back?.path, long);
    assert.deepEqual(back?.xattrs, { 'security.capability': '\x01\x00\x00\x02' });
    assert.equal(back?.data.toString(), 'content');
  });
});

describe('the OpenPGP verifier against gpg', () => {
  it('verifies RSA and Ed25519 clearsigned documents, binary and armored keys, and refuses any change', async (t) => {
    const dir = await tempDir(t);
    const doc = join(dir, 'Release');
    await writeFile(doc, 'Origin: Lading\nSuite: test  \n- a line starting with a dash\nSHA256:\n 00 1 main/x\n');
    for (const algo of ['rsa3072', 'ed25519']) {
      const key = await testGpgKey(join(dir, algo), algo);
      const env = { ...process.env, GNUPGHOME: key.home };
      const signed = join(dir, `${algo}.InRelease`);
      await run('gpg', ['--batch', '--yes', '--clearsign', '-o', signed, doc], { env });
      const { stdout: armored } = await run('gpg', ['--armor', '--export'], { env });
      const document = await readFile(signed, 'utf8');
      for (const keyring of [key.keyring, Buffer.from(armored)]) {
        const keys = readKeyring(keyring, algo);
        const verified = verifyClearsigned(document, keys, 'InRelease');
        assert.equal(verified.text, await readFile(doc, 'utf8'), algo);
        // gpgv, the oracle, agrees
        await mkdir(join(dir, 'v'), { recursive: true });
        await writeFile(join(dir, 'v', 'k.gpg'), key.keyring);
        await run('gpgv', ['--keyring', join(dir, 'v', 'k.gpg'), signed]);
      }
      const keys = readKeyring(key.keyring, algo);
      const changed = document.replace('Suite: test', 'Suite: tesT');
      assert.match((await failure(() => verifyClearsigned(changed, keys, 'InRelease'))).message, /does not verify/);
      const stripped = document.slice(0, document.indexOf('-----BEGIN PGP SIGNATURE-----'));
      assert.match((await failure(() => verifyClearsigned(stripped, keys, 'InRelease'))).message, /no signature/);
      assert.match(
        (await failure(() => verifyClearsigned('Origin: x\n', keys, 'InRelease'))).message,
        /not a clearsigned/,
      );
    }
  });
});

/** An OpenPGP packet in the new format (tag, length in one or two octets as needed here). */
function pgpPacket(tag: number, body: Buffer): Buffer {
  const length =
    body.length < 192
      ? Buffer.from([body.length])
      : Buffer.from([((body.length - 192) >> 8) + 192, (body.length - 192) & 0xff]);
  return Buffer.concat([Buffer.from([0xc0 | tag]), length, body]);
}

/** An MPI: bit count, then the value without leading zero bytes (as RFC 4880 writes numbers). */
function pgpMpi(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const bytes = value.subarray(start);
  const bits = (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0] as number));
  return Buffer.concat([Buffer.from([bits >> 8, bits & 0xff]), bytes]);
}

describe('the OpenPGP verifier and short RSA signatures', () => {
  it('verifies an RSA signature whose value starts with a zero byte (its MPI is shorter than the modulus)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    const created = Buffer.alloc(4);
    created.writeUInt32BE(1_700_000_000);
    const keyBody = Buffer.concat([
      Buffer.from([4]),
      created,
      Buffer.from([1]),
      pgpMpi(Buffer.from(jwk.n, 'base64url')),
      pgpMpi(Buffer.from(jwk.e, 'base64url')),
    ]);
    const fingerprint = createHash('sha1')
      .update(Buffer.from([0x99, keyBody.length >> 8, keyBody.length & 0xff]))
      .update(keyBody)
      .digest();
    const hashed = Buffer.concat([Buffer.from([5, 2]), created, Buffer.from([22, 33, 4]), fingerprint]);
    const head = Buffer.concat([Buffer.from([4, 0x00, 1, 8, hashed.length >> 8, hashed.length & 0xff]), hashed]);
    const trailer = Buffer.concat([head, Buffer.from([4, 0xff]), Buffer.alloc(4)]);
    trailer.writeUInt32BE(head.length, trailer.length - 4);
    // Sign documents until a signature starts with a zero byte (1 in 256 does): gpg's would too, at random.
    let data = Buffer.alloc(0);
    let signature = Buffer.alloc(0);
    for (let i = 0; i < 20_000; i++) {
      data = Buffer.from(`repomd ${i}\n`);
      signature = sign('sha256', Buffer.concat([data, trailer]), privateKey);
      if (signature[0] === 0) break;
    }
    assert.equal(signature[0], 0, 'a signature with a leading zero byte was made');
    const digest = createHash('sha256').update(data).update(trailer).digest();
    const sigBody = Buffer.concat([head, Buffer.from([0, 0]), digest.subarray(0, 2), pgpMpi(signature)]);
    const keys = readKeyring(pgpPacket(6, keyBody), 'test key');
    assert.equal(
      verifyDetached(data, pgpPacket(2, sigBody), keys, 'repomd.xml.asc'),
      fingerprint.toString('hex').toUpperCase(),
    );
    assert.throws(
      () => verifyDetached(Buffer.from('other'), pgpPacket(2, sigBody), keys, 'repomd.xml.asc'),
      /does not verify/,
    );
  });
});
