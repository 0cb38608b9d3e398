// Every layer of an uncompressed docker-archive is what its digest says, by default: layers read in place are
// hashed beside the walk, so replaced bytes are refused (exit 3) in each of the layouts `docker save` has used, and
// an archive naming a member twice (where the last copy would win for tar but not for an index) is refused.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { layerTar, sha256, writeTar } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { failsWith, openAndWalk } from './walk-failures.js';

const FILES = [
  { type: 'file' as const, path: '/etc/os-release', content: 'ID=debian\n' },
  { type: 'file' as const, path: '/var/lib/dpkg/status', content: 'Package: musl\nVersion: 1.2.3\n' },
];

/** The same tar with one byte of a file's content changed (the tar stays well formed; only the digest differs). */
function tampered(layer: Buffer): Buffer {
  const copy = Buffer.from(layer);
  const at = copy.indexOf('musl');
  assert.ok(at > 0);
  copy[at] = 'n'.charCodeAt(0);
  return copy;
}

function configFor(diffId: string): Buffer {
  return Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }),
  );
}

async function archive(
  dir: string,
  name: string,
  layerName: (diffId: string) => string,
  members: (layer: Buffer, layerMember: string) => { name: string; content: Buffer }[],
): Promise<{ file: string; member: string }> {
  const layer = await layerTar(FILES);
  const diffId = sha256(layer);
  const config = configFor(diffId);
  const configName = `${sha256(config).slice(7)}.json`;
  const member = layerName(diffId);
  const file = join(dir, name);
  await writeTar(file, [
    {
      name: 'manifest.json',
      content: Buffer.from(JSON.stringify([{ Config: configName, RepoTags: ['x:1'], Layers: [member] }])),
    },
    { name: configName, content: config },
    ...members(layer, member),
  ]);
  return { file, member };
}

const LAYOUTS = {
  /** `docker save` since 25: OCI-style blobs named by digest. */
  digestNamed: (diffId: string) => `blobs/sha256/${diffId.slice(7)}`,
  /** Older `docker save`: `<id>/layer.tar`, a name no digest is read from. */
  legacy: () => `${'ab'.repeat(32)}/layer.tar`,
};

describe('uncompressed docker-archive layers are checked against their digests by default', () => {
  for (const [layout, layerName] of Object.entries(LAYOUTS)) {
    test(`${layout}: the untouched archive walks`, async (t) => {
      const { file } = await archive(await tempDir(t), 'good.tar', layerName, (layer, m) => [
        { name: m, content: layer },
      ]);
      const walked = await openAndWalk(`docker-archive:${file}`);
      assert.equal(walked.files.get('/var/lib/dpkg/status')?.content.toString(), 'Package: musl\nVersion: 1.2.3\n');
      assert.equal(walked.verified, true);
    });

    test(`${layout}: replaced layer bytes are a digest mismatch (exit 3)`, async (t) => {
      const { file } = await archive(await tempDir(t), 'bad.tar', layerName, (layer, m) => [
        { name: m, content: tampered(layer) },
      ]);
      await assert.rejects(openAndWalk(`docker-archive:${file}`), failsWith('DIGEST_MISMATCH', /diff-id|digest/, file));
    });
  }

  test('a layer member present twice (the last copy tampered) is refused, naming the member', async (t) => {
    const { file, member } = await archive(await tempDir(t), 'twice.tar', LAYOUTS.legacy, (layer, m) => [
      { name: m, content: layer },
      { name: m, content: tampered(layer) },
    ]);
    await assert.rejects(openAndWalk(`docker-archive:${file}`), failsWith('BAD_INPUT', /more than once/, member));
  });

  test('the CLI exits 3 on a tampered legacy docker-archive, with one line', async (t) => {
    const { file } = await archive(await tempDir(t), 'bad.tar', LAYOUTS.legacy, (layer, m) => [
      { name: m, content: tampered(layer) },
    ]);
    const r = await runCli(['sbom', `docker-archive:${file}`, '--no-cache', '-q']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /diff-id|digest/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
