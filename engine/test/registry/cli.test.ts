// The registry path end to end through the real CLI: exit codes and one-line errors users see.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { type BuiltImage, buildImage } from '../helpers/images.js';
import { skopeoCopy, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

describe('lading sbom against a registry', () => {
  const t = suiteCleanup();
  let open: TestRegistry;
  let locked: TestRegistry;
  let image: BuiltImage;
  const env = { DOCKER_CONFIG: '/nonexistent/docker-config' };

  before(async () => {
    open = await startRegistry(t);
    locked = await startRegistry(t, { auth: { username: 'u', password: 'p' } });
    const dir = await tempDir(t);
    image = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\n' }]],
      tag: 'cli:1',
    });
    await skopeoCopy(`oci:${image.ociDir}:1`, `docker://${open.host}/cli/app:1`);
    await skopeoCopy(`oci:${image.ociDir}:1`, `docker://${locked.host}/cli/app:1`, ['--dest-creds', 'u:p']);
  });

  it('reads an image by bare reference and reports its registry identity', async () => {
    const r = await runCli(['sbom', `${open.host}/cli/app:1`, '-o', 'json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { target: { ref: string; digest: string; imageId: string } };
    assert.equal(report.target.ref, `${open.host}/cli/app:1`);
    assert.equal(report.target.digest, image.manifestDigest);
    assert.equal(report.target.imageId, image.configDigest);
  });

  it('exits 3 with one line naming the reference when it does not exist or access is denied', async () => {
    for (const [ref, pattern] of [
      [`registry:${open.host}/cli/app:absent`, /not found/],
      [`registry:${locked.host}/cli/app:1`, /authentication required/],
    ] as const) {
      const r = await runCli(['sbom', ref, '-o', 'json'], { env });
      assert.equal(r.code, 3, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`^lading: .*${ref.slice('registry:'.length).replace(/[.]/g, '\\.')}`));
      assert.match(lines[0]!, pattern);
    }
  });

  it('exits 2 on an invalid reference', async () => {
    const r = await runCli(['sbom', 'registry:Bad/Repo:x', '-o', 'json'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /invalid image reference "Bad\/Repo:x": repository name must be lowercase/);
  });
});
