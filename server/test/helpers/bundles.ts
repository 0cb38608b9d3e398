// Real push bundles for server tests, made by the CLI (run from source): two Alpine 3.16 images built as OCI layouts
// from the engine's end-to-end root filesystems (3.16.2 with openssl 1.1.1q-r0, then 3.16.4 with 1.1.1t-r0), each
// scanned (`lading scan -o json`) and catalogued (`lading sbom`, CycloneDX) against the real OSV records of
// engine/test/fixtures/e2e/osv imported into a fresh database folder, which the server's own matcher then uses.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../../../engine/test/helpers/images.js';
import { type AlpineRootfs, alpineRootfsEntries, importE2eAdvisories } from './e2e-alpine.js';
import { runLading } from './reports.js';

export interface TestBundle {
  /** The image's manifest digest. */
  digest: string;
  /** `oci:DIR`, the target the CLI scanned. */
  target: string;
  reportFile: string;
  sbomFile: string;
}

export interface TestBundles {
  /** The OSV data the bundles were scanned with: give it to the server as its vulnerability store. */
  dbDir: string;
  /** Alpine 3.16.2 (openssl 1.1.1q-r0). */
  a: TestBundle;
  /** Alpine 3.16.4 (openssl 1.1.1t-r0): fixes some of a's findings. */
  b: TestBundle;
  dispose(): Promise<void>;
}

async function bundleOf(work: string, dbDir: string, name: AlpineRootfs): Promise<TestBundle> {
  const dir = join(work, name);
  const built = await buildImage(dir, {
    layers: [await alpineRootfsEntries(name)],
    tag: `acme/api:${name}`,
  });
  const target = `oci:${built.ociDir}`;
  const reportFile = join(dir, 'report.json');
  const sbomFile = join(dir, 'sbom.cdx.json');
  await runLading(['scan', target, '--db-dir', dbDir, '--offline', '-o', `json=${reportFile}`]);
  await runLading(['sbom', target, '-o', `cyclonedx-json=${sbomFile}`]);
  return { digest: built.manifestDigest, target, reportFile, sbomFile };
}

/** Builds both images and their bundles (a few seconds: two scans and two SBOMs by the CLI). */
export async function makeBundles(): Promise<TestBundles> {
  const work = await mkdtemp(join(tmpdir(), 'lading-server-bundles-'));
  const dbDir = join(work, 'db');
  await importE2eAdvisories(dbDir);
  const [a, b] = await Promise.all([bundleOf(work, dbDir, 'alpine-a'), bundleOf(work, dbDir, 'alpine-b')]);
  return { dbDir, a, b, dispose: () => rm(work, { recursive: true, force: true }) };
}

/** A push bundle as a multipart body (what `lading push` sends), for the test API client. */
export async function bundleBody(
  metadata: Record<string, unknown>,
  parts: readonly (readonly [name: string, file: string])[],
): Promise<{ body: Uint8Array<ArrayBuffer>; headers: Record<string, string> }> {
  const form = new FormData();
  form.append('metadata', new Blob([JSON.stringify(metadata)], { type: 'application/json' }), 'metadata.json');
  for (const [name, file] of parts) {
    form.append(name, new Blob([await readFile(file)], { type: 'application/json' }), file.split('/').pop() ?? name);
  }
  const response = new Response(form);
  return {
    body: new Uint8Array(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type') ?? '' },
  };
}
