import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCosignKeyPair } from '@lading/engine/attest';
import { RegistryClient } from '@lading/engine/registry';
import { runCli } from '../../engine/test/helpers/cli.js';
import {
  pushOneLayerImage,
  startRegistry,
  suiteCleanup,
  type TestRegistry,
} from '../../engine/test/helpers/registry.js';
import { encodeJson } from '../src/db/dialect.js';
import { registerIngestJob } from '../src/ingest/process.js';
import { isForbiddenAddress, REGISTRIES_SETTING, type RegistryRule } from '../src/ingest/pull.js';
import { blobStoreOf } from '../src/ingest/store.js';
import { forEachDatabase, startTestServer, type TestServer } from './helpers/server.js';

/**
 * POST /api/v1/ingest/pull against Debian's docker-registry on 127.0.0.1, holding an image signed and attested
 * (a CycloneDX SBOM) by the CLI; and the refusals: a registry not on the allowlist, a private address without
 * allowPrivate (as an IP literal and as a name that resolves to one), and a redirect to the metadata address.
 */

const cleanup = suiteCleanup();
const sha256hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const descriptor = (mediaType: string, bytes: Buffer) => ({
  mediaType,
  digest: `sha256:${sha256hex(bytes)}`,
  size: bytes.length,
});
/** The referrer's SBOM: other bytes than the attested one, so the two are told apart. */
const REFERRER_SBOM = Buffer.from(
  JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    components: [{ type: 'library', name: 'from-referrer', version: '1.0.0' }],
  }),
);
let registry: TestRegistry;
let digest: string;
let work: string;
let redirector: { host: string; close(): Promise<void> };
let publicPem: string;

before(async () => {
  registry = await startRegistry(cleanup);
  const client = new RegistryClient();
  const image = await pushOneLayerImage(client, registry.host, 'acme/api', '1.0', 'api build 1');
  digest = image.digest;
  work = await mkdtemp(join(tmpdir(), 'lading-pull-'));
  const pair = generateCosignKeyPair('pw');
  publicPem = pair.publicPem;
  await writeFile(join(work, 'k.key'), pair.privatePem);
  await writeFile(
    join(work, 'bom.json'),
    JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }),
  );
  const env = { LADING_PASSWORD: 'pw' };
  const ref = `${registry.host}/acme/api@${digest}`;
  const signed = await runCli(['sign', ref, '--key', join(work, 'k.key'), '--insecure-registry', registry.host], {
    env,
  });
  assert.equal(signed.code, 0, signed.stderr);
  const attested = await runCli(
    [
      'attest',
      ref,
      '--key',
      join(work, 'k.key'),
      '--predicate',
      join(work, 'bom.json'),
      '--type',
      'cyclonedx',
      '--insecure-registry',
      registry.host,
    ],
    { env },
  );
  assert.equal(attested.code, 0, attested.stderr);
  // an OCI referrer (a CycloneDX SBOM of its own bytes) through the referrers tag schema docker-registry serves
  const repo = { registry: registry.host, repository: 'acme/api' };
  const empty = Buffer.from('{}');
  await client.pushBlob(repo, empty);
  await client.pushBlob(repo, REFERRER_SBOM);
  const artifact = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cyclonedx+json',
      config: descriptor('application/vnd.oci.empty.v1+json', empty),
      layers: [descriptor('application/vnd.cyclonedx+json', REFERRER_SBOM)],
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest,
        size: (await client.getManifest({ ...repo, digest })).bytes.length,
      },
    }),
  );
  const artifactDigest = await client.putManifest(
    repo,
    `sha256:${sha256hex(artifact)}`,
    artifact,
    'application/vnd.oci.image.manifest.v1+json',
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: artifactDigest,
          size: artifact.length,
          artifactType: 'application/vnd.cyclonedx+json',
        },
      ],
    }),
  );
  await client.putManifest(repo, digest.replace(':', '-'), index, 'application/vnd.oci.image.index.v1+json');
  // a "registry" that sends its manifests to the cloud metadata address
  const server = createServer((req, res) => {
    if (req.url === '/v2/') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  redirector = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
});
after(async () => {
  await redirector.close();
  await rm(work, { recursive: true, force: true });
});

