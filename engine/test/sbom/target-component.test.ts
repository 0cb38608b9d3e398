import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeTarget } from '../../src/sbom/target-component.js';

const DIGEST = 'sha256:244fd47e07d1004f0aed9c156aa09083c65a1cb6bdd3c47ca4a8ac4a82bc9f27';

describe('the scanned target as the SBOM root', () => {
  it('registry image: repository and tag, oci purl named by the last path segment with repository_url', () => {
    assert.deepEqual(
      describeTarget({
        kind: 'image',
        ref: 'docker.io/library/debian:latest',
        digest: DIGEST,
        platform: 'linux/amd64',
        layers: [],
      }),
      {
        type: 'container',
        name: 'docker.io/library/debian',
        version: 'latest',
        digest: DIGEST,
        purl: `pkg:oci/debian@sha256:244fd47e07d1004f0aed9c156aa09083c65a1cb6bdd3c47ca4a8ac4a82bc9f27?arch=amd64&repository_url=docker.io%2Flibrary%2Fdebian&tag=latest`,
      },
    );
  });

  it('registry port and digest references parse; no digest means no purl', () => {
    const d = describeTarget({ kind: 'image', ref: 'registry:127.0.0.1:5000/team/App@sha256:abc', layers: [] });
    assert.deepEqual(d, { type: 'container', name: '127.0.0.1:5000/team/App' });
  });

  it('docker-archive: named by its first repo tag, else by its file', () => {
    const tagged = describeTarget({
      kind: 'image',
      ref: 'docker-archive:/tmp/x.tar',
      repoTags: ['acme/api:1.4.2'],
      digest: DIGEST,
      layers: [],
    });
    assert.equal(tagged.name, 'acme/api');
    assert.equal(tagged.version, '1.4.2');
    assert.match(tagged.purl ?? '', /^pkg:oci\/api@sha256:244f.*repository_url=acme%2Fapi&tag=1\.4\.2$/);
    const bare = describeTarget({ kind: 'image', ref: 'docker-archive:/tmp/x.tar', digest: DIGEST, layers: [] });
    assert.equal(bare.name, '/tmp/x.tar');
    assert.equal(bare.version, DIGEST);
  });

  it('a root filesystem is a file component named by its path', () => {
    assert.deepEqual(describeTarget({ kind: 'rootfs', ref: 'dir:/srv/rootfs', layers: [] }), {
      type: 'file',
      name: '/srv/rootfs',
    });
  });
});
