import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { readSbomFile } from '../../src/sbom/read.js';

const FIXTURES = new URL('../fixtures/sbom/', import.meta.url).pathname;

function summary(pkgs: { type: string; name: string; version: string }[]): string[] {
  return pkgs.map((p) => `${p.type}:${p.name}@${p.version}`).sort();
}

describe('reading SBOMs other tools wrote', () => {
  it("Trivy's CycloneDX 1.5: packages, OS from its OS component, source, layers, grouping components skipped", async () => {
    const { target, inventory } = await readSbomFile(`${FIXTURES}trivy-cyclonedx-1.5.json`);
    assert.deepEqual(summary(inventory.packages), [
      'apk:musl@1.2.3-r0',
      'composer:pear/log@1.13.1',
      'composer:pear/pear_exception@v1.0.0',
      'golang:github.com/package-url/packageurl-go@v0.1.1-0.20220203205134-d70459300c8a',
      'maven:org.codehaus.mojo:child-project@1.0',
      'npm:bootstrap@5.0.2',
    ]);
    // The inventory records the release and its end-of-life date; whether it has passed is judged for a moment.
    assert.deepEqual(inventory.os, {
      family: 'alpine',
      version: '3.16.0',
      ecosystem: 'Alpine:v3.16',
      eolDate: '2024-05-23',
    });
    const musl = inventory.packages.find((p) => p.name === 'musl');
    assert.deepEqual(musl?.source, { name: 'musl', version: '1.2.3-r0' });
    assert.deepEqual(musl?.licenses, ['MIT']);
    const jar = inventory.packages.find((p) => p.type === 'maven');
    assert.equal(jar?.locations[0]?.path, '/app/maven/target/child-project-1.0.jar');
    assert.equal(jar?.locations[0]?.layer, 'sha256:3c79e832b1b4891a1cb4a326ef8524e0bd14a2537150ac0e203a5677176c1ca1');
    assert.equal(target.kind, 'sbom');
    assert.equal(target.ref, `sbom:${FIXTURES}trivy-cyclonedx-1.5.json`);
    assert.equal(target.imageId, 'sha256:49193a2310dbad4c02382da87ac624a80a92387a4f7536235f9ba590e5bcd7b5');
    assert.equal(target.layers.length, 2);
    assert.deepEqual(inventory.warnings, [], 'grouping components are structure, not skipped packages');
    assert.equal(new Set(inventory.packages.map((p) => p.id)).size, inventory.packages.length);
  });

  it("Trivy's SPDX 2.2: same packages as its CycloneDX, source from sourceInfo, layer from attribution texts", async () => {
    const { inventory, target } = await readSbomFile(`${FIXTURES}trivy-spdx-2.2.json`);
    assert.deepEqual(summary(inventory.packages), [
      'apk:musl@1.2.3-r0',
      'maven:org.codehaus.mojo:child-project@1.0',
      'npm:bootstrap@5.0.2',
    ]);
    assert.equal(inventory.os?.ecosystem, 'Alpine:v3.16');
    assert.deepEqual(inventory.packages.find((p) => p.name === 'musl')?.source, { name: 'musl', version: '1.2.3-r0' });
    assert.equal(
      inventory.packages[0]?.locations[0]?.layer,
      'sha256:dd565ff850e7003356e2b252758f9bdc1ff2803f61e995e24c7844f6297f8fc3',
    );
    assert.deepEqual(target.repoTags, ['maven-test-project:latest', 'tmp-test:latest']);
  });

  it("Syft's CycloneDX 1.5 (legacy tools array): a Go module with its location", async () => {
    const { inventory } = await readSbomFile(`${FIXTURES}syft-cyclonedx-1.5-gomod.json`);
    assert.deepEqual(summary(inventory.packages), [
      'golang:github.com/wagoodman/go-partybus@v0.0.0-20230516145632-8ccac152c651',
    ]);
    assert.deepEqual(inventory.packages[0]?.locations, [{ path: '/go.mod' }]);
    assert.equal(inventory.os, undefined);
  });

  it("Syft's SPDX 2.3: an invalid purl falls back to the CPE and Syft's package type, with a warning", async () => {
    const { inventory, target } = await readSbomFile(`${FIXTURES}syft-spdx-2.3-image.json`);
    assert.deepEqual(summary(inventory.packages), ['deb:package-2@2.0.1', 'pypi:package-1@1.0.1']);
    assert.equal(inventory.packages.find((p) => p.type === 'pypi')?.purl, 'pkg:pypi/package-1@1.0.1');
    assert.equal(target.digest, 'sha256:2731251dc34951c0e50fcc643b4c5f74922dad1a5d98f302b504cf46cd5d9368');
    assert.equal(inventory.warnings.length, 1);
    assert.match(inventory.warnings[0]?.message ?? '', /CPE.*: 1 \(e\.g\. package-1@1\.0\.1\)/);
  });

  it('recovers OS and source from Syft-style purl qualifiers when there is no OS component', async () => {
    const doc = {
      bomFormat: 'CycloneDX',
      specVersion: '1.4',
      components: [
        {
          type: 'library',
          name: 'libc6',
          version: '2.36-9+deb12u4',
          purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc&distro=debian-12',
        },
        {
          type: 'library',
          name: 'libgcc-s1',
          version: '12.2.0-14',
          purl: 'pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&upstream=gcc-12%4012.2.0-14&distro=debian-12',
        },
        {
          type: 'library',
          name: 'openssl-libs',
          version: '1:3.0.7-24.el9',
          purl: 'pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&epoch=1&upstream=openssl-3.0.7-24.el9.src.rpm&distro=redhat-9.2',
        },
        { type: 'library', name: 'left-pad', purl: 'pkg:github/left-pad/left-pad@1.3.0' },
        // Trivy's spelling: the epoch only in the purl.
        {
          type: 'library',
          name: 'bsdutils',
          version: '2.38.1-5+deb12u3',
          purl: 'pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&epoch=1&distro=debian-12.11',
          properties: [
            { name: 'aquasecurity:trivy:SrcName', value: 'util-linux' },
            { name: 'aquasecurity:trivy:SrcVersion', value: '2.38.1' },
            { name: 'aquasecurity:trivy:SrcRelease', value: '5+deb12u3' },
          ],
        },
        { type: 'library', name: 'mystery' },
        {
          type: 'library',
          name: 'outer',
          purl: 'pkg:npm/outer@1.0.0',
          components: [{ type: 'library', name: 'inner', version: '2.0.0', purl: 'pkg:npm/inner@2.0.0' }],
        },
      ],
    };
    const { parseSbom } = await import('../../src/sbom/read.js');
    const { inventory } = parseSbom(JSON.stringify(doc), 'x.json');
    assert.deepEqual(
      { ...inventory.os, eol: undefined },
      { family: 'debian', version: '12', ecosystem: 'Debian:12', eolDate: '2028-06-30', eol: undefined },
    );
    const by = (name: string) => inventory.packages.find((p) => p.name === name);
    assert.deepEqual(by('libc6')?.source, { name: 'glibc' });
    assert.deepEqual(by('libgcc-s1')?.source, { name: 'gcc-12', version: '12.2.0-14' });
    assert.deepEqual(by('openssl-libs')?.source, { name: 'openssl', version: '3.0.7-24.el9' });
    assert.equal(by('libc6')?.arch, 'amd64');
    assert.equal(by('bsdutils')?.version, '1:2.38.1-5+deb12u3');
    assert.deepEqual(by('bsdutils')?.source, { name: 'util-linux', version: '2.38.1-5+deb12u3' });
    assert.ok(by('inner'), 'nested components are flattened');
    assert.equal(by('left-pad'), undefined);
    const messages = inventory.warnings.map((w) => w.message).join('\n');
    assert.match(messages, /purl type github.*: 1/);
    assert.match(messages, /neither purl nor CPE: 1 \(e\.g\. mystery\)/);
    assert.match(messages, /3 different distributions; matching them as debian 12/);
  });

  it('fixture files are the real documents (sanity: parse as JSON)', async () => {
    for (const name of [
      'trivy-cyclonedx-1.5.json',
      'trivy-spdx-2.2.json',
      'syft-cyclonedx-1.5-gomod.json',
      'syft-spdx-2.3-image.json',
    ]) {
      JSON.parse(await readFile(`${FIXTURES}${name}`, 'utf8'));
    }
  });
});
