// A gzip'd docker-archive (`docker save | gzip`) or OCI archive is read front to back in one pass: its layers are
// walked as the pass meets them, nothing is unpacked to disk, and the result is the plain archive's.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { isLadingError } from '../../src/errors/lading-error.js';
import { inflateOffThread } from '../../src/image/layer/inflate-thread.js';
import { openTarget } from '../../src/image/open.js';
import { readImageArchiveOnce } from '../../src/image/sources/archive-once.js';
import { readArchiveOnce } from '../../src/image/sources/tar-archive.js';
import { walkArchiveOnce } from '../../src/image/walk/walk-image.js';
import {
  buildImage,
  buildMultiImageDockerArchive,
  type LayerEntry,
  layerTar,
  membersOf,
  sha256,
  writeTar,
} from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { selectorFor, textOf } from './select.js';

async function gzipImage(dir: string) {
  return buildImage(dir, {
    layers: [
      [
        { type: 'file', path: '/usr/lib/os-release', content: 'ID=debian\n' },
        { type: 'symlink', path: '/etc/os-release', target: '../usr/lib/os-release' },
      ],
      [{ type: 'file', path: '/var/lib/dpkg/status', content: `Package: a\n${'x'.repeat(100_000)}\n` }],
    ],
    gzipDockerArchive: true,
  });
}

async function walked(spec: string, options: { maxInflatedBytes?: number; verifyDiffIds?: boolean } = {}) {
  const opened = await openTarget(spec, options.verifyDiffIds ? { verifyDiffIds: true } : {});
  try {
    const walk = await opened.walk(selectorFor(['/etc/os-release', '/var/lib/dpkg/status']), {
      maxFileBytes: 1 << 20,
      ...(options.maxInflatedBytes ? { maxInflatedBytes: options.maxInflatedBytes } : {}),
    });
    return { target: opened.target, files: textOf(walk.files) };
  } finally {
    await opened.close();
  }
}

