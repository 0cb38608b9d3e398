// Memory stays bounded under a zstd bomb on Node 20, where the pure-JS decoder (fzstd) stands in for the native one:
// measured in a child process, whose peak RSS is the figure that matters (decoded buffers live outside the V8 heap).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const DECOMPRESS = fileURLToPath(new URL('../../src/image/layer/decompress.ts', import.meta.url));
const BLOCK = 128 * 1024;

/**
 * A zstd frame of `blocks` RLE blocks: 4 bytes each on disk, 128 KiB each decoded. 16,384 blocks are 64 KiB that
 * decode to 2 GiB.
 */
function zstdBomb(blocks: number): Buffer {
  // magic; frame header: no content size, not single-segment (a window descriptor follows: 2^17 bytes)
  const head = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);
  const body = Buffer.alloc(blocks * 4);
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    body.writeUIntLE((BLOCK << 3) | (1 << 1) | last, i * 4, 3);
    body[i * 4 + 3] = 0x41;
  }
  return Buffer.concat([head, body]);
}

/** Reads `file` through fzstd into a slow reader until `want` bytes came out; prints the bytes read and peak RSS. */
const CHILD = `
import { createReadStream } from 'node:fs';
const { fzstdTransform } = await import(process.env.DECOMPRESS);
const want = Number(process.env.WANT);
const stream = createReadStream(process.env.BOMB, { highWaterMark: 1 << 20 }).pipe(fzstdTransform());
let seen = 0;
for await (const chunk of stream) {
  seen += chunk.length;
  if (seen >= want) break;
  // a reader slower than the decoder: what it does not take must not pile up
  if (seen % (64 << 20) < chunk.length) await new Promise((r) => setTimeout(r, 5));
}
console.log(JSON.stringify({ seen, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
`;

describe('zstd bombs and fzstd backpressure', () => {
  test('64 KiB decoding to 2 GiB: 1 GiB read through a slow reader stays under 250 MiB RSS', async (t) => {
    const dir = await tempDir(t);
    const bomb = join(dir, 'bomb.zst');
    await writeFile(bomb, zstdBomb(16_384));
    const script = join(dir, 'child.mjs');
    await writeFile(script, CHILD);
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, DECOMPRESS, BOMB: bomb, WANT: String(1024 ** 3) },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const { seen, maxRssMiB } = JSON.parse(run.stdout.trim()) as { seen: number; maxRssMiB: number };
    assert.ok(seen >= 1024 ** 3, `read ${seen}`);
    assert.ok(maxRssMiB < 250, `peak RSS ${maxRssMiB} MiB`);
    t.diagnostic(`peak RSS ${maxRssMiB} MiB for 1 GiB decoded`);
  });
});
