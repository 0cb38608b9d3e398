import assert from 'node:assert/strict';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RESULT_CACHE_FORMAT, ResultCache, resultCacheKey } from '../../src/cache/result-cache.js';
import { DEFAULT_LIMITS } from '../../src/catalog/cataloger.js';
import { CATALOGERS } from '../../src/catalog/registry.js';
import type { ScanProgress } from '../../src/image/progress.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { TargetInfo } from '../../src/model/target.js';
import { renderJson } from '../../src/report/json.js';
import { type ScanOptions, scan } from '../../src/scan/scan.js';
import { buildImage, type LayerEntry } from '../helpers/images.js';
import { skopeoCopy, startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = new Date('2026-01-02T03:04:05Z');

/** A base with an OS and its packages, and an application layer above it. */
const LAYERS: LayerEntry[][] = [
  [
    { type: 'file', path: '/etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    {
      type: 'file',
      path: '/var/lib/dpkg/status',
      content:
        'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\n' +
        'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13-1\n',
    },
    {
      type: 'file',
      path: '/usr/lib/ruby/gems/3.1.0/specifications/big-1.0.gemspec',
      content: `Gem::Specification.new do |s|\n  s.name = "big"\n  s.version = "1.0"\n  s.summary = "${'x'.repeat(2048)}"\nend\n`,
    },
  ],
  [
    {
      type: 'file',
      path: '/app/node_modules/left-pad/package.json',
      content: JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'MIT' }),
    },
  ],
];

interface Run {
  json: string;
  events: ScanProgress[];
}

async function scanOnce(spec: string, options: Partial<ScanOptions> = {}): Promise<Run> {
  const events: ScanProgress[] = [];
  const report = await scan(spec, {
    sbomOnly: true,
    dbDir: '/nonexistent',
    now: NOW,
    onProgress: (p) => events.push(p),
    ...options,
  });
  return { json: renderJson(report), events };
}

const walked = (run: Run) => run.events.some((e) => e.phase === 'reading');
const cachedHit = (run: Run) => run.events.some((e) => e.phase === 'cached');

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
}