describe('isForbiddenAddress', () => {
  it('refuses loopback, RFC 1918, link-local, CGNAT, ULA, multicast and mapped forms; allows public ones', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'fc00::2',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      assert.equal(isForbiddenAddress(a), true, a);
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(isForbiddenAddress(a), false, a);
    }
  });
});

forEachDatabase((database) => {
  describe('POST /api/v1/ingest/pull', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        database,
        // no vulnerability data here: the job matches nothing and judges the pulled evidence
        jobHandlers: (runner, ctx) =>
          registerIngestJob(runner, ctx, blobStoreOf(ctx), { vulndbDir: join(work, 'no-vulndb') }),
      });
    });
    after(() => server.close());

    async function allow(rules: RegistryRule[]): Promise<void> {
      const now = server.ctx.now();
      await server.ctx.db.deleteFrom('settings').where('key', '=', REGISTRIES_SETTING).execute();
      await server.ctx.db
        .insertInto('settings')
        .values({ key: REGISTRIES_SETTING, value: encodeJson(rules), updated_at: now, created_at: now })
        .execute();
    }

    const pull = (image: string) =>
      server.api.post<{ job: { id: string }; artifacts: { kind: string }[]; detail?: string; code?: string }>(
        '/api/v1/ingest/pull',
        { image, tags: ['1.0'] },
      );

    it('reads the signature and the attestation (and its SBOM) of an allowlisted registry; a replay is 200', async () => {
      await allow([{ host: registry.host, insecure: true, allowPrivate: true }]);
      const res = await pull(`${registry.host}/acme/api@${digest}`);
      assert.equal(res.status, 202, res.text);
      assert.deepEqual(res.body.artifacts.map((a) => a.kind).sort(), [
        'attestation-dsse',
        'sbom-cyclonedx',
        'signature-cosign',
      ]);
      const job = await server.ctx.db
        .selectFrom('jobs')
        .selectAll()
        .where('public_id', '=', res.body.job.id)
        .executeTakeFirstOrThrow();
      assert.equal(JSON.parse(job.payload).source, 'pull');
      const again = await pull(`${registry.host}/acme/api@${digest}`);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.job.id, res.body.job.id);
    });

    it("the ingest job judges the pulled signature with the repository's trusted key", async () => {
      const now = server.ctx.now();
      await server.ctx.db
        .insertInto('trusted_keys')
        .values({
          public_id: 'key_ci',
          repository_pattern: `${registry.host}/acme/*`,
          algorithm: 'ecdsa-p256',
          public_key_pem: publicPem,
          fingerprint: 'ci',
          keyless_issuer: null,
          keyless_identity: null,
          revoked_at: null,
          created_at: now,
        })
        .execute();
      await allow([{ host: registry.host, insecure: true, allowPrivate: true }]);
      // new tags make a new placement, hence a new job that sees the key
      const res = await server.api.post<{ job: { url: string } }>('/api/v1/ingest/pull', {
        image: `${registry.host}/acme/api@${digest}`,
        tags: ['signed'],
      });
      assert.equal(res.status, 202, res.text);
      const job = await server.api.get<{ state: string; error: unknown }>(`${res.body.job.url}?wait=60`);
      assert.equal(job.body.state, 'succeeded', JSON.stringify(job.body.error));
      const checks = await server.ctx.db
        .selectFrom('verifications')
        .innerJoin('images', 'images.id', 'verifications.image_id')
        .select(['verifications.check', 'verifications.result', 'verifications.key_id'])
        .where('images.digest', '=', digest)
        .execute();
      const byName = Object.fromEntries(checks.map((c) => [c.check, c]));
      assert.deepEqual(byName['image.signature'], { check: 'image.signature', result: 'pass', key_id: 'key_ci' });
      assert.equal(byName['sbom.present']?.result, 'pass');
      assert.equal(byName['provenance.present']?.result, 'absent');
    });

    it('refuses tags, registries off the allowlist, private addresses and redirects to one: 422/403', async () => {
      await allow([{ host: registry.host, insecure: true, allowPrivate: true }]);
      const tagged = await pull(`${registry.host}/acme/api:1.0`);
      assert.equal(tagged.status, 422, tagged.text);

      const elsewhere = await pull(`registry.invalid:5000/acme/api@${digest}`);
      assert.equal(elsewhere.status, 403, elsewhere.text);
      assert.match(String(elsewhere.body.detail), /not on this server's pull allowlist/);

      // allowlisted, but a loopback address without allowPrivate: as an IP literal, and as a name resolving to one
      const port = registry.host.split(':')[1];
      await allow([
        { host: registry.host, insecure: true },
        { host: `localhost:${port}`, insecure: true },
      ]);
      for (const host of [registry.host, `localhost:${port}`]) {
        const res = await pull(`${host}/acme/api@${digest}`);
        assert.equal(res.status, 403, `${host}: ${res.text}`);
        assert.equal(res.body.code, 'pull_forbidden');
        assert.match(String(res.body.detail), /private, loopback or link-local/);
      }

      // a registry that may be private itself, redirecting to the link-local metadata address
      await allow([{ host: redirector.host, insecure: true, allowPrivate: true }]);
      const redirected = await pull(`${redirector.host}/acme/api@${digest}`);
      assert.equal(redirected.status, 403, redirected.text);
      assert.match(String(redirected.body.detail), /169\.254\.169\.254/);

      const rows = await server.ctx.db.selectFrom('jobs').select('id').where('kind', '=', 'ingest').execute();
      assert.equal(rows.length, 2, 'only the allowed pulls made jobs');
    });

    it('collects only what `collect` asks for, from where it says; a bad collect is a 422 naming it', async () => {
      await allow([{ host: registry.host, insecure: true, allowPrivate: true }]);
      const image = `${registry.host}/acme/api@${digest}`;
      type Answer = { artifacts: { kind: string; sha256: string }[]; detail?: string; part?: string };
      const collectPull = (collect: unknown, tag: string) =>
        server.api.post<Answer>('/api/v1/ingest/pull', { image, tags: [tag], collect });
      const kinds = (res: { body: Answer }) => res.body.artifacts.map((a) => a.kind).sort();
      const referrerSha = sha256hex(REFERRER_SBOM);

      // the SBOM from the referrers only: no .att read (no envelope, not the attested SBOM), no .sig
      const fromReferrers = await collectPull(
        { sbom: 'referrers', report: 'none', provenance: 'none', signature: false },
        'c1',
      );
      assert.equal(fromReferrers.status, 202, fromReferrers.text);
      assert.deepEqual(kinds(fromReferrers), ['sbom-cyclonedx']);
      assert.equal(fromReferrers.body.artifacts[0]?.sha256, referrerSha);

      // the SBOM from its attestation (the envelope kept with it), and the signature; the referrer not read
      const fromAttestation = await collectPull({ sbom: 'attestation', signature: true }, 'c2');
      assert.equal(fromAttestation.status, 202, fromAttestation.text);
      assert.deepEqual(kinds(fromAttestation), ['attestation-dsse', 'sbom-cyclonedx', 'signature-cosign']);
      const attestedSbom = fromAttestation.body.artifacts.find((a) => a.kind === 'sbom-cyclonedx');
      assert.notEqual(attestedSbom?.sha256, referrerSha);

      // the signature alone
      const signatureOnly = await collectPull({ sbom: false, report: false, provenance: 'none' }, 'c3');
      assert.equal(signatureOnly.status, 202, signatureOnly.text);
      assert.deepEqual(kinds(signatureOnly), ['signature-cosign']);

      // nothing the option allows is there: a 422 that says what was collected
      const nothing = await collectPull(
        { sbom: 'none', report: 'referrers', provenance: 'referrers', signature: false },
        'c4',
      );
      assert.equal(nothing.status, 422, nothing.text);
      assert.match(
        String(nothing.body.detail),
        /^found no SBOM, report, attestation or signature for .* \(collecting sbom none, report from referrers, provenance from referrers, no signature\)$/,
      );

      for (const [collect, reason] of [
        ['everything', /^collect must be an object/],
        [{ sbom: 'ftp' }, /^collect\.sbom must be one of attestation, referrers, any, none$/],
        [{ signature: 'yes' }, /^collect\.signature must be true or false$/],
        [{ scans: true }, /^collect\.scans is not one of sbom, report, provenance, signature$/],
      ] as const) {
        const bad = await collectPull(collect, 'bad');
        assert.equal(bad.status, 422, bad.text);
        assert.equal(bad.body.part, 'collect');
        assert.match(String(bad.body.detail), reason);
      }
    });
  });
});
