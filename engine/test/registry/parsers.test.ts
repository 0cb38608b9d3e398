import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LadingError } from '../../src/errors/lading-error.js';
import { parseChallenges } from '../../src/registry/challenge.js';
import { credentialsFor, loadDockerConfig } from '../../src/registry/docker-config.js';
import { parseImageIndex, parseImageManifest } from '../../src/registry/manifest.js';
import { parsePlatform, rankByPlatform } from '../../src/registry/platform.js';
import { tempDir } from '../helpers/tmp.js';

describe('WWW-Authenticate parsing', () => {
  it('reads Docker Hub, GHCR and basic challenges', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/alpine:pull',
          },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    assert.deepEqual(parseChallenges('bearer realm=https://x/token, scope="a:b:pull,push"'), [
      { scheme: 'bearer', params: { realm: 'https://x/token', scope: 'a:b:pull,push' } },
    ]);
  });

  it('keeps escaped quotes and never throws or loops on arbitrary headers (property)', () => {
    assert.equal(parseChallenges('Bearer realm="a\\"b"')[0]?.params['realm'], 'a"b');
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const out = parseChallenges(s);
        assert.ok(Array.isArray(out));
      }),
    );
  });
});

describe('docker config', () => {
  it('reads auths in every key form, identity tokens, and rejects malformed entries with CONFIG', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'config.json');
    await writeFile(
      path,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw:with:colons').toString('base64') },
          'reg.example.com:5000': { identitytoken: 'idt' },
          'http://other.example/v2/': { username: 'u', password: 'p' },
          'bad.example': { auth: Buffer.from('nocolon').toString('base64') },
        },
      }),
    );
    const config = await loadDockerConfig(path);
    assert.deepEqual(await credentialsFor(config, 'docker.io'), { username: 'hub', password: 'pw:with:colons' });
    assert.deepEqual(await credentialsFor(config, 'reg.example.com:5000'), { identityToken: 'idt' });
    assert.deepEqual(await credentialsFor(config, 'other.example'), { username: 'u', password: 'p' });
    assert.equal(await credentialsFor(config, 'unknown.example'), undefined);
    await assert.rejects(credentialsFor(config, 'bad.example'), (e: unknown) => (e as LadingError).code === 'CONFIG');
  });

  it('treats a missing file as empty and wrong shapes as CONFIG errors', async (t) => {
    const dir = await tempDir(t);
    assert.deepEqual(await loadDockerConfig(join(dir, 'absent.json')), { auths: {}, credHelpers: {} });
    for (const content of ['[]', '{"auths": []}', '{"credHelpers": "x"}', '\u0000garbage']) {
      const path = join(dir, 'c.json');
      await writeFile(path, content);
      await assert.rejects(loadDockerConfig(path), (e: unknown) => e instanceof LadingError && e.code === 'CONFIG');
    }
  });
});

describe('manifests and platforms', () => {
  it('rejects hostile manifests with BAD_INPUT, never a TypeError (property)', () => {
    const anyJson = fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v)));
    const bytes = fc.oneof(
      anyJson,
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        for (const parse of [parseImageManifest, parseImageIndex]) {
          try {
            parse(b, 'm');
          } catch (err) {
            assert.ok(err instanceof LadingError && err.code === 'BAD_INPUT', String(err));
          }
        }
      }),
    );
    assert.throws(
      () =>
        parseImageManifest(
          Buffer.from('{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:zz","size":1},"layers":[]}'),
          'm',
        ),
      /invalid digest/,
    );
  });

  it('prefers the architecture default variant and exact variants', () => {
    const entries = [
      { name: 'v6', platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { name: 'v7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { name: 'arm64', platform: { os: 'linux', architecture: 'arm64' } },
      { name: 'amd64', platform: { os: 'linux', architecture: 'amd64' } },
    ];
    assert.deepEqual(
      rankByPlatform(parsePlatform('linux/arm'), entries).map((e) => e.name),
      ['v7', 'v6'],
    );
    assert.deepEqual(
      rankByPlatform(parsePlatform('linux/arm/v6'), entries).map((e) => e.name),
      ['v6'],
    );
    assert.deepEqual(
      rankByPlatform(parsePlatform('linux/arm64/v8'), entries).map((e) => e.name),
      ['arm64'],
    );
    assert.throws(
      () => parsePlatform('linux'),
      (e: unknown) => (e as LadingError).code === 'USAGE',
    );
    assert.throws(
      () => parsePlatform('linux/amd64/v1/x'),
      (e: unknown) => (e as LadingError).code === 'USAGE',
    );
  });
});
