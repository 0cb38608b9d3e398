import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/registry/client.js';
import { sha256Digest } from '../../src/registry/digest.js';
import { type BuiltImage, buildImage } from '../helpers/images.js';
import { skopeoCopy, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { isLading, readAll } from './assertions.js';
import { proxyTo, sendRecorded, startFront } from './front-server.js';

const FIXTURES = new URL('../fixtures/registry/', import.meta.url);
type Recorded = { status: number; headers: Record<string, string>; body: string };
const loadRecorded = async (name: string): Promise<Recorded> =>
  JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8')) as Recorded;

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const NO_CONFIG = '/nonexistent/docker/config.json';

/** Repository name inside a /v2/<name>/(manifests|blobs|tags)/… path. */
function repoOf(url: string): string {
  return /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(url)?.[1] ?? '';
}

describe('bearer-token auth (Docker Hub / GHCR challenge format)', () => {
  const t = suiteCleanup();
  let registry: TestRegistry;
  let image: BuiltImage;

  before(async () => {
    registry = await startRegistry(t);
    const dir = await tempDir(t);
    image = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/etc/alpine-release', content: '3.19.1\n' }]],
      tag: 'alpine:3.19',
    });
    await skopeoCopy(`oci:${image.ociDir}:3.19`, `docker://${registry.host}/library/alpine:3.19`);
  });

  /**
   * Requires `Bearer <token>` for /v2/ paths, answering the recorded challenge otherwise; `/token` issues tokens,
   * checked against `tokenAuth` (what the token endpoint demands) and recorded per scope.
   */
  async function bearerFront(fixture: string, tokenAuth: (req: IncomingMessage, body: Buffer) => boolean) {
    const recorded = await loadRecorded(fixture);
    const issued = new Map<string, string>();
    let counter = 0;
    const front = await startFront(t, async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/token') {
        if (!tokenAuth(req, body)) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end('{"details":"incorrect username or password"}');
          return;
        }
        const form = req.method === 'POST' ? new URLSearchParams(body.toString()) : url.searchParams;
        const token = `tok-${++counter}`;
        issued.set(token, form.getAll('scope').join(' '));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
        return;
      }
      const auth = req.headers.authorization ?? '';
      const scopes = issued.get(auth.replace(/^Bearer /, '')) ?? '';
      const repo = repoOf(url.pathname);
      const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
      const granted = scopes.split(' ').some((s) => {
        const [, name, actions] = /^repository:(.+):([a-z,]+)$/.exec(s) ?? [];
        return name === repo && actions?.split(',').includes(action);
      });
      if (url.pathname !== '/v2/' && !granted) {
        const want = action === 'pull' ? 'pull' : 'pull,push';
        sendRecorded(res, recorded, (name, value) =>
          name === 'www-authenticate'
            ? value
                .replace(/realm="[^"]*"/, `realm="${front.url}/token"`)
                .replace(/scope="[^"]*"/, `scope="repository:${repo}:${want}"`)
            : value,
        );
        return;
      }
      await proxyTo(registry.url, req, res, body);
    });
    return front;
  }

  it('gets an anonymous token once per scope and reuses it', async () => {
    const front = await bearerFront('docker-hub-401.json', () => true);
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const ref = `${front.host}/library/alpine:3.19`;
    const first = await client.getManifest(ref);
    assert.equal(first.digest, image.manifestDigest);
    await client.getManifest(ref);
    const blob = await readAll(await client.getBlob(ref, image.layerDigests[0]!));
    assert.equal(sha256Digest(blob), image.layerDigests[0]);

    const tokenCalls = front.seen.filter((r) => r.url.startsWith('/token'));
    assert.equal(tokenCalls.length, 1, 'one token for three pulls of the same scope');
    const query = new URL(tokenCalls[0]!.url, 'http://x').searchParams;
    assert.equal(query.get('service'), 'registry.docker.io');
    assert.deepEqual(query.getAll('scope'), ['repository:library/alpine:pull']);
    assert.equal(tokenCalls[0]!.headers.authorization, undefined, 'anonymous');

    // Pushing needs a wider scope: a second token, after which the push goes through.
    const manifest = await client.getManifest(ref);
    await client.putManifest(`${front.host}/library/alpine`, 'copy', manifest.bytes, manifest.mediaType);
    const scopes = front.seen.filter((r) => r.url.startsWith('/token')).map((r) => new URL(r.url, 'http://x'));
    assert.equal(scopes.length, 2);
    assert.deepEqual(scopes[1]!.searchParams.getAll('scope'), ['repository:library/alpine:pull,push']);
    assert.equal((await client.headManifest(`${front.host}/library/alpine:copy`))?.digest, image.manifestDigest);
  });

  it('shares one token request among parallel pulls', async () => {
    const front = await bearerFront('docker-hub-401.json', () => true);
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    const repo = `${front.host}/library/alpine`;
    const blobs = await Promise.all(
      [image.configDigest, image.layerDigests[0]!, image.configDigest].map(async (d) =>
        readAll(await client.getBlob(repo, d)),
      ),
    );
    assert.equal(sha256Digest(blobs[1]!), image.layerDigests[0]);
    assert.equal(front.seen.filter((r) => r.url.startsWith('/token')).length, 1);
  });

  it('sends docker-config credentials to the token server (GHCR format)', async (tt) => {
    const front = await bearerFront('ghcr-401.json', (req) => req.headers.authorization === basic('octo', 'ghp_x'));
    const dir = await tempDir(tt);
    const config = join(dir, 'config.json');
    const auths = { [front.host]: { auth: Buffer.from('octo:ghp_x').toString('base64') } };
    await writeFile(config, JSON.stringify({ auths }));
    const client = new RegistryClient({ dockerConfigPath: config });
    assert.equal((await client.getManifest(`${front.host}/library/alpine:3.19`)).digest, image.manifestDigest);
    const query = new URL(front.seen.find((r) => r.url.startsWith('/token'))!.url, 'http://x').searchParams;
    assert.equal(query.get('service'), 'ghcr.io');

    const wrong = join(dir, 'wrong.json');
    await writeFile(wrong, JSON.stringify({ auths: { [front.host]: { username: 'octo', password: 'nope' } } }));
    await assert.rejects(
      new RegistryClient({ dockerConfigPath: wrong }).getManifest(`${front.host}/library/alpine:3.19`),
      isLading('AUTH', /refused the credentials/),
    );
  });

  it('exchanges an identity token with a refresh-token grant', async (tt) => {
    const front = await bearerFront('docker-hub-401.json', (req, body) => {
      const form = new URLSearchParams(body.toString());
      return (
        req.method === 'POST' && form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'rt-1'
      );
    });
    const dir = await tempDir(tt);
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ auths: { [`https://${front.host}`]: { identitytoken: 'rt-1' } } }));
    const client = new RegistryClient({ dockerConfigPath: config });
    assert.equal((await client.getManifest(`${front.host}/library/alpine:3.19`)).digest, image.manifestDigest);
    const post = front.seen.find((r) => r.url === '/token' && r.method === 'POST');
    assert.equal(new URLSearchParams(post!.body).get('service'), 'registry.docker.io');
  });

  it('maps 403 and a challenge-less 401 to AUTH errors naming the reference', async () => {
    const front = await startFront(t, (req, res) => {
      if (req.url?.includes('/denied/')) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
      } else {
        res.writeHead(401);
        res.end();
      }
    });
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, retry: { retries: 0 } });
    await assert.rejects(
      client.getManifest(`${front.host}/team/denied:1`),
      isLading('AUTH', /team\/denied:1.*DENIED: requested access/),
    );
    await assert.rejects(
      client.getManifest(`${front.host}/team/other:1`),
      isLading('AUTH', /team\/other:1: authentication required/),
    );
  });
});