describe('the result cache in scan()', () => {
  for (const form of ['oci', 'oci-archive', 'docker-archive'] as const) {
    test(`${form}: the second scan does not walk and gives the same report`, async (t) => {
      const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
      const spec = {
        oci: `oci:${built.ociDir}`,
        'oci-archive': `oci-archive:${built.ociArchive}`,
        'docker-archive': `docker-archive:${built.dockerArchive}`,
      }[form];
      const dir = await tempDir(t);
      const uncached = await scanOnce(spec);
      const first = await scanOnce(spec, { cache: { dir } });
      const second = await scanOnce(spec, { cache: { dir } });
      assert.ok(walked(first) && !cachedHit(first));
      assert.ok(!walked(second) && cachedHit(second), 'the second scan was served from the cache');
      // The image's catalog, and each layer's scan.
      assert.equal((await entries(dir)).length, 1 + LAYERS.length);
      assert.match(uncached.json, /left-pad/);
      assert.match(uncached.json, /zlib1g/);
      assert.equal(first.json, uncached.json);
      assert.equal(second.json, uncached.json, 'byte-identical with and without the cache');
    });
  }

  test('registry: the second pull reads the manifest and config only, not a layer byte', async (t) => {
    const registry = await startRegistry(t);
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip', tag: 'app:1' });
    await skopeoCopy(`oci:${built.ociDir}:1`, `docker://${registry.host}/team/app:1`);
    const spec = `${registry.host}/team/app:1`;
    const dir = await tempDir(t);
    const first = await scanOnce(spec, { cache: { dir } });
    assert.ok((first.events.at(-1)?.bytesDownloaded ?? 0) > 0);
    const second = await scanOnce(spec, { cache: { dir } });
    assert.ok(!walked(second) && cachedHit(second));
    assert.equal(second.json, first.json);
    assert.equal(second.json, (await scanOnce(spec)).json);
  });

  test('docker-archive layers read in place are hashed before their result is kept', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    // Same size, same names, other content: nothing but a hash of the layer can tell.
    const archive = await readFile(built.dockerArchive);
    const at = archive.indexOf('Version: 2.36-9');
    assert.ok(at > 0);
    archive.write('Version: 2.37-9', at);
    await writeFile(built.dockerArchive, archive);
    const spec = `docker-archive:${built.dockerArchive}`;
    // Layers read in place are hashed by default, with or without a cache: the replaced bytes are never cataloged.
    await assert.rejects(scanOnce(spec), /diff-id/);
    const dir = await tempDir(t);
    await assert.rejects(scanOnce(spec, { cache: { dir } }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'DIGEST_MISMATCH');
      assert.match(err.message, /diff-id/);
      return true;
    });
    // Nothing was kept of the layer no digest vouched for: a second scan reads it, and fails, again.
    await assert.rejects(scanOnce(spec, { cache: { dir } }), /diff-id/);
  });

  test('never kept: a root filesystem, a compressed archive', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, gzipDockerArchive: true });
    const dir = await tempDir(t);
    const gz = built.dockerArchive;
    const root = await tempDir(t);
    await writeFile(join(root, 'x'), 'x');
    for (const spec of [`docker-archive:${gz}`, `dir:${root}`]) {
      const twice = [await scanOnce(spec, { cache: { dir } }), await scanOnce(spec, { cache: { dir } })];
      assert.ok(
        twice.every((run) => !cachedHit(run)),
        spec,
      );
    }
    assert.deepEqual(await entries(dir), []);
  });

  test('a corrupt entry is a miss, replaced by the next scan, never an error', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
    const spec = `oci:${built.ociDir}`;
    const dir = await tempDir(t);
    const first = await scanOnce(spec, { cache: { dir } });
    for (const name of await entries(dir)) {
      const file = join(dir, name);
      const entry = await readFile(file);
      entry.writeUInt8(entry.readUInt8(entry.length - 3) ^ 0x01, entry.length - 3);
      await writeFile(file, entry);
    }
    const second = await scanOnce(spec, { cache: { dir } });
    assert.ok(walked(second) && !cachedHit(second));
    assert.equal(second.events.at(-1)?.layersFromCache, 0, 'no corrupt layer scan was used');
    assert.equal(second.json, first.json);
    const third = await scanOnce(spec, { cache: { dir } });
    assert.ok(cachedHit(third), 'the rewritten entry serves again');
  });

  test('--verify-diff-ids reads every layer even when a result is kept, and keeps it', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
    const spec = `oci:${built.ociDir}`;
    const dir = await tempDir(t);
    const verified = await scanOnce(spec, { cache: { dir }, verifyDiffIds: true });
    const again = await scanOnce(spec, { cache: { dir }, verifyDiffIds: true });
    assert.ok(walked(verified) && walked(again));
    assert.ok(cachedHit(await scanOnce(spec, { cache: { dir } })));
  });

  test('other limits are another key', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
    const spec = `oci:${built.ociDir}`;
    const dir = await tempDir(t);
    await scanOnce(spec, { cache: { dir } });
    // big's gemspec is over this limit: the result differs (a warning), so it must not come from the first entry.
    const small = await scanOnce(spec, { cache: { dir }, limits: { maxFileBytes: 1024 } });
    assert.ok(walked(small));
    assert.equal(small.events.at(-1)?.layersFromCache, 0, 'a layer scan depends on the file limit too');
    assert.match(small.json, /skipped: \d+ bytes is over the 1024-byte file limit/);
    assert.equal((await entries(dir)).length, 2 * (1 + LAYERS.length));
  });
});

