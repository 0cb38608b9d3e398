import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isLadingError } from '../../src/errors/lading-error.js';
import { openTarget } from '../../src/image/open.js';
import { runCli } from '../helpers/cli.js';
import { buildImage, layerTar, sha256, writeTar } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, OS_SELECTOR } from './select.js';
import { failsWith, openAndWalk } from './walk-failures.js';

const LAYERS = [
  [
    { type: 'file' as const, path: '/etc/os-release', content: 'ID=debian\n' },
    { type: 'file' as const, path: '/var/lib/dpkg/status', content: 'Package: a\n'.repeat(200) },
  ],
];

/** Rewrites one blob of an OCI layout in place (keeping its name, so its digest no longer matches). */
async function tamper(ociDir: string, digest: string, change: (b: Buffer) => Buffer): Promise<void> {
  const path = join(ociDir, 'blobs/sha256', digest.slice(7));
  await writeFile(path, change(await readFile(path)));
}

describe('bad input: exit 3, one line naming the target', () => {
  test('layer blob digest mismatch', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'none' });
    await tamper(built.ociDir, built.layerDigests[0]!, (b) => {
      const c = Buffer.from(b);
      c[600] = (c[600] ?? 0) ^ 0xff;
      return c;
    });
    await assert.rejects(
      openAndWalk(`oci:${built.ociDir}`),
      failsWith('DIGEST_MISMATCH', /digest mismatch/, built.ociDir),
    );
  });

  test('diff-id mismatch of the uncompressed stream', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, { layers: LAYERS });
    // A docker-archive whose config promises another diff-id than its gzip'd layer inflates to.
    const { gzipSync } = await import('node:zlib');
    const config = JSON.parse(
      (await readFile(join(built.ociDir, 'blobs/sha256', built.configDigest.slice(7)))).toString(),
    );
    config.rootfs.diff_ids = [sha256('something else')];
    const configBytes = Buffer.from(JSON.stringify(config));
    const file = join(dir, 'bad-diffid.tar');
    await writeTar(file, [
      {
        name: 'manifest.json',
        content: Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['l.tar.gz'] }])),
      },
      { name: 'c.json', content: configBytes },
      { name: 'l.tar.gz', content: gzipSync(await layerTar(LAYERS[0]!)) },
    ]);
    await assert.rejects(openAndWalk(`docker-archive:${file}`), failsWith('DIGEST_MISMATCH', /diff-id/, file));
  });

  test('docker-archive layers named by digest (docker save since v25) are verified when streamed', async (t) => {
    const dir = await tempDir(t);
    const { gzipSync } = await import('node:zlib');
    const plain = await layerTar(LAYERS[0]!);
    const blob = gzipSync(plain);
    const config = Buffer.from(
      JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [sha256(plain)] } }),
    );
    const write = async (file: string, layerBytes: Buffer) =>
      writeTar(file, [
        {
          name: 'manifest.json',
          content: Buffer.from(
            JSON.stringify([
              {
                Config: `blobs/sha256/${sha256(config).slice(7)}`,
                RepoTags: ['v25:1'],
                Layers: [`blobs/sha256/${sha256(blob).slice(7)}`],
              },
            ]),
          ),
        },
        { name: `blobs/sha256/${sha256(config).slice(7)}`, content: config },
        { name: `blobs/sha256/${sha256(blob).slice(7)}`, content: layerBytes },
      ]);
    const good = join(dir, 'good.tar');
    await write(good, blob);
    const walked = await openAndWalk(`docker-archive:${good}`);
    assert.equal(walked.files.get('/etc/os-release')?.content.toString(), 'ID=debian\n');
    const bad = join(dir, 'bad.tar');
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 9] = (tampered[tampered.length - 9] ?? 0) ^ 1;
    await write(bad, tampered);
    await assert.rejects(openAndWalk(`docker-archive:${bad}`), (err) => {
      assert.ok(isLadingError(err));
      assert.equal(err.exitCode, 3);
      assert.ok(err.message.includes(bad), err.message);
      return true;
    });
  });

  test('a layer its blob digest verified is not hashed again: the config diff-id is recorded as given', async (t) => {
    // Decompression is deterministic, so the verified compressed digest already fixes the inflated bytes; re-hashing
    // them for the diff-id (what a layer no digest covers still gets, test above) would cost ~40% of a gzip walk.
    const dir = await tempDir(t);
    const { gzipSync } = await import('node:zlib');
    const blob = gzipSync(await layerTar(LAYERS[0]!));
    const claimed = sha256('the config says so');
    const config = Buffer.from(
      JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [claimed] } }),
    );
    const file = join(dir, 'claimed.tar');
    await writeTar(file, [
      {
        name: 'manifest.json',
        content: Buffer.from(
          JSON.stringify([
            {
              Config: `blobs/sha256/${sha256(config).slice(7)}`,
              RepoTags: [],
              Layers: [`blobs/sha256/${sha256(blob).slice(7)}`],
            },
          ]),
        ),
      },
      { name: `blobs/sha256/${sha256(config).slice(7)}`, content: config },
      { name: `blobs/sha256/${sha256(blob).slice(7)}`, content: blob },
    ]);
    const opened = await openTarget(`docker-archive:${file}`);
    try {
      assert.equal(opened.target.layers[0]?.diffId, claimed);
      assert.equal(opened.target.layers[0]?.digest, sha256(blob));
      const walked = await opened.walk(OS_SELECTOR, LIMITS);
      assert.equal(walked.files.get('/etc/os-release')?.content.toString(), 'ID=debian\n');
    } finally {
      await opened.close();
    }
    // --verify-diff-ids checks the claim too.
    const strict = await openTarget(`docker-archive:${file}`, { verifyDiffIds: true });
    try {
      await assert.rejects(strict.walk(OS_SELECTOR, LIMITS), failsWith('DIGEST_MISMATCH', /diff-id/, file));
    } finally {
      await strict.close();
    }
  });

  test('uncompressed local layers are checked against their diff-ids by default and under --verify-diff-ids', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, { layers: LAYERS });
    const good = await openTarget(`docker-archive:${built.dockerArchive}`, { verifyDiffIds: true });
    try {
      const walked = await good.walk(OS_SELECTOR, LIMITS);
      assert.equal(walked.files.get('/etc/os-release')?.content.toString(), 'ID=debian\n');
    } finally {
      await good.close();
    }
    // The same layer under a config whose diff-id says otherwise (legacy `<id>/layer.tar` naming, no blob digest).
    const config = JSON.parse(
      (await readFile(join(built.ociDir, 'blobs/sha256', built.configDigest.slice(7)))).toString(),
    );
    config.rootfs.diff_ids = [sha256('something else')];
    const file = join(dir, 'plain-bad-diffid.tar');
    await writeTar(file, [
      {
        name: 'manifest.json',
        content: Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['l/layer.tar'] }])),
      },
      { name: 'c.json', content: Buffer.from(JSON.stringify(config)) },
      { name: 'l/layer.tar', content: await layerTar(LAYERS[0]!) },
    ]);
    // By default the layer is seeked for what is wanted and hashed whole beside the walk: refused all the same.
    await assert.rejects(openAndWalk(`docker-archive:${file}`), failsWith('DIGEST_MISMATCH', /diff-id/, file));
    const seeking = await openTarget(`docker-archive:${file}`);
    try {
      const walked = await seeking.walk(OS_SELECTOR, { ...LIMITS, hashInPlace: false });
      assert.equal(walked.files.get('/etc/os-release')?.content.toString(), 'ID=debian\n', 'only with hashing off');
      assert.equal(walked.verified, false);
    } finally {
      await seeking.close();
    }
    const strict = await openTarget(`docker-archive:${file}`, { verifyDiffIds: true });
    try {
      await assert.rejects(strict.walk(OS_SELECTOR, LIMITS), failsWith('DIGEST_MISMATCH', /diff-id/, file));
    } finally {
      await strict.close();
    }
    const cli = await runCli(['sbom', `docker-archive:${file}`, '--verify-diff-ids', '-o', 'json']);
    assert.equal(cli.code, 3);
    assert.match(cli.stderr, /^lading: .*diff-id.*\n$/);
  });

  test('a zstd layer whose blob digest holds but whose content is corrupt (frame checksum) fails', async (t) => {
    const dir = await tempDir(t);
    const { gzipSync } = await import('node:zlib');
    const { randomBytes } = await import('node:crypto');
    const { compress } = await import('../helpers/images.js');
    const plain = await layerTar([...LAYERS[0]!, { type: 'file', path: '/noise', content: randomBytes(8192) }]);
    const blob = Buffer.from(compress(plain, 'zstd'));
    // Inside the incompressible file's raw bytes: the frame still decodes, only its checksum tells.
    blob[blob.length >> 1] = blob[blob.length >> 1]! ^ 0x01;
    const layer = `blobs/sha256/${sha256(blob).slice(7)}`;
    const config = {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256(plain)] },
    };
    const members = [
      {
        name: 'manifest.json',
        content: Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [layer] }])),
      },
      { name: 'c.json', content: Buffer.from(JSON.stringify(config)) },
      { name: layer, content: blob },
    ];
    const file = join(dir, 'zstd.tar');
    await writeTar(file, members);
    await assert.rejects(openAndWalk(`docker-archive:${file}`), failsWith('DIGEST_MISMATCH', /diff-id/, file));
    await writeFile(`${file}.gz`, gzipSync(await readFile(file)));
    await assert.rejects(
      openAndWalk(`docker-archive:${file}.gz`),
      failsWith('DIGEST_MISMATCH', /diff-id/, `${file}.gz`),
    );
  });

  test('truncated gzip layer', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
    const digest = built.layerDigests[0]!;
    // Keep the digest honest so the truncation itself is what fails: rename the blob to its new digest.
    const path = join(built.ociDir, 'blobs/sha256', digest.slice(7));
    const cut = (await readFile(path)).subarray(0, 60);
    await rm(path);
    await rewriteLayer(built.ociDir, built.manifestDigest, digest, cut);
    await assert.rejects(
      openAndWalk(`oci:${built.ociDir}`),
      failsWith('BAD_INPUT', /unexpected end|truncat/i, built.ociDir),
    );
  });

  test('corrupt tar header (checksum)', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'none' });
    const layer = await layerTar(LAYERS[0]!);
    layer[10] = 0x41;
    await rewriteLayer(built.ociDir, built.manifestDigest, built.layerDigests[0]!, layer, true);
    await assert.rejects(
      openAndWalk(`oci:${built.ociDir}`),
      failsWith('BAD_INPUT', /corrupt tar header/, built.ociDir),
    );
  });

  test('missing layer blob', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    await rm(join(built.ociDir, 'blobs/sha256', built.layerDigests[0]!.slice(7)));
    await assert.rejects(openTarget(`oci:${built.ociDir}`), failsWith('NOT_FOUND', /missing/, built.ociDir));
  });

  test('unknown manifest media type', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const index = JSON.parse((await readFile(join(built.ociDir, 'index.json'))).toString());
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-not-a-manifest' }));
    await writeFile(join(built.ociDir, 'blobs/sha256', sha256(manifest).slice(7)), manifest);
    index.manifests[0] = { mediaType: 'application/x-not-a-manifest', digest: sha256(manifest), size: manifest.length };
    await writeFile(join(built.ociDir, 'index.json'), JSON.stringify(index));
    await assert.rejects(
      openTarget(`oci:${built.ociDir}`),
      failsWith('BAD_INPUT', /unknown manifest media type/, built.ociDir),
    );
  });

  test('tag not in the archive lists the tags there', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, tag: 'team/app:2' });
    await assert.rejects(
      openTarget(`docker-archive:${built.dockerArchive}:team/app:3`),
      failsWith('NOT_FOUND', /no tag team\/app:3 \(tags: team\/app:2\)/, built.dockerArchive),
    );
    await assert.rejects(
      openTarget(`oci:${built.ociDir}:3`),
      failsWith('NOT_FOUND', /no tag 3 \(tags: 2\)/, built.ociDir),
    );
  });

  test('a layer inflating past the cap stops the walk', async (t) => {
    const big = [{ type: 'file' as const, path: '/zeros', content: Buffer.alloc(4 * 1024 * 1024) }];
    const built = await buildImage(await tempDir(t), { layers: [big], compression: 'gzip' });
    await assert.rejects(
      openAndWalk(`oci:${built.ociDir}`, { ...LIMITS, maxInflatedBytes: 1024 * 1024 }),
      failsWith('LIMIT', /inflate past/, built.ociDir),
    );
  });

  test("the cap is the user's to set: --max-image-size and LADING_MAX_IMAGE_SIZE", async (t) => {
    const big = [{ type: 'file' as const, path: '/zeros', content: Buffer.alloc(4 * 1024 * 1024) }];
    const built = await buildImage(await tempDir(t), { layers: [big], compression: 'gzip' });
    const bySize = await runCli(['sbom', `oci:${built.ociDir}`, '--max-image-size', '1MiB', '-o', 'json']);
    assert.equal(bySize.code, 3, bySize.stderr);
    assert.match(bySize.stderr.trim(), /^lading: .*inflate past the 1048576-byte limit$/);
    const byEnv = await runCli(['sbom', `oci:${built.ociDir}`, '-o', 'json'], {
      env: { ...process.env, LADING_MAX_IMAGE_SIZE: '2m' },
    });
    assert.equal(byEnv.code, 3, byEnv.stderr);
    assert.match(byEnv.stderr, /inflate past the 2097152-byte limit/);
    const roomy = await runCli(['sbom', `oci:${built.ociDir}`, '--max-image-size', '8MiB', '-o', 'json']);
    assert.equal(roomy.code, 0, roomy.stderr);
  });

  test('an image with more entries than the walk tracks stops with LIMIT', async (t) => {
    const many = Array.from({ length: 50 }, (_, i) => ({ type: 'dir' as const, path: `/d${i}` }));
    const built = await buildImage(await tempDir(t), { layers: [many, many] });
    await assert.rejects(
      openAndWalk(`oci:${built.ociDir}`, { ...LIMITS, maxEntries: 60 }),
      failsWith('LIMIT', /more tar entries/, built.ociDir),
    );
    assert.equal((await openAndWalk(`oci:${built.ociDir}`, { ...LIMITS, maxEntries: 100 })).files.size, 0);
  });

  test('not an image at all', async (t) => {
    const file = join(await tempDir(t), 'plain.txt');
    await writeFile(file, 'hello');
    await assert.rejects(openTarget(file), failsWith('BAD_INPUT', /neither a directory nor an image archive/, file));
    await assert.rejects(openTarget(`docker-archive:${file}`), (err) => isLadingError(err) && err.exitCode === 3);
    await assert.rejects(openTarget(`oci:${file}.nope`), (err) => isLadingError(err) && err.exitCode === 3);
  });

  test('hostile layer bytes (fuzzed): always a LadingError, never a crash or hang', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, { layers: LAYERS, compression: 'none' });
    const good = await layerTar(LAYERS[0]!);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: good.length - 1 }).map((n) => good.subarray(0, n)),
          fc
            .tuple(fc.integer({ min: 0, max: 1535 }), fc.integer({ min: 0, max: 255 }))
            .map(([at, v]) => Buffer.from(good).fill(v, at, at + 1)),
          fc.uint8Array({ minLength: 0, maxLength: 2048 }).map((a) => Buffer.from(a)),
        ),
        async (bytes) => {
          // The image stays valid around the layer (digests fixed up), so the hostile bytes reach the tar reader.
          await rewriteLayer(built.ociDir, built.manifestDigest, built.layerDigests[0]!, bytes, true);
          try {
            await openAndWalk(`oci:${built.ociDir}`);
          } catch (err) {
            assert.ok(isLadingError(err), `not a LadingError: ${String(err)}`);
            assert.ok(!err.message.includes('\n'));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('the CLI exits 3 with one line on stderr', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, tag: 'team/app:2' });
    const r = await runCli(['sbom', `docker-archive:${built.dockerArchive}:nope:1`, '-o', 'json']);
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', /no tag nope:1/);
  });
});

