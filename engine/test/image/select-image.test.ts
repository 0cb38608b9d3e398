import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { openTarget } from '../../src/image/open.js';
import { buildImage, buildMultiImageDockerArchive } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, selectorFor } from './select.js';

const PLATFORM_FILE = selectorFor(['/etc/lading-platform', '/etc/name']);
const BASE = [[{ type: 'file' as const, path: '/etc/os-release', content: 'ID=debian\n' }]];

async function platformOf(spec: string, platform?: string) {
  const opened = await openTarget(spec, platform ? { platform } : {});
  try {
    const walked = await opened.walk(PLATFORM_FILE, LIMITS);
    return { target: opened.target, marker: walked.files.get('/etc/lading-platform')?.content.toString().trim() };
  } finally {
    await opened.close();
  }
}

describe('choosing an image', () => {
  test('a multi-platform index: default linux/amd64, --platform picks, clear error lists platforms', async (t) => {
    const built = await buildImage(await tempDir(t), {
      layers: BASE,
      platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'],
      compression: 'zstd',
    });
    for (const form of [`oci:${built.ociDir}`, `oci-archive:${built.ociArchive}`]) {
      const amd = await platformOf(form);
      assert.equal(amd.marker, 'linux/amd64');
      assert.equal(amd.target.digest, built.images[0]?.manifestDigest);
      const arm = await platformOf(form, 'linux/arm64');
      assert.equal(arm.marker, 'linux/arm64/v8', 'arm64 means arm64/v8');
      assert.equal(arm.target.platform, 'linux/arm64/v8');
      assert.equal(arm.target.imageId, built.images[1]?.configDigest);
      assert.equal((await platformOf(form, 'linux/arm/v7')).marker, 'linux/arm/v7');
      await assert.rejects(platformOf(form, 'linux/s390x'), (err) => {
        assert.ok(isLadingError(err));
        assert.equal(err.exitCode, 3);
        assert.match(
          err.message,
          /no image for linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)/,
        );
        return true;
      });
    }
  });

  test('a single-platform image asked for with another --platform is refused, not scanned as it is', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: BASE });
    const form = `oci:${built.ociDir}`;
    assert.equal((await platformOf(form)).target.platform, 'linux/amd64');
    assert.equal((await platformOf(form, 'linux/amd64')).target.platform, 'linux/amd64');
    await assert.rejects(platformOf(form, 'linux/arm64'), (err) => {
      assert.ok(isLadingError(err));
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /is an image for linux\/amd64 only, not linux\/arm64$/);
      return true;
    });
  });

  test('OCI layouts pick by @digest too', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: BASE, platforms: ['linux/amd64', 'linux/arm64'] });
    const arm = built.images[1]!;
    const { target, marker } = await platformOf(`oci:${built.ociDir}@${arm.manifestDigest}`);
    assert.equal(marker, 'linux/arm64');
    assert.equal(target.digest, arm.manifestDigest);
    assert.equal(target.ref, `oci:${built.ociDir}@${arm.manifestDigest}`);
  });

  test('a docker-archive with several images picks by tag, by @index, or lists the tags', async (t) => {
    const file = join(await tempDir(t), 'many.tar');
    const images = await buildMultiImageDockerArchive(file, [
      { layers: [[{ type: 'file', path: '/etc/name', content: 'one' }]], tags: ['team/one:1', 'team/one:latest'] },
      { layers: [[{ type: 'file', path: '/etc/name', content: 'two' }]], tags: ['docker.io/library/two:2'] },
    ]);
    async function nameOf(spec: string) {
      const opened = await openTarget(spec);
      try {
        return {
          name: (await opened.walk(PLATFORM_FILE, LIMITS)).files.get('/etc/name')?.content.toString(),
          target: opened.target,
        };
      } finally {
        await opened.close();
      }
    }
    assert.equal((await nameOf(`docker-archive:${file}:team/one:1`)).name, 'one');
    assert.equal((await nameOf(`docker-archive:${file}:team/one`)).name, 'one', 'no tag means latest');
    const two = await nameOf(`docker-archive:${file}:two:2`);
    assert.equal(two.name, 'two', 'docker.io/library/ is implied');
    assert.equal(two.target.imageId, images[1]?.configDigest);
    assert.deepEqual(two.target.repoTags, ['docker.io/library/two:2']);
    assert.equal((await nameOf(`docker-archive:${file}:@1`)).name, 'two');
    await assert.rejects(openTarget(`docker-archive:${file}`), (err) => {
      assert.ok(isLadingError(err));
      assert.match(err.message, /holds 2 images.*team\/one:1, team\/one:latest, docker.io\/library\/two:2/);
      return true;
    });
  });
});
