// /api/v1/trusted-keys on both engines through the validating client: a PEM public key (ECDSA P-256, Ed25519, RSA)
// is validated, fingerprinted (SHA-256 of the SPKI DER, as `openssl pkey -pubin -outform DER | sha256sum` gives) and
// listed with its id; private keys, weak or unusable keys and junk are refused with a one-line problem; adding and
// revoking are events. And the evidence scorecard uses them: an image signed by a key added through the API passes
// `image.signature` naming that key's id; after the key is revoked, the next ingest has no key to verify with.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestRoutes, registerIngestRoutes } from '../src/api/ingest.js';
import { parseTrustedPublicKey } from '../src/api/trusted-keys.js';
import { ROUTE_MODULES } from '../src/app.js';
import { createApiToken } from '../src/auth/index.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { bundleBody, makeBundles, type TestBundles } from './helpers/bundles.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

const REPOSITORY = 'registry.example:5000/acme/api';
const DAY = 86_400_000;

const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

interface KeyView {
  id: string;
  algorithm: string;
  bits?: number;
  fingerprint: string;
  repositoryPattern: string;
  publicKey: string;
  revokedAt: string | null;
}

/** A cosign simple-signing signature `{payload, signature}` of `digest` in `repository`, by `key`. */
function cosignSignature(key: KeyObject, repository: string, digest: string): string {
  const payload = Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': repository },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  return JSON.stringify({
    payload: payload.toString('base64'),
    signature: sign('sha256', payload, key).toString('base64'),
  });
}

describe('parseTrustedPublicKey', () => {
  it('fingerprints the SPKI DER as openssl does, and derives the id from it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lading-keys-'));
    try {
      const file = join(dir, 'cosign.pub');
      await writeFile(file, pemOf(ec.publicKey));
      const der = execFileSync('openssl', ['pkey', '-pubin', '-in', file, '-outform', 'DER']);
      const expected = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString().split(' ')[0];
      const parsed = parseTrustedPublicKey(pemOf(ec.publicKey));
      assert.equal(parsed.fingerprint, `sha256:${expected}`);
      assert.equal(parsed.id, `key_${expected?.slice(0, 16)}`);
      assert.equal(parsed.algorithm, 'ecdsa-p256');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses private keys, weak RSA, other curves, X25519 and junk with one line each', () => {
    const refused: [string, unknown, RegExp][] = [
      ['a private key', ec.privateKey.export({ type: 'pkcs8', format: 'pem' }), /PRIVATE key/],
      [
        'a private key hidden after a public one',
        `${pemOf(ec.publicKey)}${ec.privateKey.export({ type: 'pkcs8', format: 'pem' })}`,
        /PRIVATE key/,
      ],
      ['RSA 1024', pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), /1024 bits is too weak/],
      ['secp256k1', pemOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey), /curve secp256k1/],
      ['X25519', pemOf(generateKeyPairSync('x25519').publicKey), /x25519 key cannot verify/],
      ['two keys', `${pemOf(ec.publicKey)}${pemOf(ed.publicKey)}`, /exactly one PEM block/],
      ['a certificate header', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /exactly one PEM/],
      ['a truncated key', pemOf(ec.publicKey).slice(0, 80) + '\n-----END PUBLIC KEY-----\n', /readable public key/],
      ['nothing', '', /required/],
      ['a number', 42, /required/],
      ['a huge text', `-----BEGIN PUBLIC KEY-----\n${'A'.repeat(20_000)}\n-----END PUBLIC KEY-----`, /longer than/],
    ];
    for (const [what, input, message] of refused) {
      assert.throws(
        () => parseTrustedPublicKey(input),
        (err: Error & { status?: number }) => {
          assert.match(err.message, message, what);
          assert.ok(!err.message.includes('\n'), `${what}: one line`);
          return true;
        },
        what,
      );
    }
  });
});

let bundles: TestBundles;
before(async () => {
  bundles = await makeBundles();
});
after(() => bundles.dispose());