describe('resultCacheKey', () => {
  const target: TargetInfo = {
    kind: 'image',
    ref: 'oci:/x',
    imageId: `sha256:${'a'.repeat(64)}`,
    layers: [{ diffId: `sha256:${'b'.repeat(64)}`, digest: `sha256:${'c'.repeat(64)}` }],
  };
  const base = { target, catalogers: CATALOGERS, limits: DEFAULT_LIMITS };

  test('is the same for the same image under another name, different for anything the result depends on', () => {
    const key = resultCacheKey(base);
    assert.match(key ?? '', /^[a-f0-9]{64}$/);
    assert.equal(resultCacheKey({ ...base, target: { ...target, ref: 'docker.io/x:1', repoTags: ['x:1'] } }), key);
    const others = [
      { ...base, target: { ...target, imageId: `sha256:${'d'.repeat(64)}` } },
      { ...base, target: { ...target, layers: [{ diffId: `sha256:${'b'.repeat(64)}` }] } },
      { ...base, catalogers: CATALOGERS.map((c, i) => (i === 0 ? { id: c.id, version: c.version + 1 } : c)) },
      { ...base, limits: { ...DEFAULT_LIMITS, maxArchiveDepth: 2 } },
      { ...base, maxInflatedBytes: 1024 },
    ];
    for (const other of others) assert.notEqual(resultCacheKey(other), key);
  });

  test('is undefined for what digests do not name', () => {
    assert.equal(resultCacheKey({ ...base, target: { kind: 'rootfs', ref: 'dir:/', layers: [] } }), undefined);
    const { imageId: _, ...noId } = target;
    assert.equal(resultCacheKey({ ...base, target: noId }), undefined);
    assert.equal(resultCacheKey({ ...base, target: { ...target, layers: [{ diffId: 'nonsense' }] } }), undefined);
  });
});

describe('ResultCache', () => {
  const inventory = (n: number): Inventory => ({
    packages: [],
    warnings: [{ cataloger: 'test', message: 'x'.repeat(n) }],
  });
  const key = (c: string) => c.repeat(64);

  test('round-trips an inventory through a checked file', async (t) => {
    const dir = await tempDir(t);
    const cache = new ResultCache({ dir });
    assert.equal(await cache.get(key('a')), undefined);
    await cache.put(key('a'), inventory(3));
    assert.deepEqual(await cache.get(key('a')), inventory(3));
    const raw = await readFile(join(dir, `${key('a')}.json`), 'utf8');
    assert.match(raw, new RegExp(`^lading-result-cache ${RESULT_CACHE_FORMAT} sha256:[a-f0-9]{64}\\n`));
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.includes('.tmp')),
      [],
      'no temp file left',
    );
  });

  test('a corrupt, truncated or foreign entry is a miss and is deleted', async (t) => {
    const dir = await tempDir(t);
    const cache = new ResultCache({ dir });
    const file = join(dir, `${key('a')}.json`);
    for (const bad of ['', 'garbage', `lading-result-cache 999 sha256:${'0'.repeat(64)}\n{}`]) {
      await writeFile(file, bad);
      assert.equal(await cache.get(key('a')), undefined);
      await assert.rejects(stat(file), 'deleted');
    }
    await cache.put(key('a'), inventory(3));
    await writeFile(file, (await readFile(file)).subarray(0, -2));
    assert.equal(await cache.get(key('a')), undefined);
  });

  test('keeps under its cap by evicting the least recently used (a hit counts as a use)', async (t) => {
    const dir = await tempDir(t);
    const cache = new ResultCache({ dir, maxBytes: 2500 });
    const old = new Date(Date.now() - 60_000);
    await cache.put(key('a'), inventory(1000));
    await cache.put(key('b'), inventory(1000));
    await utimes(join(dir, `${key('a')}.json`), old, old);
    await utimes(join(dir, `${key('b')}.json`), new Date(old.getTime() + 1000), new Date(old.getTime() + 1000));
    // A hit on a makes b the least recently used.
    assert.ok(await cache.get(key('a')));
    await cache.put(key('c'), inventory(1000));
    assert.deepEqual((await entries(dir)).sort(), [`${key('a')}.json`, `${key('c')}.json`]);
    // An entry bigger than the whole cap is not kept at all.
    await cache.put(key('d'), inventory(5000));
    assert.equal(await cache.get(key('d')), undefined);
  });

  test('an unwritable directory stores nothing and fails nothing', async (t) => {
    const file = join(await tempDir(t), 'not-a-dir');
    await writeFile(file, '');
    const cache = new ResultCache({ dir: join(file, 'results') });
    await cache.put(key('a'), inventory(1));
    assert.equal(await cache.get(key('a')), undefined);
  });
});