describe('basic auth against docker-registry with htpasswd', () => {
  const t = suiteCleanup();
  const user = { username: 'ci', password: 'pa:ss w0rd' };
  let registry: TestRegistry;
  let image: BuiltImage;
  let dir: string;
  const savedPath = process.env['PATH'];

  before(async () => {
    registry = await startRegistry(t, { auth: user });
    dir = await tempDir(t);
    image = await buildImage(join(dir, 'img'), {
      layers: [[{ type: 'file', path: '/etc/hostname', content: 'x\n' }]],
      tag: 'app:1',
    });
    await skopeoCopy(`oci:${image.ociDir}:1`, `docker://${registry.host}/private/app:1`, [
      '--dest-creds',
      `${user.username}:${user.password}`,
    ]);
    // A credential helper of our own, on PATH as docker-credential-test, that logs the server it was asked for.
    const helper = join(dir, 'docker-credential-test');
    await writeFile(
      helper,
      [
        '#!/bin/sh',
        `[ "$1" = get ] || exit 2`,
        'server=$(cat)',
        `echo "$server" >> "${join(dir, 'helper.log')}"`,
        `case "$server" in`,
        `  ${registry.host}) printf '%s' '{"ServerURL":"${registry.host}","Username":"${user.username}","Secret":"${user.password}"}' ;;`,
        `  *) echo "credentials not found in native keychain"; exit 1 ;;`,
        'esac',
        '',
      ].join('\n'),
    );
    await chmod(helper, 0o755);
    process.env['PATH'] = `${dir}:${savedPath}`;
  });
  after(() => {
    process.env['PATH'] = savedPath;
  });

  async function config(name: string, content: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(content));
    return path;
  }

  it('fails with AUTH naming the reference when no credentials are known', async () => {
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG });
    await assert.rejects(
      client.getManifest(`${registry.host}/private/app:1`),
      isLading('AUTH', new RegExp(`${registry.host}/private/app:1: authentication required`)),
    );
  });

  it('uses base64 auths entries (any key form) and rejects a wrong password', async () => {
    const good = await config('auths.json', {
      auths: {
        [`http://${registry.host}/v2/`]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') },
      },
    });
    const client = new RegistryClient({ dockerConfigPath: good });
    assert.equal((await client.getManifest(`${registry.host}/private/app:1`)).digest, image.manifestDigest);
    const blob = await readAll(await client.getBlob(`${registry.host}/private/app`, image.layerDigests[0]!));
    assert.equal(sha256Digest(blob), image.layerDigests[0]);

    const bad = await config('bad.json', {
      auths: { [registry.host]: { auth: Buffer.from(`${user.username}:wrong`).toString('base64') } },
    });
    await assert.rejects(
      new RegistryClient({ dockerConfigPath: bad }).getManifest(`${registry.host}/private/app:1`),
      isLading('AUTH', /the registry refused the credentials/),
    );
    const none = await config('none.json', {});
    await assert.rejects(
      new RegistryClient({ dockerConfigPath: none }).getManifest(`${registry.host}/private/app:1`),
      isLading('AUTH', /authentication required/),
    );
  });

  it('asks a per-registry credential helper (credHelpers) with the server on stdin', async () => {
    const path = await config('helpers.json', { credHelpers: { [registry.host]: 'test' } });
    const client = new RegistryClient({ dockerConfigPath: path });
    assert.deepEqual(await client.listTags(`${registry.host}/private/app`), ['1']);
    const log = await readFile(join(dir, 'helper.log'), 'utf8');
    assert.ok(log.split('\n').includes(registry.host), log);
  });

  it('asks the default store (credsStore) of the config it is given', async () => {
    const configDir = join(dir, 'docker-config-dir');
    await mkdir(configDir, { recursive: true });
    await writeFile(
      join(configDir, 'config.json'),
      JSON.stringify({ credsStore: 'test', auths: { [registry.host]: {} } }),
    );
    const client = new RegistryClient({ dockerConfigPath: join(configDir, 'config.json') });
    assert.equal((await client.headManifest(`${registry.host}/private/app:1`))?.digest, image.manifestDigest);
  });

  it('pushes with basic auth', async () => {
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, credentials: { [registry.host]: user } });
    const data = Buffer.from('pushed with basic auth');
    const digest = await client.pushBlob(`${registry.host}/private/app`, data);
    assert.equal(await client.blobExists(`${registry.host}/private/app`, digest), true);
  });

  it('reports a missing or failing credential helper as AUTH, and a broken config as CONFIG', async () => {
    const missing = await config('missing-helper.json', { credHelpers: { [registry.host]: 'absent-helper' } });
    await assert.rejects(
      new RegistryClient({ dockerConfigPath: missing }).getManifest(`${registry.host}/private/app:1`),
      isLading('AUTH', /docker-credential-absent-helper: not found on PATH/),
    );
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"auths": ');
    await assert.rejects(
      new RegistryClient({ dockerConfigPath: broken }).getManifest(`${registry.host}/private/app:1`),
      isLading('CONFIG', /not valid JSON/),
    );
  });

  it('does not send credentials before a registry asks for them', async () => {
    // The plain registry of this suite challenges with Basic; the first request must go out bare.
    const front = await startFront(t, (req, res, body) => proxyTo(registry.url, req, res, body));
    const client = new RegistryClient({ dockerConfigPath: NO_CONFIG, credentials: { [front.host]: user } });
    await client.getManifest(`${front.host}/private/app:1`);
    await client.getManifest(`${front.host}/private/app:1`);
    const manifestCalls = front.seen.filter((r) => r.url.includes('/manifests/'));
    assert.equal(manifestCalls[0]?.headers.authorization, undefined);
    assert.equal(manifestCalls.at(-1)?.headers.authorization, basic(user.username, user.password));
    assert.equal(manifestCalls.length, 3, 'bare, answered, then sent up front');
  });
});
