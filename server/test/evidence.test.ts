import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import {
  CHECK_NAMES,
  type EvidenceArtifact,
  type EvidenceCheck,
  type EvidenceInput,
  evaluateEvidence,
  type Scorecard,
  type TrustedKey,
  type VerificationPolicy,
} from '../src/evidence/index.js';

// Real evidence, made by the CLI against Debian's docker-registry: `lading provenance` (in a simulated GitHub
// Actions run) naming the SBOM and report as byproducts, `lading attest --bundle` (a Sigstore bundle, and the raw
// DSSE envelope read back from the image's .att tag), `lading sign` (the .sig layer and its signature annotation).

const artifact = (bytes: Uint8Array | string, id?: number): EvidenceArtifact => {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  return { sha256: createHash('sha256').update(b).digest('hex'), bytes: b, ...(id !== undefined ? { id } : {}) };
};

const byCheck = (card: Scorecard) =>
  Object.fromEntries(card.checks.map((c) => [c.check, c])) as Record<string, EvidenceCheck>;
const results = (card: Scorecard) => Object.fromEntries(card.checks.map((c) => [c.check, c.result]));

const GITHUB_BUILDER = 'https://github.com/acme/api/.github/workflows/build.yml@refs/heads/main';

describe('evidence scorecard over artifacts made by the CLI', () => {
  const cleanup = suiteCleanup();
  let registry: TestRegistry;
  let dir: string;
  let digest: string;
  let repository: string;
  let otherDigest: string;
  let trusted: TrustedKey;
  let stranger: TrustedKey;
  let sbom: EvidenceArtifact;
  let report: EvidenceArtifact;
  let bundle: EvidenceArtifact;
  let envelope: EvidenceArtifact;
  let signature: EvidenceArtifact;
  let otherSignature: EvidenceArtifact;
  let messageBundle: EvidenceArtifact;
  const policy: VerificationPolicy = {
    mode: 'enforce',
    allowedBuilders: ['https://github.com/acme/*'],
    sourceRepos: ['https://github.com/acme/api'],
    refs: ['refs/heads/main', 'refs/tags/*'],
  };

  before(async () => {
    registry = await startRegistry(cleanup);
    const client = new RegistryClient();
    dir = await mkdtemp(join(tmpdir(), 'lading-evidence-'));
    const image = await pushOneLayerImage(client, registry.host, 'acme/api', '1.0', 'api build 1');
    const other = await pushOneLayerImage(client, registry.host, 'acme/api', '0.9', 'api build 0');
    digest = image.digest;
    otherDigest = other.digest;
    repository = `${registry.host}/acme/api`;
    const byDigest = `${repository}@${digest}`;

    const pair = generateCosignKeyPair('pw');
    await writeFile(join(dir, 'k.key'), pair.privatePem);
    trusted = { id: 'ci-key', pem: pair.publicPem };
    stranger = { id: 'someone-else', pem: generateCosignKeyPair('x').publicPem };
    const env = { LADING_PASSWORD: 'pw' };

    const sbomText = JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      metadata: {
        component: { type: 'container', name: repository, version: digest, 'bom-ref': byDigest },
      },
      components: [],
    });
    const reportText = JSON.stringify({
      schemaVersion: 2,
      tool: { name: 'lading' },
      target: { digest, repoTags: [byDigest] },
    });
    await writeFile(join(dir, 'sbom.cdx.json'), sbomText);
    await writeFile(join(dir, 'report.json'), reportText);
    sbom = artifact(sbomText, 11);
    report = artifact(reportText, 12);

    const provenance = await runCli(
      [
        'provenance',
        '--sbom',
        join(dir, 'sbom.cdx.json'),
        '--report',
        join(dir, 'report.json'),
        '-o',
        join(dir, 'predicate.json'),
      ],
      {
        env: {
          GITHUB_ACTIONS: 'true',
          GITLAB_CI: '',
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REPOSITORY: 'acme/api',
          GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
          GITHUB_REF: 'refs/heads/main',
          GITHUB_WORKFLOW_REF: 'acme/api/.github/workflows/build.yml@refs/heads/main',
          GITHUB_RUN_ID: '4242',
          GITHUB_RUN_ATTEMPT: '1',
        },
      },
    );
    assert.equal(provenance.code, 0, provenance.stderr);
    const attested = await runCli(
      [
        'attest',
        byDigest,
        '--key',
        join(dir, 'k.key'),
        '--predicate',
        join(dir, 'predicate.json'),
        '--type',
        'slsaprovenance1',
        '--bundle',
        join(dir, 'att.bundle.json'),
        '--insecure-registry',
        registry.host,
      ],
      { env },
    );
    assert.equal(attested.code, 0, attested.stderr);
    bundle = artifact(await readFile(join(dir, 'att.bundle.json')), 13);
    const repo = { registry: registry.host, repository: 'acme/api' };
    const att = JSON.parse(
      (await client.getManifest({ ...repo, tag: `sha256-${digest.slice(7)}.att` })).bytes.toString(),
    );
    envelope = artifact(await client.getBlobBytes(repo, att.layers[0].digest, 1 << 20), 14);

    const signatureOf = async (imageDigest: string, id: number) => {
      const signed = await runCli(
        ['sign', `${repository}@${imageDigest}`, '--key', join(dir, 'k.key'), '--insecure-registry', registry.host],
        { env },
      );
      assert.equal(signed.code, 0, signed.stderr);
      const sig = JSON.parse(
        (await client.getManifest({ ...repo, tag: `sha256-${imageDigest.slice(7)}.sig` })).bytes.toString(),
      );
      const layer = sig.layers[0];
      const payload = await client.getBlobBytes(repo, layer.digest, 1 << 20);
      return artifact(
        JSON.stringify({
          payload: payload.toString('base64'),
          signature: layer.annotations['dev.cosignproject.cosign/signature'],
        }),
        id,
      );
    };
    const blobSigned = await runCli(
      ['sign-blob', join(dir, 'sbom.cdx.json'), '--key', join(dir, 'k.key'), '--bundle', join(dir, 'sbom.bundle.json')],
      { env },
    );
    assert.equal(blobSigned.code, 0, blobSigned.stderr);
    messageBundle = artifact(await readFile(join(dir, 'sbom.bundle.json')), 17);
    signature = await signatureOf(digest, 15);
    otherSignature = await signatureOf(otherDigest, 16);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const complete = (): EvidenceInput => ({
    digest,
    repository,
    sboms: [sbom],
    reports: [report],
    attestations: [bundle],
    signatures: [signature],
  });

  it('all evidence, signed by a trusted key, allowed builder and source: verified 9 of 9, with the build facts', () => {
    for (const attestation of [bundle, envelope]) {
      const card = evaluateEvidence({ ...complete(), attestations: [attestation] }, policy, [stranger, trusted]);
      assert.deepEqual(
        card.checks.filter((c) => c.result !== 'pass'),
        [],
      );
      assert.equal(card.state, 'verified');
      assert.equal(card.score, 9);
      assert.equal(card.max, 9);
      assert.deepEqual(
        card.checks.map((c) => c.check),
        [...CHECK_NAMES],
      );
      assert.equal(byCheck(card)['provenance.signature']?.keyId, 'ci-key');
      assert.equal(byCheck(card)['provenance.signature']?.artifactId, attestation.id);
      assert.equal(byCheck(card)['image.signature']?.keyId, 'ci-key');
      assert.equal(byCheck(card)['sbom.bound']?.artifactId, 11);
      assert.equal(card.buildVerified, true);
      assert.deepEqual(
        { ...card.build, startedAt: typeof card.build?.startedAt, finishedAt: typeof card.build?.finishedAt },
        {
          builderId: GITHUB_BUILDER,
          buildType: 'https://actions.github.io/buildtypes/workflow/v1',
          sourceRepo: 'https://github.com/acme/api',
          sourceCommit: 'c0ffee'.padEnd(40, '0'),
          sourceRef: 'refs/heads/main',
          workflowPath: '.github/workflows/build.yml',
          runId: '4242',
          runUrl: 'https://github.com/acme/api/actions/runs/4242/attempts/1',
          startedAt: 'number',
          finishedAt: 'number',
        },
      );
    }
  });

  it('a message-signature bundle (lading sign-blob) is not an attestation and changes nothing', () => {
    const card = evaluateEvidence({ ...complete(), attestations: [messageBundle, bundle] }, policy, [trusted]);
    assert.equal(card.state, 'verified');
    const alone = evaluateEvidence({ ...complete(), attestations: [messageBundle] }, policy, [trusted]);
    assert.equal(byCheck(alone)['provenance.present']?.result, 'absent');
    assert.equal(byCheck(alone)['provenance.signature']?.result, 'absent');
  });

  it('one flipped byte in the provenance gives failed', () => {
    for (const original of [bundle, envelope]) {
      const text = Buffer.from(original.bytes).toString('utf8');
      // a byte in the middle of the signed payload's base64: still valid JSON and base64, no longer what was signed
      const payloadAt = text.indexOf('"payload":"') + '"payload":"'.length;
      const at = payloadAt + 200;
      const flipped = Buffer.from(original.bytes);
      flipped[at] = flipped[at] === 0x41 ? 0x42 : 0x41;
      const card = evaluateEvidence({ ...complete(), attestations: [artifact(flipped, 99)] }, policy, [trusted]);
      assert.equal(card.state, 'failed');
      const check = byCheck(card)['provenance.signature'];
      assert.equal(check?.result, 'fail');
      assert.equal(check?.artifactId, 99);
      assert.match(check?.detail ?? '', /no DSSE signature matches|unreadable/);
      assert.doesNotMatch(check?.detail ?? '', /\n/);
      assert.equal(card.buildVerified, false);
      // nothing read from an unverified provenance passes
      for (const name of ['provenance.builder', 'provenance.source', 'provenance.links']) {
        assert.notEqual(byCheck(card)[name]?.result, 'pass', name);
      }
    }
  });

  it('a provenance edited and re-encoded under the old signature: failed, and nothing read from it counts', () => {
    const env = JSON.parse(Buffer.from(envelope.bytes).toString());
    const payload = Buffer.from(env.payload, 'base64').toString().replaceAll('refs/heads/main', 'refs/heads/mair');
    const forged = artifact(JSON.stringify({ ...env, payload: Buffer.from(payload).toString('base64') }));
    const card = evaluateEvidence({ ...complete(), attestations: [forged] }, policy, [trusted]);
    assert.equal(card.state, 'failed');
    assert.equal(byCheck(card)['provenance.present']?.result, 'pass');
    assert.equal(byCheck(card)['provenance.signature']?.result, 'fail');
    assert.equal(byCheck(card)['provenance.builder']?.result, 'skipped');
    assert.equal(byCheck(card)['provenance.source']?.result, 'skipped');
    assert.equal(byCheck(card)['provenance.links']?.result, 'skipped');
    assert.equal(card.buildVerified, false);
    assert.equal(card.build?.sourceRef, 'refs/heads/mair', 'the facts are reported, marked unverified');
  });

  it('a byte flipped anywhere in the envelope never passes', () => {
    const bytes = Buffer.from(envelope.bytes);
    for (let at = 0; at < bytes.length; at += Math.max(1, Math.floor(bytes.length / 60))) {
      const flipped = Buffer.from(bytes);
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      const card = evaluateEvidence({ ...complete(), attestations: [artifact(flipped)] }, policy, [trusted]);
      assert.notEqual(card.state, 'verified', `byte ${at}`);
      assert.notEqual(byCheck(card)['provenance.signature']?.result, 'pass', `byte ${at}`);
    }
  });

  it('a key that is not trusted: both signature checks fail, state failed', () => {
    const card = evaluateEvidence(complete(), policy, [stranger]);
    assert.equal(card.state, 'failed');
    assert.equal(byCheck(card)['provenance.signature']?.result, 'fail');
    assert.equal(byCheck(card)['image.signature']?.result, 'fail');
    assert.match(byCheck(card)['image.signature']?.detail ?? '', /invalid signature/);
  });

  it('the policy can narrow the trusted keys by id', () => {
    const card = evaluateEvidence(complete(), { ...policy, keys: ['someone-else'] }, [trusted, stranger]);
    assert.equal(card.state, 'failed');
  });

  it('no evidence at all: every check absent, state none', () => {
    const card = evaluateEvidence({ digest, sboms: [], reports: [], attestations: [], signatures: [] }, policy, [
      trusted,
    ]);
    assert.equal(card.state, 'none');
    assert.deepEqual(new Set(Object.values(results(card))), new Set(['absent']));
    assert.equal(card.score, 0);
    assert.equal(card.build, null);
  });

  it('a builder that is not allowed fails its check: partial', () => {
    const card = evaluateEvidence(complete(), { ...policy, allowedBuilders: ['https://gitlab.example/*'] }, [trusted]);
    assert.equal(card.state, 'partial');
    assert.equal(byCheck(card)['provenance.builder']?.result, 'fail');
    assert.equal(byCheck(card)['provenance.builder']?.detail, `builder ${GITHUB_BUILDER} is not allowed`);
    assert.equal(card.score, 8);
  });

  it('a source repository or ref that is not allowed fails the source check', () => {
    const repo = evaluateEvidence(complete(), { ...policy, sourceRepos: ['https://github.com/acme/web'] }, [trusted]);
    assert.equal(byCheck(repo)['provenance.source']?.result, 'fail');
    const ref = evaluateEvidence(complete(), { ...policy, refs: ['refs/tags/v*'] }, [trusted]);
    assert.match(byCheck(ref)['provenance.source']?.detail ?? '', /ref refs\/heads\/main is not allowed/);
    // a repository written with .git and another case still matches
    const loose = evaluateEvidence(complete(), { ...policy, sourceRepos: ['git+https://GitHub.com/acme/api.git'] }, [
      trusted,
    ]);
    assert.equal(byCheck(loose)['provenance.source']?.result, 'pass');
  });

  it('without rules, the builder and source checks are skipped and do not count', () => {
    const card = evaluateEvidence(complete(), { mode: 'warn' }, [trusted]);
    assert.equal(card.state, 'verified');
    assert.equal(card.max, 7);
    assert.equal(byCheck(card)['provenance.builder']?.result, 'skipped');
    assert.equal(byCheck(card)['provenance.source']?.result, 'skipped');
  });

  it('a signature of another digest fails image.signature: failed', () => {
    const card = evaluateEvidence({ ...complete(), signatures: [otherSignature] }, policy, [trusted]);
    assert.equal(card.state, 'failed');
    assert.match(
      byCheck(card)['image.signature']?.detail ?? '',
      new RegExp(`signed for ${otherDigest}, not ${digest}`),
    );
    // beside a valid one, still a tamper alert
    const both = evaluateEvidence({ ...complete(), signatures: [signature, otherSignature] }, policy, [trusted]);
    assert.equal(byCheck(both)['image.signature']?.result, 'fail');
  });

  it('an SBOM or report the provenance does not hash fails provenance.links', () => {
    const edited = artifact(Buffer.concat([Buffer.from(sbom.bytes), Buffer.from(' ')]));
    const card = evaluateEvidence({ ...complete(), sboms: [edited] }, policy, [trusted]);
    assert.equal(byCheck(card)['provenance.links']?.result, 'fail');
    assert.match(byCheck(card)['provenance.links']?.detail ?? '', /do not include the stored SBOM sha256:/);
    assert.equal(card.state, 'partial');
  });

  it('an SBOM of another image fails sbom.bound; a report of another image fails scan.present', () => {
    const otherSbom = artifact(Buffer.from(sbom.bytes).toString().replaceAll(digest, otherDigest));
    const otherReport = artifact(Buffer.from(report.bytes).toString().replaceAll(digest, otherDigest));
    const card = evaluateEvidence({ ...complete(), sboms: [otherSbom], reports: [otherReport] }, policy, [trusted]);
    assert.equal(byCheck(card)['sbom.bound']?.detail, `the SBOM describes ${otherDigest}, not ${digest}`);
    assert.equal(byCheck(card)['scan.present']?.detail, `the report is for ${otherDigest}, not ${digest}`);
  });

  it('a provenance about another image fails provenance.present', () => {
    const card = evaluateEvidence(
      { ...complete(), digest: otherDigest, sboms: [], reports: [], signatures: [] },
      policy,
      [trusted],
    );
    assert.equal(byCheck(card)['provenance.present']?.result, 'fail');
    assert.equal(byCheck(card)['provenance.signature']?.result, 'pass');
    assert.equal(card.buildVerified, false);
  });

  it('without trusted keys the signature checks are skipped, and mode off skips everything', () => {
    const card = evaluateEvidence(complete(), policy, []);
    assert.equal(byCheck(card)['provenance.signature']?.result, 'skipped');
    assert.equal(byCheck(card)['image.signature']?.result, 'skipped');
    assert.equal(byCheck(card)['provenance.signature']?.detail, 'no trusted key for this repository');
    assert.equal(card.buildVerified, false);
    const unreadableKey = evaluateEvidence(complete(), policy, [{ id: 'bad', pem: 'not a key' }]);
    assert.match(byCheck(unreadableKey)['image.signature']?.detail ?? '', /unreadable: bad/);
    const off = evaluateEvidence(complete(), { ...policy, mode: 'off' }, [trusted]);
    assert.equal(off.state, 'none');
    assert.deepEqual(new Set(Object.values(results(off))), new Set(['skipped']));
  });

  it('hostile attestations and signatures give one-line failures, never a throw', () => {
    const hostile = [
      '',
      'not json',
      '{"payloadType":1}',
      '[]',
      'null',
      '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
      '{"payloadType":"x","payload":"!!!","signatures":[{"sig":"AA=="}]}',
    ];
    for (const text of hostile) {
      const card = evaluateEvidence(
        { ...complete(), attestations: [artifact(text)], signatures: [artifact(text)] },
        policy,
        [trusted],
      );
      assert.equal(card.state, 'failed', text);
      for (const c of card.checks) assert.doesNotMatch(c.detail, /\n|\[object Object\]/, text);
    }
  });
});
