import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { isLadingError } from '../../src/errors/lading-error.js';
import { openTarget } from '../../src/image/open.js';
import { buildImage, type LayerEntry, layerTar, membersOf, writeTar } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { selectorFor } from './select.js';

describe('the inflate limit of a compressed archive', () => {
  test('a member the manifest never names, inflating past four times the image limit, is refused naming the limit given', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }]],
      gzipDockerArchive: true,
    });
    const members = await membersOf(gunzipSync(await readFile(built.dockerArchive)));
    const plain = join(dir, 'stray.tar');
    await writeTar(plain, [{ name: 'stray', content: Buffer.alloc(400_000) }, ...members]);
    const gz = join(dir, 'stray.tar.gz');
    await writeFile(gz, gzipSync(await readFile(plain)));
    const opened = await openTarget(`docker-archive:${gz}`);
    try {
      await assert.rejects(opened.walk(selectorFor([]), { maxFileBytes: 1024, maxInflatedBytes: 50_000 }), (err) => {
        assert.ok(isLadingError(err), String(err));
        assert.equal(err.code, 'LIMIT');
        assert.match(err.message, /inflates past four times the image's 50000-byte limit/);
        return true;
      });
    } finally {
      await opened.close();
    }
  });
});

describe("the entries of members a compressed archive's manifest never names", () => {
  test("count against a bounded allowance beyond the image's own limit, not four times it", async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/etc/os-release', content: 'ID=debian\n' }]],
      gzipDockerArchive: true,
    });
    const members = await membersOf(gunzipSync(await readFile(built.dockerArchive)));
    // a stray tar of 300 empty files, met before the image's layer
    const empties: LayerEntry[] = Array.from({ length: 300 }, (_, i) => ({
      type: 'file',
      path: `/e${i}`,
      content: '',
    }));
    const plain = join(dir, 'stray.tar');
    await writeTar(plain, [{ name: 'stray/layer.tar', content: await layerTar(empties) }, ...members]);
    const gz = join(dir, 'stray.tar.gz');
    await writeFile(gz, gzipSync(await readFile(plain)));
    const walk = async (maxOtherEntries: number) => {
      const opened = await openTarget(`docker-archive:${gz}`);
      try {
        return await opened.walk(selectorFor([]), { maxFileBytes: 1024, maxEntries: 100, maxOtherEntries });
      } finally {
        await opened.close();
      }
    };
    // 100 for the image and 150 for the rest: the stray member alone spends them (four times 100 would not)
    await assert.rejects(walk(150), (err) => isLadingError(err) && err.code === 'LIMIT' && /entries/.test(err.message));
    // 100 and up to three times that for the rest: room for it
    await walk(1000);
  });
});
