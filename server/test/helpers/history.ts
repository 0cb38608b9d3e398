// A build history of one repository for the metrics tests, made by the CLI (run from source): each build is an OCI
// layout of one of the engine's end-to-end Alpine root filesystems (alpine-a: openssl 1.1.1q-r0, vulnerable;
// alpine-b: 1.1.1t-r0, fixing most of it) plus a small layer naming the build, so every build has its own digest;
// scanned by `lading scan -o json` against the real OSV records of engine/test/fixtures/e2e/osv. A build may carry
// a SLSA v1 provenance made by `lading provenance` in a simulated GitHub Actions run (commit, ref, run id), as an
// in-toto statement about the image's digest signed into a DSSE envelope with a cosign key pair.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildStatement,
  generateCosignKeyPair,
  IN_TOTO_PAYLOAD_TYPE,
  parsePrivateKey,
  signEnvelope,
} from '@lading/engine/attest';
import { runCli } from '../../../engine/test/helpers/cli.js';
import { buildImage } from '../../../engine/test/helpers/images.js';
import { type AlpineRootfs, alpineRootfsEntries, importE2eAdvisories } from './e2e-alpine.js';
import { runLading } from './reports.js';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';

export interface HistoryBuild {
  readonly digest: string;
  readonly reportFile: string;
  /** The signed provenance (a DSSE envelope), when the build has one. */
  readonly attestationFile?: string;
}

export interface BuildSpec {
  readonly rootfs: AlpineRootfs;
  /** The commit and run id the provenance names; no provenance when absent. */
  readonly provenance?: { readonly commit: string; readonly runId: string };
}

export interface History {
  readonly dbDir: string;
  readonly builds: readonly HistoryBuild[];
  /** The public key (PEM) of the key that signed the provenances. */
  readonly publicKeyPem: string;
  dispose(): Promise<void>;
}

export async function makeHistory(repository: string, specs: readonly BuildSpec[]): Promise<History> {
  const work = await mkdtemp(join(tmpdir(), 'lading-server-history-'));
  const dbDir = join(work, 'db');
  await importE2eAdvisories(dbDir);
  const pair = generateCosignKeyPair('pw');
  const key = parsePrivateKey(pair.privatePem, 'test key', () => 'pw');
  const base = {
    'alpine-a': await alpineRootfsEntries('alpine-a'),
    'alpine-b': await alpineRootfsEntries('alpine-b'),
  };
  const builds = await Promise.all(
    specs.map(async (spec, index): Promise<HistoryBuild> => {
      const dir = join(work, `build-${index + 1}`);
      const built = await buildImage(dir, {
        layers: [base[spec.rootfs], [{ type: 'file', path: 'etc/build-id', content: Buffer.from(`${index + 1}\n`) }]],
        tag: `acme/api:build-${index + 1}`,
      });
      const reportFile = join(dir, 'report.json');
      await runLading(['scan', `oci:${built.ociDir}`, '--db-dir', dbDir, '--offline', '-o', `json=${reportFile}`]);
      if (!spec.provenance) return { digest: built.manifestDigest, reportFile };
      const predicateFile = join(dir, 'predicate.json');
      const made = await runCli(['provenance', '--report', reportFile, '-o', predicateFile], {
        env: {
          GITHUB_ACTIONS: 'true',
          GITLAB_CI: '',
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REPOSITORY: 'acme/api',
          GITHUB_SHA: spec.provenance.commit,
          GITHUB_REF: 'refs/heads/main',
          GITHUB_WORKFLOW_REF: 'acme/api/.github/workflows/build.yml@refs/heads/main',
          GITHUB_RUN_ID: spec.provenance.runId,
          GITHUB_RUN_ATTEMPT: '1',
        },
      });
      if (made.code !== 0) throw new Error(`lading provenance failed: ${made.stderr}`);
      const statement = buildStatement(
        [{ name: repository, digest: { sha256: built.manifestDigest.slice('sha256:'.length) } }],
        SLSA_V1,
        JSON.parse(await readFile(predicateFile, 'utf8')),
      );
      const envelope = signEnvelope(key, IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)));
      const attestationFile = join(dir, 'provenance.dsse.json');
      await writeFile(attestationFile, JSON.stringify(envelope));
      return { digest: built.manifestDigest, reportFile, attestationFile };
    }),
  );
  return { dbDir, builds, publicKeyPem: pair.publicPem, dispose: () => rm(work, { recursive: true, force: true }) };
}