describe("gzip'd docker-archive and OCI archive", () => {
  test('read in one pass to the same files and target as the plain archive, with nothing written to disk', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    const plain = join(dir, 'plain.tar');
    await writeFile(plain, gunzipSync(await readFile(built.dockerArchive)));
    const ociGz = join(dir, 'oci.tar.gz');
    await writeFile(ociGz, gzipSync(await readFile(built.ociArchive)));

    const scratch = join(dir, 'scratch');
    await mkdir(scratch);
    const saved = { TMPDIR: process.env['TMPDIR'], LADING_TMPDIR: process.env['LADING_TMPDIR'] };
    process.env['TMPDIR'] = scratch;
    process.env['LADING_TMPDIR'] = scratch;
    try {
      const fromGzip = await walked(`docker-archive:${built.dockerArchive}`);
      const fromPlain = await walked(`docker-archive:${plain}`);
      // The symlink's target is read in a second pass over the archive (the first did not want it).
      assert.equal(fromGzip.files['/etc/os-release'], 'ID=debian\n');
      assert.deepEqual(fromGzip.files, fromPlain.files);
      assert.deepEqual(
        { ...fromGzip.target, ref: '' },
        { ...fromPlain.target, ref: '' },
        'same target description, layer sizes included',
      );
      const fromOci = await walked(`oci-archive:${ociGz}`);
      assert.deepEqual(fromOci.files, fromPlain.files);
      assert.equal(fromOci.target.digest, built.manifestDigest);
      assert.deepEqual(await readdir(scratch), [], 'nothing unpacked to a temp folder');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('the target of a compressed archive is known only after its walk', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    const opened = await openTarget(`docker-archive:${built.dockerArchive}`);
    assert.throws(() => opened.target, /described by its walk/);
    await opened.walk(selectorFor([]), { maxFileBytes: 1024 });
    assert.deepEqual(
      opened.target.layers.map((l) => l.diffId),
      built.diffIds,
    );
  });

  test('a bare path is read in the same one pass, its kind told by what the archive holds', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    const ociGz = join(dir, 'oci.tar.gz');
    await writeFile(ociGz, gzipSync(await readFile(built.ociArchive)));
    const docker = await walked(built.dockerArchive);
    assert.equal(docker.target.ref, `docker-archive:${built.dockerArchive}`);
    assert.equal(docker.files['/etc/os-release'], 'ID=debian\n');
    const oci = await walked(ociGz);
    assert.equal(oci.target.ref, `oci-archive:${ociGz}`);
    assert.deepEqual(oci.files, docker.files);
    const notAnImage = join(dir, 'notes.gz');
    await writeFile(notAnImage, gzipSync(Buffer.from('just text\n')));
    await assert.rejects(walked(notAnImage), (err) => isLadingError(err) && err.code === 'BAD_INPUT');
  });

  test('stops with LIMIT past maxInflatedBytes', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    await assert.rejects(
      walked(`docker-archive:${built.dockerArchive}`, { maxInflatedBytes: 50_000 }),
      (err) => isLadingError(err) && err.code === 'LIMIT' && /past the 50000-byte limit/.test(err.message),
    );
  });

  test('a layer whose bytes differ from its diff-id is DIGEST_MISMATCH; a cut archive is one clear line', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    // Legacy `docker save` names (`<id>/layer.tar`) promise no digest: the diff-id is what checks them.
    const plain = gunzipSync(await readFile(built.dockerArchive));
    const tampered = Buffer.from(plain);
    const at = tampered.indexOf('xxxxxxxxxx');
    assert.ok(at > 0);
    tampered.write('yyyyyyyyyy', at, 'latin1');
    const bad = join(dir, 'tampered.tar.gz');
    await writeFile(bad, gzipSync(tampered));
    await assert.rejects(walked(`docker-archive:${bad}`), (err) => {
      assert.ok(isLadingError(err), String(err));
      assert.equal(err.code, 'DIGEST_MISMATCH');
      assert.match(err.message, /diff-id/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });

    const cut = join(dir, 'cut.tar.gz');
    const gz = await readFile(built.dockerArchive);
    await writeFile(cut, gz.subarray(0, Math.floor(gz.length / 2)));
    await assert.rejects(walked(`docker-archive:${cut}`), (err) => {
      assert.ok(isLadingError(err), String(err));
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /cut\.tar\.gz/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });
});

async function gzipOf(dir: string, name: string, files: { name: string; content: Buffer }[]): Promise<string> {
  const plain = join(dir, `${name}.tar`);
  await writeTar(plain, files);
  const gz = `${plain}.gz`;
  await writeFile(gz, gzipSync(await readFile(plain)));
  return gz;
}

const LINKED: LayerEntry[] = [
  { type: 'file', path: '/usr/lib/os-release', content: 'ID=debian\n' },
  { type: 'symlink', path: '/etc/os-release', target: '../usr/lib/os-release' },
];

describe('one pass over unusual and hostile compressed archives', () => {
  test("another image's broken layer and stray members do not fail the image asked for", async (t) => {
    const dir = await tempDir(t);
    const good = await layerTar([{ type: 'file', path: '/x', content: 'x' }]);
    const corrupt = Buffer.from(good);
    corrupt[0] = 0x7a; // the header checksum no longer matches
    const multi = join(dir, 'multi.tar');
    await buildMultiImageDockerArchive(multi, [
      { layers: [LINKED], tags: ['a:1'] },
      { layers: [{ rawTar: corrupt }], tags: ['b:1'] },
    ]);
    const gz = join(dir, 'multi.tar.gz');
    await writeFile(gz, gzipSync(await readFile(multi)));
    assert.equal((await walked(`docker-archive:${gz}:a:1`)).files['/etc/os-release'], 'ID=debian\n');
    await assert.rejects(walked(`docker-archive:${gz}:b:1`), (err) => isLadingError(err) && err.code === 'BAD_INPUT');

    // An OCI archive with a gzip'd member that is no tar, and a stray name that looks like a blob.
    const built = await buildImage(join(dir, 'oci'), { layers: [LINKED] });
    const files = await membersOf(await readFile(built.ociArchive));
    files.push({ name: 'blobs/sha256/abcd', content: Buffer.from('stray') });
    files.push({ name: `blobs/sha256/${'0'.repeat(64)}`, content: gzipSync(Buffer.from('{"not":"a tar"}')) });
    const oci = await gzipOf(dir, 'stray', files);
    assert.equal((await walked(`oci-archive:${oci}`)).files['/etc/os-release'], 'ID=debian\n');
  });

  test('empty layers (no bytes, or end blocks only) and old-style tars without the ustar marker are read', async (t) => {
    const dir = await tempDir(t);
    const v7 = await layerTar([{ type: 'file', path: '/etc/v7', content: 'v7\n' }]);
    v7.fill(0, 257, 265);
    v7.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += v7[i] as number;
    v7.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    for (const [label, raw] of [
      ['empty', Buffer.alloc(0)],
      ['zeros', Buffer.alloc(1024)],
      ['v7', v7],
    ] as const) {
      const built = await buildImage(join(dir, label), {
        layers: [LINKED, { rawTar: raw }],
        gzipDockerArchive: true,
      });
      const read = await walked(`docker-archive:${built.dockerArchive}`);
      assert.equal(read.files['/etc/os-release'], 'ID=debian\n', label);
      assert.deepEqual(
        read.target.layers.map((l) => l.diffId),
        built.diffIds,
        label,
      );
    }
  });

  test('the second pass for link targets is one pass for all layers, and is checked like the first', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [0, 1, 2].map((i) => [
        { type: 'file', path: `/usr/lib/t${i}`, content: `target ${i}\n` },
        { type: 'symlink', path: `/etc/l${i}`, target: `../usr/lib/t${i}` },
      ]),
      gzipDockerArchive: true,
    });
    const selector = selectorFor(['/etc/l0', '/etc/l1', '/etc/l2']);
    const spec = { kind: 'docker-archive' as const, path: built.dockerArchive };
    const ref = `docker-archive:${built.dockerArchive}`;
    let passes = 0;
    const walkedOnce = await walkArchiveOnce(
      ref,
      (visit) => {
        passes++;
        return readImageArchiveOnce(spec, ref, {}, visit);
      },
      selector,
      { maxFileBytes: 1 << 20 },
    );
    assert.equal(passes, 2, 'one pass, and one more for all link targets');
    assert.deepEqual(textOf(walkedOnce.files), {
      '/etc/l0': 'target 0\n',
      '/etc/l1': 'target 1\n',
      '/etc/l2': 'target 2\n',
    });

    // The archive changes between the passes: the second pass's layer no longer matches its diff-id.
    const files = await membersOf(gunzipSync(await readFile(built.dockerArchive)));
    const first = `${(built.diffIds[0] as string).slice('sha256:'.length)}/layer.tar`;
    const evilLayer = await layerTar([
      { type: 'file', path: '/usr/lib/t0', content: 'evil\n' },
      { type: 'symlink', path: '/etc/l0', target: '../usr/lib/t0' },
    ]);
    const swapped = await gzipOf(
      dir,
      'swapped',
      files.map((f) => (f.name === first ? { name: f.name, content: evilLayer } : f)),
    );
    passes = 0;
    await assert.rejects(
      walkArchiveOnce(
        ref,
        (visit) => readImageArchiveOnce(passes++ === 0 ? spec : { ...spec, path: swapped }, ref, {}, visit),
        selector,
        { maxFileBytes: 1 << 20 },
      ),
      (err) => isLadingError(err) && err.code === 'DIGEST_MISMATCH',
    );
  });

  test('a layer listed twice is placed twice, as from the plain archive (one scan serves both)', async (t) => {
    const dir = await tempDir(t);
    const a: LayerEntry[] = [{ type: 'file', path: '/var/lib/dpkg/status', content: 'Package: a\n' }];
    const b: LayerEntry[] = [{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }];
    const built = await buildImage(dir, { layers: [a, b, a], gzipDockerArchive: true });
    const plain = join(dir, 'plain.tar');
    await writeFile(plain, gunzipSync(await readFile(built.dockerArchive)));
    const selector = selectorFor(['/var/lib/dpkg/status'], ['/var/lib/dpkg/status']);
    const status = async (spec: string) => {
      const opened = await openTarget(spec);
      try {
        const file = (await opened.walk(selector, { maxFileBytes: 1024 })).files.get('/var/lib/dpkg/status');
        return {
          content: file?.content.toString(),
          layer: file?.layer,
          history: file?.history?.map((h) => ({ layer: h.layer, content: h.content.toString() })),
        };
      } finally {
        await opened.close();
      }
    };
    const fromGzip = await status(`docker-archive:${built.dockerArchive}`);
    assert.deepEqual(fromGzip, await status(`docker-archive:${plain}`));
    assert.deepEqual(fromGzip, {
      content: 'Package: a\n',
      layer: built.diffIds[2],
      history: [{ layer: built.diffIds[0], content: 'Package: a\n' }],
    });
  });

  test('a layer whose first entry starts like JSON is still a layer', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [
        [
          { type: 'file', path: '/[odd]', content: 'odd\n' },
          { type: 'file', path: '/etc/os-release', content: 'ID=debian\n' },
        ],
      ],
      gzipDockerArchive: true,
    });
    assert.equal((await walked(built.dockerArchive)).files['/etc/os-release'], 'ID=debian\n');
  });

  test("other images count against neither the image's entry limit nor its inflate budget", async (t) => {
    const dir = await tempDir(t);
    const many: LayerEntry[] = Array.from({ length: 150 }, (_, i) => ({
      type: 'file' as const,
      path: `/many/f${i}`,
      content: 'x',
    }));
    const multi = join(dir, 'multi.tar');
    await buildMultiImageDockerArchive(multi, [
      { layers: [many, [{ type: 'file', path: '/big', content: Buffer.alloc(120_000, 1) }]], tags: ['b:1'] },
      { layers: [LINKED], tags: ['a:1'] },
    ]);
    const gz = join(dir, 'multi.tar.gz');
    await writeFile(gz, gzipSync(await readFile(multi)));
    const opened = await openTarget(`docker-archive:${gz}:a:1`);
    try {
      const walk = await opened.walk(selectorFor(['/etc/os-release']), {
        maxFileBytes: 1024,
        maxEntries: 100,
        maxInflatedBytes: 130_000,
      });
      assert.equal(textOf(walk.files)['/etc/os-release'], 'ID=debian\n');
    } finally {
      await opened.close();
    }
    const other = await openTarget(`docker-archive:${gz}:b:1`);
    await assert.rejects(
      other.walk(selectorFor([]), { maxFileBytes: 1024, maxEntries: 100 }),
      (err) => isLadingError(err) && err.code === 'LIMIT' && /entries/.test(err.message),
    );
  });

  test('a cut archive ends the pass cleanly even while the visitor holds no error listener', async (t) => {
    const dir = await tempDir(t);
    const plain = join(dir, 'h.tar');
    await writeTar(plain, [
      { name: 'm', content: Buffer.alloc(3 << 20, 9) },
      { name: 'manifest.json', content: Buffer.from('[]') },
    ]);
    const cut = join(dir, 'cut.tar.gz');
    await writeFile(cut, gzipSync((await readFile(plain)).subarray(0, 512 + (2 << 20) + 100_000)));
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', record);
    try {
      await assert.rejects(
        readArchiveOnce(cut, async ({ data }) => {
          for (let i = 0; i < 3; i++) {
            while (data.read() !== null);
            await new Promise((resolve) => setTimeout(resolve, 30));
          }
        }),
        (err) => isLadingError(err) && err.code === 'BAD_INPUT',
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', record);
    }
  });

  test('a layer reached through a member link to a blob named for another digest is a mismatch', async (t) => {
    const dir = await tempDir(t);
    const layer = await layerTar([{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }]);
    const real = `blobs/sha256/${sha256(layer).slice('sha256:'.length)}`;
    const claimed = `blobs/sha256/${'a'.repeat(64)}`;
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }),
    );
    const configName = `blobs/sha256/${sha256(config).slice('sha256:'.length)}`;
    const manifest = [{ Config: configName, RepoTags: ['x:1'], Layers: [claimed] }];
    const pack = tarStream.pack();
    pack.entry({ name: real }, layer);
    pack.entry({ name: claimed, type: 'symlink', linkname: real.slice('blobs/sha256/'.length) });
    pack.entry({ name: configName }, config);
    pack.entry({ name: 'manifest.json' }, Buffer.from(JSON.stringify(manifest)));
    pack.finalize();
    const parts: Buffer[] = [];
    for await (const chunk of pack) parts.push(chunk as Buffer);
    const gz = join(dir, 'linked.tar.gz');
    await writeFile(gz, gzipSync(Buffer.concat(parts)));
    await assert.rejects(walked(`docker-archive:${gz}`), (err) => {
      assert.ok(isLadingError(err), String(err));
      assert.equal(err.code, 'DIGEST_MISMATCH');
      assert.match(err.message, /stored as sha256:/);
      return true;
    });
  });

  test('a visitor that stops early does not cut the pass short', async (t) => {
    const dir = await tempDir(t);
    const built = await gzipImage(dir);
    const seen: string[] = [];
    const archive = await readArchiveOnce(built.dockerArchive, async ({ name, data }) => {
      seen.push(name);
      for await (const _ of data) break;
    });
    assert.equal(seen.length, 2);
    assert.ok(archive.has('manifest.json'), 'members after the visited ones are still indexed');
  });

  test("an uncompressed layer named for a digest that is not its diff-id is a mismatch, gzip'd or not", async (t) => {
    const dir = await tempDir(t);
    const layer = await layerTar([{ type: 'file', path: '/etc/os-release', content: 'ID=evil\n' }]);
    const honest = await layerTar([{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }]);
    const name = `blobs/sha256/${sha256(layer).slice('sha256:'.length)}`;
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(honest)] } }),
    );
    const configName = `blobs/sha256/${sha256(config).slice('sha256:'.length)}`;
    const files = [
      { name, content: layer },
      { name: configName, content: config },
      {
        name: 'manifest.json',
        content: Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['x:1'], Layers: [name] }])),
      },
    ];
    const plain = join(dir, 'self-named.tar');
    await writeTar(plain, files);
    const gz = await gzipOf(dir, 'self-named-gz', files);
    for (const spec of [`docker-archive:${plain}`, `docker-archive:${gz}`]) {
      await assert.rejects(walked(spec), (err) => isLadingError(err) && err.code === 'DIGEST_MISMATCH', spec);
    }
  });
});

