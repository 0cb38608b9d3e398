// The result cache (engine/src/cache): `sbom` of the ~300 MB docker-archive with nothing kept (--no-cache), with an
// empty cache (the walk plus hashing the layers read in place, then storing the catalog and the layer scans), with
// every layer's scan kept but not the image's catalog (squash and catalogers run), and warm (the catalog read back:
// the archive's metadata is read, no layer is).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage, MEDIUM } from './10-image-fixtures.mjs';

export const name = 'result-cache';

export async function setup() {
  const image = await ensureImage('medium', MEDIUM);
  const warm = mkdtempSync(join(tmpdir(), 'lading-result-cache-warm-'));
  const cold = mkdtempSync(join(tmpdir(), 'lading-result-cache-cold-'));
  console.log(`image: ${image.dockerArchive} (${(image.dockerArchiveBytes / 1e6).toFixed(0)} MB)`);
  const sbom = ['bin/lading', 'sbom', `docker-archive:${image.dockerArchive}`, '-o', 'cyclonedx-json=/dev/null'];
  // Fill the warm cache once, and check that it took.
  const filled = spawnSync(process.execPath, [...sbom, '--cache-dir', warm], { encoding: 'utf8' });
  if (filled.status !== 0) throw new Error(`filling the cache: ${filled.stderr}`);
  return {
    cases: [
      {
        label: 'sbom docker-archive, --no-cache',
        key: 'uncached',
        cmd: process.execPath,
        args: [...sbom, '--no-cache'],
      },
      {
        label: 'sbom docker-archive, empty cache (store)',
        key: 'store',
        cmd: 'sh',
        args: [
          '-c',
          `rm -rf '${cold}' && exec '${process.execPath}' ${sbom.map((a) => `'${a}'`).join(' ')} --cache-dir '${cold}'`,
        ],
      },
      // Another image key over the same layers (a cap is part of the image's key, not the layers'): every layer's
      // scan comes from the cache, the squash and the catalogers run. What an image on a scanned base costs.
      {
        label: 'sbom docker-archive, layers from cache',
        key: 'layers',
        cmd: 'sh',
        args: [
          '-c',
          `exec '${process.execPath}' ${sbom.map((a) => `'${a}'`).join(' ')} --cache-dir '${warm}' --max-image-size $((17179869184 + $$))`,
        ],
      },
      {
        label: 'sbom docker-archive, warm cache',
        key: 'warm',
        cmd: process.execPath,
        args: [...sbom, '--cache-dir', warm],
      },
      { label: 'lading --version (startup)', key: 'startup', cmd: process.execPath, args: ['bin/lading', '--version'] },
    ],
    budget: (m) =>
      `warm / --no-cache: ${(m.warm / m.uncached).toFixed(2)} (${m.warm.toFixed(0)} / ${m.uncached.toFixed(0)} ms); ` +
      `storing costs ${(m.store - m.uncached).toFixed(0)} ms over --no-cache; warm minus startup ${(m.warm - m.startup).toFixed(0)} ms; ` +
      `layers from cache / --no-cache: ${(m.layers / m.uncached).toFixed(2)}`,
    cleanup: () => {
      rmSync(warm, { recursive: true, force: true });
      rmSync(cold, { recursive: true, force: true });
    },
  };
}
