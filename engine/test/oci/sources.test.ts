// The platform rule is the same whatever the image came from: an OCI layout, an OCI archive, a registry (Debian's
// docker-registry, fed by skopeo), a docker-archive.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { openTarget } from '../../src/image/open.js';
import { type BuiltImage, buildImage, sha256 } from '../helpers/images.js';
import { skopeoCopy, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, selectorFor } from '../image/select.js';

const BASE = [[{ type: 'file' as const, path: '/etc/os-release', content: 'ID=debian\n' }]];

async function digestOf(spec: string, platform: string): Promise<string | undefined> {
  const opened = await openTarget(spec, { platform });
  try {
    return opened.target.digest;
  } finally {
    await opened.close();
  }
}

describe('one multi-platform index, every source: the same manifest', () => {
  const t = suiteCleanup();
  let registry: TestRegistry;
  let built: BuiltImage;

  before(async () => {
    registry = await startRegistry(t);
    // v6 is listed before v7 and v5 last, so index order alone cannot explain a choice.
    built = await buildImage(join(await tempDir(t), 'multi'), {
      layers: BASE,
      platforms: ['linux/arm/v6', 'linux/amd64', 'linux/arm/v7', 'linux/arm64', 'linux/arm/v5'],
      tag: 'multi:1',
    });
    await skopeoCopy(`oci:${built.ociDir}:1`, `docker://${registry.host}/eq/multi:1`, ['--all']);
  });

  const expected: [asked: string, chosen: string][] = [
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/arm/v7', 'linux/arm/v7'],
    ['linux/arm/v8', 'linux/arm/v7'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/amd64', 'linux/amd64'],
  ];
  for (const [asked, chosen] of expected) {
    it(`--platform ${asked} → ${chosen} from the layout, the archive and the registry`, async () => {
      const want = built.images.find((i) => i.platform === chosen)?.manifestDigest;
      assert.ok(want);
      const got = {
        layout: await digestOf(`oci:${built.ociDir}`, asked),
        archive: await digestOf(`oci-archive:${built.ociArchive}`, asked),
        registry: await digestOf(`${registry.host}/eq/multi:1`, asked),
      };
      assert.deepEqual(got, { layout: want, archive: want, registry: want });
    });
  }

  it('a platform the index lacks fails the same way from each source', async () => {
    const messages: string[] = [];
    for (const spec of [`oci:${built.ociDir}`, `${registry.host}/eq/multi:1`]) {
      await assert.rejects(digestOf(spec, 'linux/s390x'), (err) => {
        assert.ok(isLadingError(err));
        assert.equal(err.code, 'NOT_FOUND');
        messages.push(err.message.slice(err.message.indexOf(' has no image')));
        return true;
      });
    }
    assert.equal(messages[0], messages[1]);
    assert.match(
      messages[0] ?? '',
      /has no image for linux\/s390x \(available: linux\/arm\/v6, linux\/amd64, linux\/arm\/v7, linux\/arm64, linux\/arm\/v5\)/,
    );
  });
});

describe('--platform and a single-platform image', () => {
  it('a docker-archive of another platform is refused as a single-platform OCI image is', async (t) => {
    const dir = await tempDir(t);
    const plain = await buildImage(join(dir, 'plain'), { layers: BASE, platforms: ['linux/arm/v7'] });
    const gzipped = await buildImage(join(dir, 'gz'), {
      layers: BASE,
      platforms: ['linux/arm/v7'],
      gzipDockerArchive: true,
    });
    const refusal = async (spec: string, platform: string): Promise<string> => {
      const opened = openTarget(spec, { platform });
      // A compressed archive is described by the pass that walks it: the refusal may come from the walk.
      const failure = await opened.then(
        async (o) => {
          try {
            await o.walk(selectorFor([]), LIMITS);
            return undefined;
          } catch (err) {
            return err;
          } finally {
            await o.close();
          }
        },
        (err: unknown) => err,
      );
      assert.ok(isLadingError(failure), `${spec} --platform ${platform} was not refused`);
      assert.equal(failure.code, 'NOT_FOUND');
      return failure.message.slice(failure.message.indexOf(' is an image for'));
    };
    const fromOci = await refusal(`oci:${plain.ociDir}`, 'linux/arm64');
    assert.equal(fromOci, ' is an image for linux/arm/v7 only, not linux/arm64');
    assert.equal(await refusal(`docker-archive:${plain.dockerArchive}`, 'linux/arm64'), fromOci);
    assert.equal(await refusal(`docker-archive:${gzipped.dockerArchive}`, 'linux/arm64'), fromOci);
    assert.equal(
      await refusal(`docker-archive:${plain.dockerArchive}`, 'linux/arm/v6'),
      ' is an image for linux/arm/v7 only, not linux/arm/v6',
    );
    // What the rule accepts, the docker-archive accepts: the same variant, or a request its CPU runs it on.
    for (const platform of ['linux/arm', 'linux/arm/v7', 'linux/arm/v8']) {
      const opened = await openTarget(`docker-archive:${plain.dockerArchive}`, { platform });
      assert.equal(opened.target.platform, 'linux/arm/v7');
      await opened.close();
    }
  });
});

describe('what is not a container image', () => {
  it('an OCI layout holding an artifact is refused as a registry refuses it', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: BASE });
    const blob = (digest: string) => join(built.ociDir, 'blobs/sha256', digest.slice('sha256:'.length));
    const manifest = JSON.parse(await readFile(blob(built.manifestDigest), 'utf8'));
    manifest.config.mediaType = 'application/vnd.cncf.helm.config.v1+json';
    const bytes = Buffer.from(JSON.stringify(manifest));
    await writeFile(blob(sha256(bytes)), bytes);
    const index = JSON.parse(await readFile(join(built.ociDir, 'index.json'), 'utf8'));
    index.manifests[0] = { ...index.manifests[0], digest: sha256(bytes), size: bytes.length };
    await writeFile(join(built.ociDir, 'index.json'), JSON.stringify(index));
    await assert.rejects(openTarget(`oci:${built.ociDir}`), (err) => {
      assert.ok(isLadingError(err));
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(
        err.message,
        /is not a container image \(its config is application\/vnd\.cncf\.helm\.config\.v1\+json\)/,
      );
      return true;
    });
  });
});
