// One image, five ways in: docker-archive, OCI layout, OCI archive, and a registry (pushed by skopeo, and by our
// own client). Every way must yield the same inventory, the same layer attribution and the same kept files.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DEFAULT_LIMITS } from '../../src/catalog/cataloger.js';
import { CATALOGERS } from '../../src/catalog/registry.js';
import { selectorFor } from '../../src/catalog/selector.js';
import { openTarget } from '../../src/image/open.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { TargetInfo } from '../../src/model/target.js';
import { RegistryClient } from '../../src/registry/client.js';
import { MEDIA_TYPES } from '../../src/registry/media-types.js';
import type { RepositoryRef } from '../../src/registry/reference.js';
import { inventoryOf } from '../../src/scan/scan.js';
import { type BuiltImage, buildImage, type LayerEntry } from '../helpers/images.js';
import { skopeoCopy, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURES = new URL('../fixtures/catalog/', import.meta.url);

/** Every file under a fixture folder, placed under `at` inside the image. */
async function treeEntries(folder: URL, at: string): Promise<LayerEntry[]> {
  const root = folder.pathname;
  const entries: LayerEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const d of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, d.name);
      if (d.isDirectory()) await walk(full);
      else if (d.isFile()) {
        entries.push({
          type: 'file',
          path: `${at}/${relative(root, full)}`.replace(/\/+/g, '/'),
          content: await readFile(full),
        });
      }
    }
  };
  await walk(root);
  return entries;
}

/** Pushes an OCI layout's tagged image (manifest or nested index) with our client, blobs first. */
async function pushLayout(client: RegistryClient, ociDir: string, repo: RepositoryRef, tag: string): Promise<void> {
  const blob = (digest: string) => readFile(join(ociDir, 'blobs/sha256', digest.slice('sha256:'.length)));
  const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8')) as {
    manifests: { mediaType: string; digest: string }[];
  };
  const pushManifest = async (desc: { mediaType: string; digest: string }, as: string): Promise<void> => {
    const bytes = await blob(desc.digest);
    const doc = JSON.parse(bytes.toString('utf8')) as {
      manifests?: { mediaType: string; digest: string }[];
      config?: { digest: string };
      layers?: { digest: string }[];
    };
    for (const child of doc.manifests ?? []) await pushManifest(child, child.digest);
    for (const b of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
      await client.pushBlob(repo, await blob(b.digest), b.digest);
    }
    await client.putManifest(repo, as, bytes, desc.mediaType);
  };
  const top = index.manifests[0];
  assert.ok(top, 'layout has an image');
  await pushManifest(top, tag);
}

