import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { openTarget } from '../../src/image/open.js';
import { buildImage } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { selectorFor } from './select.js';

describe('the image size limit on layers read in place', () => {
  test('an uncompressed docker-archive over maxInflatedBytes stops with LIMIT, as a compressed one does', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [[{ type: 'file', path: '/big', content: Buffer.alloc(200_000, 1) }]],
    });
    for (const maxInflatedBytes of [50_000, 1_000_000]) {
      const opened = await openTarget(`docker-archive:${built.dockerArchive}`);
      try {
        const walk = opened.walk(selectorFor([]), { maxFileBytes: 1024, maxInflatedBytes });
        if (maxInflatedBytes > 200_000) await walk;
        else {
          await assert.rejects(
            walk,
            (err) => isLadingError(err) && err.code === 'LIMIT' && /past the 50000-byte limit/.test(err.message),
          );
        }
      } finally {
        await opened.close();
      }
    }
  });
});