forEachDatabase((database) => {
  describe('trusted keys API', () => {
    let server: TestServer;
    let work: string;
    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'lading-keys-'));
      server = await startTestServer({
        database,
        routes: ROUTE_MODULES.map((m) => (m === registerIngestRoutes ? ingestRoutes() : m)),
        jobHandlers: (runner, ctx) => registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: bundles.dbDir }),
      });
    });
    after(async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    });

    /** Pushes bundle `which` with an SBOM, a report and a cosign signature by `key`; answers image.signature's check. */
    async function ingestSigned(which: 'a' | 'b', key: KeyObject, tag: string) {
      const bundle = bundles[which];
      const signature = join(work, `${which}.sig.json`);
      await writeFile(signature, cosignSignature(key, REPOSITORY, bundle.digest));
      const { body, headers } = await bundleBody({ repository: REPOSITORY, digest: bundle.digest, tags: [tag] }, [
        ['sbom', bundle.sbomFile],
        ['report', bundle.reportFile],
        ['signature', signature],
      ]);
      const accepted = await server.api.request<{ job: { url: string } }>('POST', '/api/v1/ingest', { body, headers });
      assert.equal(accepted.status, 202, accepted.text);
      const job = await server.api.get<{ state: string }>(`${accepted.body.job.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', job.text);
      const evidence = await server.api.get<{ checks: { check: string; result: string; detail: unknown }[] }>(
        `/api/v1/images/${bundle.digest}/evidence`,
      );
      assert.equal(evidence.status, 200, evidence.text);
      return evidence.body.checks.find((c) => c.check === 'image.signature');
    }

    it('adds ECDSA P-256, Ed25519 and RSA keys, lists them with id and fingerprint, and refuses bad input', async () => {
      const added: KeyView[] = [];
      for (const [key, algorithm, pattern] of [
        [ed.publicKey, 'ed25519', 'ghcr.io/other/*'],
        [rsa.publicKey, 'rsa', undefined],
      ] as const) {
        const res = await server.api.post<KeyView>('/api/v1/trusted-keys', {
          publicKey: pemOf(key),
          ...(pattern ? { repositoryPattern: pattern } : {}),
        });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.algorithm, algorithm);
        assert.equal(res.body.id, parseTrustedPublicKey(pemOf(key)).id);
        assert.equal(res.body.repositoryPattern, pattern ?? '*');
        assert.equal(res.headers.get('location'), `/api/v1/trusted-keys/${res.body.id}`);
        added.push(res.body);
      }
      assert.equal(added[1]?.bits, 2048);
      const again = await server.api.post('/api/v1/trusted-keys', { publicKey: pemOf(ed.publicKey) });
      assert.equal(again.status, 409, again.text);
      for (const [body, status] of [
        [{ publicKey: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) }, 422],
        [{ publicKey: 'not a key' }, 422],
        [{}, 422],
        [{ publicKey: pemOf(ec.publicKey), repositoryPattern: 'bad pattern!' }, 422],
        [{ publicKey: pemOf(ec.publicKey), name: 'x' }, 400],
        [[1, 2], 400],
      ] as const) {
        const res = await server.api.post('/api/v1/trusted-keys', body);
        assert.equal(res.status, status, res.text);
      }
      const rows = await server.ctx.db.selectFrom('trusted_keys').select('public_key_pem').execute();
      assert.ok(
        rows.every((r) => !r.public_key_pem.includes('PRIVATE')),
        'no private key is stored',
      );
      const listed = await server.api.get<{ items: KeyView[] }>('/api/v1/trusted-keys');
      assert.deepEqual(
        listed.body.items.map((k) => k.id),
        [added[1]?.id, added[0]?.id],
      );
      const page = await server.api.get<{ items: KeyView[]; next_page_token: string }>('/api/v1/trusted-keys?limit=1');
      assert.equal(page.body.items.length, 1);
      const next = await server.api.get<{ items: KeyView[]; next_page_token: string | null }>(
        `/api/v1/trusted-keys?limit=1&page_token=${page.body.next_page_token}`,
      );
      assert.deepEqual(
        next.body.items.map((k) => k.id),
        [added[0]?.id],
      );
      assert.equal((await server.api.get(`/api/v1/trusted-keys/${added[0]?.id}`)).status, 200);
      assert.equal((await server.api.get('/api/v1/trusted-keys/key_0000000000000000')).status, 404);
    });

    it('verifies an image signature with a key added through the API, and not after it is revoked', async () => {
      const added = await server.api.post<KeyView>('/api/v1/trusted-keys', {
        publicKey: pemOf(ec.publicKey),
        repositoryPattern: 'registry.example:5000/acme/*',
      });
      assert.equal(added.status, 201, added.text);
      const signed = await ingestSigned('a', ec.privateKey, '1.0');
      assert.equal(signed?.result, 'pass', JSON.stringify(signed));
      assert.match(JSON.stringify(signed), new RegExp(added.body.id));

      const revoked = await server.api.request('DELETE', `/api/v1/trusted-keys/${added.body.id}`);
      assert.equal(revoked.status, 204, revoked.text);
      assert.equal((await server.api.request('DELETE', `/api/v1/trusted-keys/${added.body.id}`)).status, 204);
      const shown = await server.api.get<KeyView>(`/api/v1/trusted-keys/${added.body.id}`);
      assert.notEqual(shown.body.revokedAt, null);
      const active = await server.api.get<{ items: KeyView[] }>('/api/v1/trusted-keys');
      assert.ok(!active.body.items.some((k) => k.id === added.body.id), 'a revoked key is not listed by default');
      const all = await server.api.get<{ items: KeyView[] }>('/api/v1/trusted-keys?revoked=true');
      assert.ok(all.body.items.some((k) => k.id === added.body.id));

      // the RSA key trusted for every repository is still there, but it did not sign: the signature is invalid
      const after = await ingestSigned('b', ec.privateKey, '2.0');
      assert.equal(after?.result, 'fail', JSON.stringify(after));
      assert.doesNotMatch(JSON.stringify(after), new RegExp(added.body.id));

      // trusted again: the same id, active again
      const readded = await server.api.post<KeyView>('/api/v1/trusted-keys', { publicKey: pemOf(ec.publicKey) });
      assert.equal(readded.status, 201, readded.text);
      assert.equal(readded.body.id, added.body.id);
      assert.equal(readded.body.revokedAt, null);

      const events = await server.ctx.db
        .selectFrom('events')
        .select(['type', 'data'])
        .where('type', 'like', 'trusted_key.%')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        events.map((e) => e.type),
        ['trusted_key.added', 'trusted_key.added', 'trusted_key.added', 'trusted_key.revoked', 'trusted_key.added'],
      );
      const data = events[2]?.data;
      assert.match(typeof data === 'string' ? data : JSON.stringify(data), new RegExp(added.body.id));
    });

    it('adds a key once when two administrators add it at the same time', async () => {
      const key = pemOf(generateKeyPairSync('ed25519').publicKey);
      const answers = await Promise.all(
        [1, 2, 3].map(() => server.api.post('/api/v1/trusted-keys', { publicKey: key })),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409], answers.map((a) => a.text).join(' | '));
    });

    it('is for administrators only', async () => {
      const triager = await createApiToken(server.ctx, {
        name: 'triager',
        scopes: ['read', 'triage', 'ingest'],
        repositoryPattern: '*',
        expiresAt: server.ctx.now() + DAY,
        ownerUserId: server.admin.userId,
      });
      for (const [method, path] of [
        ['GET', '/api/v1/trusted-keys'],
        ['POST', '/api/v1/trusted-keys'],
        ['DELETE', '/api/v1/trusted-keys/key_0000000000000000'],
      ] as const) {
        const res = await server.api.request(method, path, {
          token: triager.token,
          ...(method === 'POST' ? { json: { publicKey: pemOf(ed.publicKey) } } : {}),
        });
        assert.equal(res.status, 403, `${method} ${path}: ${res.text}`);
      }
    });
  });
});