/** What must agree across sources: packages with their locations (layer included), OS, warnings. */
function comparable(inventory: Inventory) {
  return {
    os: inventory.os,
    packages: [...inventory.packages]
      .map((p) => ({ ...p, locations: [...p.locations].sort((a, b) => a.path.localeCompare(b.path)) }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    warnings: inventory.warnings.map((w) => JSON.stringify(w)).sort(),
  };
}

async function keptFiles(spec: string) {
  const opened = await openTarget(spec, {});
  try {
    const walked = await opened.walk(selectorFor(CATALOGERS), { maxFileBytes: DEFAULT_LIMITS.maxFileBytes });
    return [...walked.files.values()]
      .map((f) => ({
        path: f.path,
        layer: f.layer,
        sha256: createHash('sha256').update(f.content).digest('hex'),
        condensedBy: f.condensedBy,
        history: (f.history ?? []).map((h) => ({
          layer: h.layer,
          sha256: createHash('sha256').update(h.content).digest('hex'),
        })),
      }))
      .sort((a, b) => a.path.localeCompare(b.path));
  } finally {
    await opened.close();
  }
}

function sameImage(target: TargetInfo) {
  return { imageId: target.imageId, diffIds: target.layers.map((l) => l.diffId), platform: target.platform };
}

describe('the same image read from every source', () => {
  const t = suiteCleanup();
  let registry: TestRegistry;
  let built: BuiltImage;
  const specs: Record<string, string> = {};

  before(async () => {
    registry = await startRegistry(t);
    const dir = await tempDir(t);
    const base = [
      { type: 'file', path: '/etc/os-release', content: await readFile(new URL('os/release/debian-12', FIXTURES)) },
      ...(await treeEntries(new URL('os/dpkg/bookworm/', FIXTURES), '/')),
    ] satisfies LayerEntry[];
    const app = await treeEntries(new URL('lang/npm/app/', FIXTURES), '/srv/app');
    // `npm prune` rewrites the hidden lockfile too: the upper layer's copy no longer lists the removed package.
    const lockUrl = new URL('lang/npm/app/node_modules/.package-lock.json', FIXTURES);
    const lock = JSON.parse(await readFile(lockUrl, 'utf8')) as { packages: Record<string, unknown> };
    delete lock.packages['node_modules/deep-extend'];
    built = await buildImage(dir, {
      layers: [
        base,
        app,
        // An upper layer deletes one npm package and rewrites another's manifest: attribution must follow.
        [
          { type: 'whiteout', path: '/srv/app/node_modules/deep-extend' },
          {
            type: 'file',
            path: '/srv/app/node_modules/.package-lock.json',
            content: JSON.stringify(lock, null, 2),
          },
          {
            type: 'file',
            path: '/srv/app/node_modules/yauzl/package.json',
            content: '{"name":"yauzl","version":"3.4.0","license":"MIT"}',
          },
        ],
      ],
      config: { createdBy: ['ADD debian', 'COPY app', 'RUN npm prune'] },
      tag: 'eq:1',
    });
    await skopeoCopy(`oci:${built.ociDir}:1`, `docker://${registry.host}/eq/skopeo:1`);
    const client = new RegistryClient({ dockerConfigPath: '/nonexistent/config.json' });
    await pushLayout(client, built.ociDir, { registry: registry.host, repository: 'eq/ours' }, '1');
    specs['docker-archive'] = `docker-archive:${built.dockerArchive}`;
    specs['oci'] = `oci:${built.ociDir}`;
    specs['oci-archive'] = `oci-archive:${built.ociArchive}`;
    // `docker save | gzip` and a gzip'd OCI archive: read in one pass, nothing unpacked.
    for (const [kind, file] of [
      ['docker-archive', built.dockerArchive],
      ['oci-archive', built.ociArchive],
    ] as const) {
      const gz = `${file}.gz`;
      await writeFile(gz, gzipSync(await readFile(file)));
      specs[`${kind} (gzip)`] = `${kind}:${gz}`;
    }
    specs['registry (skopeo)'] = `registry:${registry.host}/eq/skopeo:1`;
    specs['registry (lading)'] = `registry:${registry.host}/eq/ours:1`;
  });

  it('pushes by skopeo and by our client land on the same manifest', async () => {
    const client = new RegistryClient({ dockerConfigPath: '/nonexistent/config.json' });
    const a = await client.getManifest(`${registry.host}/eq/skopeo:1`);
    const b = await client.getManifest(`${registry.host}/eq/ours:1`);
    assert.equal(a.digest, built.manifestDigest);
    assert.equal(b.digest, built.manifestDigest);
    assert.equal(b.mediaType, MEDIA_TYPES.ociManifest);
  });

  it('yields the same inventory, layer attribution included', async () => {
    const results: Record<string, ReturnType<typeof comparable>> = {};
    const targets: Record<string, ReturnType<typeof sameImage>> = {};
    for (const [name, spec] of Object.entries(specs)) {
      const { target, inventory } = await inventoryOf(spec, {});
      results[name] = comparable(inventory);
      targets[name] = sameImage(target);
    }
    const reference = results['oci']!;
    // The comparison means something only if the image has packages from several layers.
    const layersSeen = new Set(reference.packages.flatMap((p) => p.locations.map((l) => l.layer)));
    assert.ok(
      reference.packages.some((p) => p.type === 'deb'),
      'dpkg packages found',
    );
    assert.ok(
      reference.packages.some((p) => p.type === 'npm'),
      'npm packages found',
    );
    assert.ok(layersSeen.has(built.diffIds[0]) && layersSeen.has(built.diffIds[1]), 'attributed to several layers');
    assert.ok(!reference.packages.some((p) => p.name === 'deep-extend'), 'whiteout applied');
    assert.ok(
      reference.packages.some((p) => p.name === 'yauzl' && p.locations.some((l) => l.layer === built.diffIds[2])),
      'rewritten manifest attributed to the top layer',
    );
    for (const [name, result] of Object.entries(results)) {
      assert.deepEqual(result, reference, `${name} differs from the OCI layout`);
      assert.deepEqual(
        targets[name],
        { imageId: built.configDigest, diffIds: built.diffIds, platform: 'linux/amd64' },
        name,
      );
    }
  });

  it('keeps the same files from the same layers in the walk', async () => {
    const reference = await keptFiles(specs['oci']!);
    assert.ok(reference.some((f) => f.path === '/var/lib/dpkg/status' && f.layer === built.diffIds[0]));
    for (const [name, spec] of Object.entries(specs)) {
      assert.deepEqual(await keptFiles(spec), reference, `${name} differs from the OCI layout`);
    }
  });
});