describe('layer scans in the result cache', () => {
  /** Two images on the same two base layers, each with its own top layer. */
  const BASE = LAYERS;
  const TOP_A: LayerEntry[] = [{ type: 'file', path: '/app/a.txt', content: 'a' }];
  const TOP_B: LayerEntry[] = [
    // Removes a base file, and links the OS release to a base file no cataloger wants by its own path (so the walk
    // reads it from the base layer in a second pass, which a kept scan of that layer cannot answer).
    { type: 'whiteout', path: '/usr/lib/ruby' },
    { type: 'symlink', path: '/etc/os-release', target: '/srv/os-release.12.5' },
  ];
  const BASE_EXTRA: LayerEntry = {
    type: 'file',
    path: '/srv/os-release.12.5',
    content: 'ID=debian\nVERSION_ID="12.5"\n',
  };

  for (const form of ['oci', 'docker-archive'] as const) {
    test(`${form}: an image on a base scanned before reads only its own layers, with the same report`, async (t) => {
      const base = [[...(BASE[0] ?? []), BASE_EXTRA], BASE[1] ?? []];
      const a = await buildImage(await tempDir(t), { layers: [...base, TOP_A], compression: 'gzip' });
      const b = await buildImage(await tempDir(t), { layers: [...base, TOP_B], compression: 'gzip' });
      const spec = (built: typeof a) =>
        form === 'oci' ? `oci:${built.ociDir}` : `docker-archive:${built.dockerArchive}`;
      const dir = await tempDir(t);
      await scanOnce(spec(a), { cache: { dir } });
      const shared = await scanOnce(spec(b), { cache: { dir } });
      const last = shared.events.at(-1);
      assert.equal(last?.layersDone, 3);
      assert.equal(last?.layersFromCache, 2, 'the two base layers came from the cache');
      const uncached = await scanOnce(spec(b));
      assert.match(uncached.json, /12\.5/);
      assert.doesNotMatch(uncached.json, /"big"/);
      assert.equal(shared.json, uncached.json, 'byte-identical with and without the kept layer scans');
    });
  }

  test('a kept layer scan is charged against the inflate limit as a read is', async (t) => {
    const a = await buildImage(await tempDir(t), {
      layers: [...LAYERS, [{ type: 'dir', path: '/a' }]],
      compression: 'gzip',
    });
    const b = await buildImage(await tempDir(t), {
      layers: [...LAYERS, [{ type: 'dir', path: '/b' }]],
      compression: 'gzip',
    });
    const dir = await tempDir(t);
    await scanOnce(`oci:${a.ociDir}`, { cache: { dir } });
    const limited = { maxInflatedBytes: 4096 };
    await assert.rejects(scanOnce(`oci:${b.ociDir}`, limited), /inflate past the 4096-byte limit/);
    await assert.rejects(
      scanOnce(`oci:${b.ociDir}`, { ...limited, cache: { dir } }),
      /inflate past the 4096-byte limit/,
    );
  });

  test('a kept layer scan is charged against the entry limit as a read is', async (t) => {
    const { openTarget } = await import('../../src/image/open.js');
    const { selectorFor } = await import('../../src/catalog/selector.js');
    const { ResultCache, layerScanScope } = await import('../../src/cache/result-cache.js');
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
    const layerCache = new ResultCache({ dir: await tempDir(t) }).layerScans(layerScanScope(CATALOGERS));
    const walk = async (maxEntries: number) => {
      const opened = await openTarget(`oci:${built.ociDir}`);
      try {
        return await opened.walk(selectorFor(CATALOGERS), { maxFileBytes: 1 << 20, maxEntries, layerCache });
      } finally {
        await opened.close();
      }
    };
    await walk(1000);
    await assert.rejects(walk(2), /more tar entries than the walk tracks/);
  });
});
