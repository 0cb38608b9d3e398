import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ScanProgress } from '@lading/engine/image';
import { describeProgress, progressLine } from '../src/progress.js';

/** A stand-in for process.stderr that records what is written. */
function fakeStderr(isTTY: boolean): NodeJS.WriteStream & { written: string[] } {
  const written: string[] = [];
  return {
    isTTY,
    written,
    write: (s: string) => {
      written.push(s);
      return true;
    },
  } as unknown as NodeJS.WriteStream & { written: string[] };
}

const event = (p: Partial<ScanProgress>): ScanProgress => ({
  phase: 'reading',
  layersDone: 0,
  layersFromCache: 0,
  bytesRead: 0,
  bytesDownloaded: 0,
  bytesToDownload: 0,
  ...p,
});

describe('the progress line', () => {
  test('says what the engine reports, in the words and units it always had', () => {
    assert.equal(
      describeProgress(event({ layersDone: 2, layers: 5, bytesRead: 42 * 1024 * 1024 })),
      'reading layers: 2/5 done, 42.0 MiB read',
    );
    assert.equal(
      describeProgress(
        event({ layersDone: 1, bytesRead: 1024 ** 2, bytesDownloaded: 3 * 1024 ** 2, bytesToDownload: 12 * 1024 ** 2 }),
      ),
      'reading layers: 1 done, 3.0 of 12.0 MiB downloaded, 1.0 MiB read',
    );
  });

  test('is redrawn in place and cleared at the end; nothing for a cached result', () => {
    const stderr = fakeStderr(true);
    const draw = progressLine(false, stderr);
    assert.ok(draw);
    draw(event({ layersDone: 1, layers: 1 }));
    draw(event({ phase: 'cached' }));
    draw(event({ phase: 'done', layersDone: 1, layers: 1 }));
    assert.deepEqual(stderr.written, ['\r\x1b[Kreading layers: 1/1 done, 0.0 MiB read', '\r\x1b[K']);
  });

  test('is not drawn when stderr is not a terminal, or under --quiet', () => {
    assert.equal(progressLine(false, fakeStderr(false)), undefined);
    assert.equal(progressLine(true, fakeStderr(true)), undefined);
  });
});
