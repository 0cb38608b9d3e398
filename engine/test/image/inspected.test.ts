// Which later layer removed each inspected version of a path: a whiteout of it or of a directory above it, an
// opaque directory above it, a new entry at it or above it; a directory merely listed again removes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collectInspected } from '../../src/image/walk/inspected.js';
import type { LayerOp } from '../../src/image/walk/layer-scan.js';

const file = (path: string): LayerOp => ({ kind: 'entry', entry: { path, type: 'file', size: 1, mode: 0o644 } });
const seen = (path: string): LayerOp => ({ kind: 'inspected', path, result: { hit: path } });

function removedIn(layers: LayerOp[][]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const f of collectInspected(
    layers.map((ops) => ({ ops })),
    (i) => `L${i}`,
  )) {
    out[`${f.path}@${f.layer}`] = f.removedIn;
  }
  return out;
}

describe('inspected files across layers', () => {
  test('each kind of removal, and what does not remove', () => {
    const layer0 = ['/a/x', '/b/y', '/c/z', '/d/w', '/e/v', '/f/u'].flatMap((p) => [file(p), seen(p)]);
    assert.deepEqual(
      removedIn([
        layer0,
        [
          { kind: 'whiteout', path: '/a/x' },
          { kind: 'whiteout', path: '/b' },
          { kind: 'opaque', path: '/c' },
          { kind: 'dir', path: '/d' },
          { kind: 'entry', entry: { path: '/e', type: 'symlink', size: 0, mode: 0o777, linkTarget: '/tmp' } },
        ],
        [file('/f/u'), seen('/f/u')],
      ]),
      {
        '/a/x@L0': 'L1',
        '/b/y@L0': 'L1',
        '/c/z@L0': 'L1',
        '/d/w@L0': undefined,
        '/e/v@L0': 'L1',
        '/f/u@L0': 'L2',
        '/f/u@L2': undefined,
      },
    );
  });

  test('a directory put where the file was removes it', () => {
    assert.deepEqual(removedIn([[file('/x'), seen('/x')], [{ kind: 'dir', path: '/x' }]]), { '/x@L0': 'L1' });
  });
});
