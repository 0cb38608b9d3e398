import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ScanProgress } from '../../src/image/progress.js';
import { scan } from '../../src/scan/scan.js';
import { buildImage, type LayerEntry, layerTar } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';

const LAYERS: LayerEntry[][] = [
  [{ type: 'file', path: '/etc/os-release', content: 'ID=debian\nVERSION_ID=12\n' }],
  Array.from({ length: 300 }, (_, i) => ({ type: 'file' as const, path: `/opt/f${i}`, content: randomBytes(4096) })),
  [{ type: 'file', path: '/opt/last', content: 'x' }],
];

async function eventsOf(spec: string): Promise<ScanProgress[]> {
  const events: ScanProgress[] = [];
  await scan(spec, {
    sbomOnly: true,
    dbDir: '/nonexistent',
    now: new Date(),
    onProgress: (p) => events.push({ ...p }),
  });
  return events;
}

function assertMonotonic(events: readonly ScanProgress[]): void {
  for (const [i, e] of events.entries()) {
    const before = events[i - 1];
    if (!before) continue;
    for (const k of ['layersDone', 'bytesRead', 'bytesDownloaded', 'bytesToDownload'] as const) {
      assert.ok(e[k] >= before[k], `${k} went down at event ${i}: ${before[k]} → ${e[k]}`);
    }
  }
}

describe('onProgress', () => {
  for (const form of ['oci', 'docker-archive'] as const) {
    test(`${form}: monotonic events ending in one complete 'done'`, async (t) => {
      const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
      const spec = form === 'oci' ? `oci:${built.ociDir}` : `docker-archive:${built.dockerArchive}`;
      const events = await eventsOf(spec);
      assertMonotonic(events);
      const last = events.at(-1);
      assert.equal(last?.phase, 'done');
      assert.equal(events.filter((e) => e.phase === 'done').length, 1);
      assert.ok(events.slice(0, -1).every((e) => e.phase === 'reading'));
      assert.equal(last.layers, 3);
      assert.equal(last.layersDone, 3);
      // Each finished layer is reported at once, whatever the throttle.
      assert.ok([1, 2, 3].every((n) => events.some((e) => e.layersDone === n && e.phase === 'reading')));
      assert.equal(last.bytesDownloaded, 0);
      assert.equal(last.bytesToDownload, 0);
      if (form === 'oci') {
        // Every uncompressed byte of every layer was counted.
        const tars = await Promise.all(LAYERS.map((l) => layerTar(l)));
        assert.equal(
          last.bytesRead,
          tars.reduce((sum, tar) => sum + tar.length, 0),
        );
      }
    });
  }

  test('byte counts are reported at most every 100 ms', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS, compression: 'gzip' });
    const events = await eventsOf(`oci:${built.ociDir}`);
    // Three layers done and one end are forced; everything else is throttled.
    assert.ok(events.length < 3 + 1 + 10, `${events.length} events for a walk of well under a second`);
  });
});