/**
 * Replaces a layer blob and rewrites manifest, config and index.json so only the layer bytes themselves are wrong
 * (`fixDiffId` also makes the config's diff-id match, so digest checks pass and the bytes reach the tar reader).
 */
async function rewriteLayer(
  ociDir: string,
  manifestDigest: string,
  oldDigest: string,
  blob: Buffer,
  fixDiffId = false,
) {
  const blobs = join(ociDir, 'blobs/sha256');
  const index = JSON.parse((await readFile(join(ociDir, 'index.json'))).toString());
  const currentManifestDigest: string = index.manifests[0].digest ?? manifestDigest;
  const manifest = JSON.parse((await readFile(join(blobs, currentManifestDigest.slice(7)))).toString());
  const layerAt = manifest.layers.findIndex((l: { digest: string }) => l.digest === oldDigest);
  const at = Math.max(layerAt, 0);
  const newDigest = sha256(blob);
  await writeFile(join(blobs, newDigest.slice(7)), blob);
  manifest.layers[at] = { ...manifest.layers[at], digest: newDigest, size: blob.length };
  if (fixDiffId) {
    const config = JSON.parse((await readFile(join(blobs, manifest.config.digest.slice(7)))).toString());
    config.rootfs.diff_ids[at] = newDigest;
    const configBytes = Buffer.from(JSON.stringify(config));
    await writeFile(join(blobs, sha256(configBytes).slice(7)), configBytes);
    manifest.config = { ...manifest.config, digest: sha256(configBytes), size: configBytes.length };
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  await writeFile(join(blobs, sha256(manifestBytes).slice(7)), manifestBytes);
  index.manifests[0] = { ...index.manifests[0], digest: sha256(manifestBytes), size: manifestBytes.length };
  await writeFile(join(ociDir, 'index.json'), JSON.stringify(index));
}