describe('gzip layers inflated on a worker thread (LADING_INFLATE_THREADS=1)', () => {
  const tar = Buffer.from(`${'layer bytes '.repeat(300_000)}\n`);
  const gz = gzipSync(tar);
  const read = async (stream: Readable) => {
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  };
  const chunked = (data: Buffer) => Readable.from([data.subarray(0, 1000), data.subarray(1000)]);

  test('gives the inflated bytes and accepts the matching diff-id', async () => {
    let counted = 0;
    const out = await read(inflateOffThread(chunked(gz), { expected: sha256(tar), onBytes: (n) => (counted += n) }));
    assert.ok(out.equals(tar));
    assert.equal(counted, tar.length);
  });

  test('fails with DIGEST_MISMATCH on a wrong diff-id and with the zlib message on corrupt data', async () => {
    await assert.rejects(
      read(inflateOffThread(chunked(gz), { expected: sha256('other') })),
      (err) => isLadingError(err) && err.code === 'DIGEST_MISMATCH',
    );
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 20, 200);
    await assert.rejects(
      read(inflateOffThread(chunked(corrupt), { expected: sha256(tar) })),
      /invalid|incorrect|check/,
    );
  });

  test('a whole scan with the worker gives the same files as without', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }]],
      compression: 'gzip',
    });
    const walk = async () => {
      const opened = await openTarget(`oci:${built.ociDir}`, { inflateThreads: true });
      try {
        const w = await opened.walk(selectorFor(['/etc/os-release']), { maxFileBytes: 1024 });
        return w.files.get('/etc/os-release')?.content.toString();
      } finally {
        await opened.close();
      }
    };
    assert.equal(await walk(), 'ID=debian\n');
  });
});
