// Signed evidence for the browser test's fleet, made the way CI makes it: `lading provenance` (run from source in a
// simulated GitHub Actions run) describes a build and names its SBOM and report as byproducts; the in-toto statement
// over the image's digest is signed into a DSSE envelope with a cosign key pair (the test key), and the image itself
// gets a cosign simple-signing signature from the same key. The tampered image is a third build made by the server's
// history helper (its own signed provenance) with one byte of that provenance flipped afterwards, so the signature no
// longer matches what was signed: its evidence must come out `failed`.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildStatement,
  generateCosignKeyPair,
  IN_TOTO_PAYLOAD_TYPE,
  parsePrivateKey,
  signBlob,
  signEnvelope,
  simpleSigningPayload,
} from '@lading/engine/attest';
import { runCli } from '../../engine/test/helpers/cli.js';
import type { TestBundle } from '../../server/test/helpers/bundles.js';
import { type HistoryBuild, makeHistory, SLSA_V1 } from '../../server/test/helpers/history.js';

/** The build's facts as the simulated CI run states them (what the evidence tab's build facts show). */
const GITHUB_RUN = {
  GITHUB_ACTIONS: 'true',
  GITLAB_CI: '',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/api',
  GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
  GITHUB_REF: 'refs/heads/main',
  GITHUB_WORKFLOW_REF: 'acme/api/.github/workflows/build.yml@refs/heads/main',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
};

export interface SignedParts {
  /** The DSSE envelope of the SLSA v1 provenance (an `attestation` part). */
  attestationFile: string;
  /** `{payload, signature}` of the cosign image signature (a `signature` part). */
  signatureFile: string;
}

export interface EvidenceFixture {
  /** The test key's public half (PEM): trusted for every repository through the API. */
  publicKeyPem: string;
  /** Signs one of the test bundles (SBOM and report named as the provenance's byproducts). */
  sign(bundle: TestBundle, repository: string): Promise<SignedParts>;
  /** The tampered image: its report and its provenance with one flipped byte. */
  tampered: HistoryBuild & { attestationFile: string; repository: string };
  /** The public key that signed the tampered image's provenance before the byte flipped. */
  tamperedKeyPem: string;
  dispose(): Promise<void>;
}

/** Flips one byte in the middle of the envelope's base64 payload: still JSON and base64, no longer what was signed. */
export function flipPayloadByte(envelopeText: string): string {
  const envelope = JSON.parse(envelopeText) as { payload: string };
  const at = Math.floor(envelope.payload.length / 2);
  const c = envelope.payload[at];
  const flipped = c === 'A' ? 'B' : 'A';
  envelope.payload = `${envelope.payload.slice(0, at)}${flipped}${envelope.payload.slice(at + 1)}`;
  return JSON.stringify(envelope);
}

export async function makeEvidenceFixture(tamperedRepository: string): Promise<EvidenceFixture> {
  const work = await mkdtemp(join(tmpdir(), 'lading-dashboard-evidence-'));
  const pair = generateCosignKeyPair('pw');
  const key = parsePrivateKey(pair.privatePem, 'test key', () => 'pw');

  const sign = async (bundle: TestBundle, repository: string): Promise<SignedParts> => {
    const name = bundle.digest.slice('sha256:'.length, 'sha256:'.length + 12);
    const predicateFile = join(work, `${name}.predicate.json`);
    const made = await runCli(
      ['provenance', '--sbom', bundle.sbomFile, '--report', bundle.reportFile, '-o', predicateFile],
      { env: GITHUB_RUN },
    );
    if (made.code !== 0) throw new Error(`lading provenance failed: ${made.stderr}`);
    const statement = buildStatement(
      [{ name: repository, digest: { sha256: bundle.digest.slice('sha256:'.length) } }],
      SLSA_V1,
      JSON.parse(await readFile(predicateFile, 'utf8')),
    );
    const envelope = signEnvelope(key, IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)));
    const attestationFile = join(work, `${name}.provenance.dsse.json`);
    await writeFile(attestationFile, JSON.stringify(envelope));
    const payload = simpleSigningPayload(repository, bundle.digest, null);
    const signatureFile = join(work, `${name}.sig.json`);
    await writeFile(
      signatureFile,
      JSON.stringify({ payload: payload.toString('base64'), signature: signBlob(key, payload).toString('base64') }),
    );
    return { attestationFile, signatureFile };
  };

  const history = await makeHistory(tamperedRepository, [
    { rootfs: 'alpine-b', provenance: { commit: 'bad0'.padEnd(40, '0'), runId: '6666' } },
  ]);
  const build = history.builds[0];
  if (!build?.attestationFile) throw new Error('the history helper made no provenance');
  const attestationFile = join(work, 'tampered.provenance.dsse.json');
  await writeFile(attestationFile, flipPayloadByte(await readFile(build.attestationFile, 'utf8')));

  return {
    publicKeyPem: pair.publicPem,
    sign,
    tampered: { ...build, attestationFile, repository: tamperedRepository },
    tamperedKeyPem: history.publicKeyPem,
    dispose: async () => {
      await history.dispose();
      await rm(work, { recursive: true, force: true });
    },
  };
}
