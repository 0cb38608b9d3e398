import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import type { LadingError } from '../../src/errors/lading-error.js';
import { RegistryClient } from '../../src/registry/client.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { MEDIA_TYPES } from '../../src/registry/media-types.js';
import { resolveImage } from '../../src/registry/resolve.js';
import { type BuiltImage, buildImage } from '../helpers/images.js';
import { skopeoCopy, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { isLading, readAll } from './assertions.js';
import { proxyTo, startFront } from './front-server.js';

const NO_CONFIG = '/nonexistent/docker/config.json';
const FAST_RETRY = { retries: 3, baseDelayMs: 5, maxDelayMs: 2000 };

describe('transport: retries, redirects, timeouts, schemes', () => {
  const t = suiteCleanup();
  let registry: TestRegistry;
  let image: BuiltImage;
  const ref = () => `library/app:1`;

  before(async () => {
    registry = await startRegistry(t);
    const dir = await tempDir(t);
    image = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/usr/lib/os-release', content: 'ID=debian\n' }]],
      tag: 'app:1',
    });
    await skopeoCopy(`oci:${image.ociDir}:1`, `docker://${registry.host}/library/app:1`);
  });

  it('retries 503, 429 and a dropped connection, then succeeds', async () => {
    const script = ['503', '429', 'reset'];
    const front = await startFront(t, async (req, res, body) => {
      const next = req.url?.includes('/manifests/') ? script.shift() : undefined;
      if (next === 'reset') req.socket.destroy();
      else if (next === '429') {
        res.writeHead(429, { 'retry-after': '0' });
        res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      } else if (next) {
        res.writeHead(Number(next));
        res.end();
      } else await proxyTo(registry.url, req, res, body);
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, retry: FAST_RETRY });
    const got = await client.getManifest(`${front.host}/${ref()}`);
    assert.equal(got.digest, image.manifestDigest);
    assert.equal(front.seen.filter((r) => r.url.includes('/manifests/')).length, 4);
  });

  it('gives up after the bounded number of attempts with the last status', async () => {
    const front = await startFront(t, (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]}');
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, retry: { ...FAST_RETRY, retries: 2 } });
    await assert.rejects(
      client.getManifest(`${front.host}/${ref()}`),
      isLading('REGISTRY', /503 UNAVAILABLE: maintenance/),
    );
    assert.equal(front.seen.filter((r) => r.url.includes('/manifests/')).length, 3);
  });

  it('honours Retry-After', async () => {
    let first = true;
    const front = await startFront(t, async (req, res, body) => {
      if (first && req.url?.includes('/manifests/')) {
        first = false;
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
      } else await proxyTo(registry.url, req, res, body);
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, retry: FAST_RETRY });
    const started = Date.now();
    await client.getManifest(`${front.host}/${ref()}`);
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
  });

  it('follows a blob redirect to another host without sending Authorization there', async () => {
    const storage = await startFront(t, async (req, res, body) => {
      req.url = (req.url ?? '').replace(/^\/bucket\/([^?]+)\?.*$/, '/v2/library/app/blobs/$1');
      await proxyTo(registry.url, req, res, body);
    });
    const front = await startFront(t, async (req, res, body) => {
      if (req.headers.authorization !== 'Basic dTpw') {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        res.end();
        return;
      }
      const blob = /\/blobs\/(sha256:[0-9a-f]+)$/.exec(req.url ?? '');
      if (blob && req.method === 'GET') {
        // Absolute URL to another origin (`localhost`, another port), as S3 or a CDN would be.
        res.writeHead(307, { location: `http://localhost:${storage.host.split(':')[1]}/bucket/${blob[1]}?sig=abc` });
        res.end();
        return;
      }
      await proxyTo(registry.url, req, res, body);
    });
    const client = new RegistryClient({
      dockerConfigPath: NO_CONFIG,
      credentials: { [front.host]: { username: 'u', password: 'p' } },
    });
    const digest = image.layerDigests[0]!;
    const blob = await readAll(await client.getBlob(`${front.host}/library/app`, digest));
    assert.equal(sha256Digest(blob), digest);
    assert.equal(storage.seen.length, 1);
    assert.equal(storage.seen[0]!.headers.authorization, undefined);
    assert.ok(front.seen.some((r) => r.url.includes('/blobs/') && r.headers.authorization === 'Basic dTpw'));
  });

  it('detects a redirect target serving other bytes', async () => {
    const storage = await startFront(t, (_req, res) => {
      res.writeHead(200);
      res.end('not the layer you asked for');
    });
    const front = await startFront(t, (_req, res) => {
      res.writeHead(302, { location: `${storage.url}/x` });
      res.end();
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const stream = await client.getBlob(`${front.host}/library/app`, image.layerDigests[0]!);
    await assert.rejects(readAll(stream), isLading('DIGEST_MISMATCH'));
  });

  it('times out on a registry that never answers', async () => {
    const { host } = await startFront(t, () => {
      // accepts and never answers
    });
    const client = new RegistryClient({
      dockerConfigPath: NO_CONFIG,
      timeoutMs: 200,
      retry: { ...FAST_RETRY, retries: 1 },
    });
    const started = Date.now();
    await assert.rejects(client.getManifest(`${host}/${ref()}`), isLading('NETWORK', /cannot reach 127\.0\.0\.1/));
    assert.ok(Date.now() - started < 3000);
  });

  it('gives up on a silent server after two timeouts, whatever the retry budget', async (tt) => {
    const silent = await startFront(tt, () => {
      // accepts and never answers
    });
    const host = silent.host;
    const client = new RegistryClient({
      dockerConfigPath: NO_CONFIG,
      timeoutMs: 200,
      retry: { ...FAST_RETRY, retries: 4 },
    });
    await assert.rejects(client.getManifest(`${host}/${ref()}`), isLading('NETWORK', /no answer within 200 ms/));
    assert.equal(silent.seen.length, 2);
  });

  it('rejects Docker schema 1 manifests with a clear message', async () => {
    const schema1 = await readFile(new URL('../fixtures/registry/schema1-manifest.json', import.meta.url));
    const front = await startFront(t, (_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.dockerSchema1Signed });
      res.end(schema1);
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    await assert.rejects(
      resolveImage(client, { registry: front.host, repository: 'old/schema1', tag: '1' }),
      isLading('BAD_INPUT', /old\/schema1:1 is a Docker schema 1 manifest/),
    );
  });

  it('refuses oversized manifests instead of buffering them', async () => {
    const front = await startFront(t, (_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA_TYPES.ociManifest });
      res.end(Buffer.alloc(64 * 1024, 0x20));
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, maxManifestBytes: 16 * 1024 });
    await assert.rejects(client.getManifest(`${front.host}/${ref()}`), isLading('LIMIT'));
  });

  it('uses HTTPS for hosts not declared insecure, and plain HTTP once they are', async () => {
    // 127.0.0.2 is loopback too but not one of the names allowed plain HTTP by default.
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void proxyTo(registry.url, req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    t.after(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const host = `127.0.0.2:${(server.address() as AddressInfo).port}`;
    const strict = new RegistryClient({ dockerConfigPath: NO_CONFIG, retry: { retries: 0 } });
    // The engine names its own option; the CLI shows it as --insecure-registry (describeForCli).
    await assert.rejects(strict.getManifest(`${host}/${ref()}`), (err: unknown) => {
      isLading('NETWORK', /TLS handshake failed.*declare it with the insecureRegistries option/)(err);
      assert.equal((err as LadingError).option, 'insecureRegistries');
      return true;
    });
    const allowed = new RegistryClient({ dockerConfigPath: NO_CONFIG, insecureRegistries: [host] });
    assert.equal((await allowed.getManifest(`${host}/${ref()}`)).digest, image.manifestDigest);
  });

  it('follows tag list pages and reads the OCI 1.1 referrers API where a registry has it', async () => {
    const subject = sha256Digest(Buffer.from('subject'));
    const front = await startFront(t, (req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/app/tags/list') {
        res.writeHead(200, { link: '</v2/app/tags/list?last=b&n=2>; rel="next"', 'content-type': 'application/json' });
        res.end('{"name":"app","tags":["a","b"]}');
      } else if (url === '/v2/app/tags/list?last=b&n=2') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"name":"app","tags":["c"]}');
      } else if (url.startsWith(`/v2/app/referrers/${subject}`)) {
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex });
        res.end(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA_TYPES.ociIndex,
            manifests: [
              { mediaType: MEDIA_TYPES.ociManifest, digest: subject, size: 7, artifactType: 'application/spdx+json' },
              { mediaType: MEDIA_TYPES.ociManifest, digest: subject, size: 7, artifactType: 'application/x-sig' },
            ],
          }),
        );
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    assert.deepEqual(await client.listTags(`${front.host}/app`), ['a', 'b', 'c']);
    const all = await client.getReferrers(`${front.host}/app`, subject);
    assert.deepEqual(
      all.map((d) => d.artifactType),
      ['application/spdx+json', 'application/x-sig'],
    );
    const sboms = await client.getReferrers(`${front.host}/app`, subject, 'application/spdx+json');
    assert.equal(sboms.length, 1);
    assert.ok(front.seen.some((r) => r.url.endsWith('?artifactType=application%2Fspdx%2Bjson')));
    assert.ok(!front.seen.some((r) => r.url.includes('/manifests/')), 'no tag-schema fallback needed');
  });

  it('resumes a blob download cut mid-stream with a Range request, and fails when it cannot', async () => {
    const data = randomBytes(256 * 1024);
    const direct = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const digest = await direct.pushBlob(`${registry.host}/library/app`, data);
    let cuts = 0;
    const front = await startFront(t, async (req, res, body) => {
      if (req.url?.includes('/blobs/') && !req.headers.range && cuts++ === 0) {
        res.writeHead(200, { 'content-length': String(data.length), 'content-type': 'application/octet-stream' });
        res.write(data.subarray(0, 100_000), () => req.socket.destroy());
        return;
      }
      await proxyTo(registry.url, req, res, body);
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, retry: FAST_RETRY });
    const got = await readAll(await client.getBlob(`${front.host}/library/app`, digest));
    assert.deepEqual(got, data);
    const ranged = front.seen.filter((r) => r.headers.range);
    assert.equal(ranged.length, 1);
    assert.match(ranged[0]!.headers.range!, /^bytes=\d+-$/);

    // A server that ignores Range cannot resume: the stream fails with one clear line, not with bad bytes.
    const stubborn = await startFront(t, (_req, res) => {
      res.writeHead(200, { 'content-length': String(data.length) });
      res.write(data.subarray(0, 50_000), () => res.socket?.destroy());
    });
    const stream = await client.getBlob(`${stubborn.host}/library/app`, digest);
    await assert.rejects(readAll(stream), isLading('NETWORK', /cannot resume/));
  });

  it('times out a blob body that stalls mid-stream instead of hanging', async () => {
    const stalling = await startFront(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '1000000' });
      res.write(Buffer.alloc(1000));
    });
    const client = new RegistryClient({
      dockerConfigPath: NO_CONFIG,
      timeoutMs: 200,
      retry: { ...FAST_RETRY, retries: 1 },
    });
    const started = Date.now();
    const stream = await client.getBlob(`${stalling.host}/library/app`, sha256Digest(Buffer.alloc(1)));
    await assert.rejects(readAll(stream), isLading('NETWORK'));
    assert.ok(Date.now() - started < 3000);
  });

  it('refuses redirects to other protocols and loops of redirects', async () => {
    const front = await startFront(t, (req, res) => {
      const loop = req.url?.includes('/loop/');
      res.writeHead(302, { location: loop ? req.url : 'file:///etc/passwd' });
      res.end();
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    await assert.rejects(
      client.getBlob(`${front.host}/library/app`, image.layerDigests[0]!),
      isLading('REGISTRY', /refusing a redirect to file:/),
    );
    await assert.rejects(client.getManifest(`${front.host}/loop/app:1`), isLading('REGISTRY', /more than 5 redirects/));
  });
});
