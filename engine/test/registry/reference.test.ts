import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LadingError } from '../../src/errors/lading-error.js';
import { RegistryClient } from '../../src/registry/client.js';
import { formatReference, parseReference, toReference, toRepository } from '../../src/registry/reference.js';

const HEX = 'a'.repeat(64);

describe('parseReference', () => {
  it('normalizes Docker Hub short names like docker does', () => {
    assert.deepEqual(parseReference('alpine'), { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' });
    assert.deepEqual(parseReference('alpine:3.19'), {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: '3.19',
    });
    assert.deepEqual(parseReference('bitnami/redis'), {
      registry: 'docker.io',
      repository: 'bitnami/redis',
      tag: 'latest',
    });
    assert.deepEqual(parseReference('index.docker.io/library/busybox:1'), {
      registry: 'docker.io',
      repository: 'library/busybox',
      tag: '1',
    });
  });

  it('reads host:port, nested paths, tag and digest together', () => {
    assert.deepEqual(parseReference(`127.0.0.1:5000/team/app/web:v1.2@sha256:${HEX}`), {
      registry: '127.0.0.1:5000',
      repository: 'team/app/web',
      tag: 'v1.2',
      digest: `sha256:${HEX}`,
    });
    assert.deepEqual(parseReference('localhost/app'), { registry: 'localhost', repository: 'app', tag: 'latest' });
    assert.deepEqual(parseReference('[::1]:5000/app:x'), { registry: '[::1]:5000', repository: 'app', tag: 'x' });
    assert.deepEqual(parseReference('ghcr.io/acme/api@sha256:' + HEX), {
      registry: 'ghcr.io',
      repository: 'acme/api',
      digest: `sha256:${HEX}`,
    });
  });

  it('treats a first component with uppercase as a host, as docker does', () => {
    assert.equal(parseReference('Registry/app').registry, 'Registry');
  });

  for (const bad of [
    '',
    'UPPER/Case',
    'docker.io/Library/alpine',
    'alpine:',
    'alpine:-bad',
    `alpine@sha256:${'A'.repeat(64)}`,
    'alpine@sha256:abc',
    `alpine@md5:${'a'.repeat(32)}`,
    'a//b',
    'host:port:x/app',
    '-leading/app',
    `x/${'a'.repeat(300)}`,
    `alpine:${'t'.repeat(129)}`,
  ]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 40))} with a USAGE error`, () => {
      assert.throws(
        () => parseReference(bad),
        (err: unknown) => err instanceof LadingError && err.code === 'USAGE' && !err.message.includes('\n'),
      );
    });
  }

  it('formats back to a reference that parses to the same thing (property)', () => {
    const component = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/).filter((s) => s.length <= 30);
    const ref = fc.record({
      registry: fc.constantFrom('docker.io', 'ghcr.io', '127.0.0.1:5000', 'localhost:8080', 'reg.example.com'),
      path: fc.array(component, { minLength: 1, maxLength: 3 }),
      tag: fc.option(fc.stringMatching(/^[\w][\w.-]{0,20}$/), { nil: undefined }),
      digest: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: undefined }),
    });
    fc.assert(
      fc.property(ref, (r) => {
        let s = `${r.registry}/${r.path.join('/')}`;
        if (r.tag) s += `:${r.tag}`;
        if (r.digest) s += `@sha256:${r.digest}`;
        const parsed = parseReference(s);
        assert.deepEqual(parseReference(formatReference(parsed)), parsed);
        if (r.registry !== 'docker.io') assert.equal(parsed.repository, r.path.join('/'));
      }),
    );
  });

  it('never throws anything but a LadingError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        try {
          parseReference(s);
        } catch (err) {
          assert.ok(err instanceof LadingError && err.code === 'USAGE');
        }
      }),
    );
  });

  it('checks references built as objects too, before any part reaches a URL path', async () => {
    const usage = (err: unknown) => err instanceof LadingError && err.code === 'USAGE';
    assert.throws(() => toReference({ registry: '127.0.0.1:5000', repository: '../../v2/x', tag: 'a' }), usage);
    assert.throws(() => toRepository({ registry: 'bad host', repository: 'x' }), usage);
    assert.throws(() => toReference({ registry: 'ghcr.io', repository: 'a/b', tag: 'a/../b' }), usage);
    const client = new RegistryClient({ dockerConfigPath: '/nonexistent/config.json' });
    await assert.rejects(client.putManifest('127.0.0.1:9/x', '../../blobs/uploads', Buffer.from('{}'), 'x'), usage);
  });
});
