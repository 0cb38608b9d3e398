import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { buildImage } from '../../engine/test/helpers/images.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

describe('--platform means the same for a docker-archive as for a registry image', () => {
  it('scans an amd64 docker-archive for linux/amd64 and refuses it for linux/arm64', async (t) => {
    const dir = await tempDir(t);
    const image = await buildImage(dir, {
      layers: [[{ type: 'file', path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.20.3\n' }]],
      platforms: ['linux/amd64'],
    });
    const target = `docker-archive:${image.dockerArchive}`;
    const [amd64, arm64] = await Promise.all([
      runCli(['sbom', target, '--platform', 'linux/amd64', '-o', 'spdx-json', '-q']),
      runCli(['sbom', target, '--platform', 'linux/arm64', '-o', 'spdx-json', '-q']),
    ]);
    assert.equal(amd64.code, 0, amd64.stderr);
    assert.match(amd64.stdout, /"spdxVersion"/);
    assert.equal(arm64.code, 3, 'the wrong platform is refused (not found), not scanned anyway');
    assert.equal(arm64.stdout, '');
    assert.match(arm64.stderr, /^lading: .* is an image for linux\/amd64 only, not linux\/arm64$/m);
    assert.equal(arm64.stderr.trim().split('\n').length, 1, arm64.stderr);
  });
});
