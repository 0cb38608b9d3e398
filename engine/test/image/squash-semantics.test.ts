import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openTarget } from '../../src/image/open.js';
import { buildImage, type LayerSpec } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, selectorFor, textOf } from './select.js';

async function walk(t: Parameters<typeof tempDir>[0], layers: LayerSpec[], wanted: string[]) {
  const built = await buildImage(await tempDir(t), { layers });
  const opened = await openTarget(`oci:${built.ociDir}`);
  try {
    return { built, walked: await opened.walk(selectorFor(wanted), LIMITS) };
  } finally {
    await opened.close();
  }
}

// Layers list only files here unless a test says otherwise: their directories exist only by implication.
describe('squash semantics of an in-order unpack', () => {
  test('a hard link keeps its content when its target is whited out by a later layer', async (t) => {
    const { walked, built } = await walk(
      t,
      [
        [
          { type: 'file', path: '/src/status', content: 'v1' },
          { type: 'hardlink', path: '/hard', target: '/src/status' },
        ],
        [{ type: 'whiteout', path: '/src/status' }],
      ],
      ['/hard', '/other'],
    );
    assert.deepEqual(textOf(walked.files), { '/hard': 'v1' });
    assert.equal(walked.files.get('/hard')?.meta.type, 'hardlink');
    assert.equal(walked.files.get('/hard')?.layer, built.diffIds[0]);
    assert.deepEqual(walked.warnings, []);
  });

  test('a hard link keeps the old content when its target is overwritten by a later layer', async (t) => {
    const { walked, built } = await walk(
      t,
      [
        [{ type: 'file', path: '/src/status', content: 'v1' }],
        [{ type: 'hardlink', path: '/hard', target: '/src/status' }],
        [{ type: 'file', path: '/src/status', content: 'v2 longer' }],
      ],
      ['/hard', '/src/status'],
    );
    assert.deepEqual(textOf(walked.files), { '/hard': 'v1', '/src/status': 'v2 longer' });
    assert.equal(walked.files.get('/hard')?.meta.size, 2);
    assert.equal(walked.files.get('/hard')?.layer, built.diffIds[0]);
  });

  test('a hard link to a target that appears only later in its layer stays unresolved', async (t) => {
    const { walked } = await walk(
      t,
      [
        [
          { type: 'hardlink', path: '/hard', target: '/src/late' },
          { type: 'file', path: '/src/late', content: 'late' },
          { type: 'hardlink', path: '/nowhere', target: '/src/missing' },
        ],
      ],
      ['/hard', '/nowhere', '/src/late'],
    );
    assert.deepEqual(textOf(walked.files), { '/src/late': 'late' });
  });

  test('an implied directory replaced by a file hides its lower contents', async (t) => {
    const { walked } = await walk(
      t,
      [
        [
          { type: 'file', path: '/usr/lib/foo/x', content: 'x' },
          { type: 'file', path: '/usr/lib/foo/sub/y', content: 'y' },
          { type: 'file', path: '/usr/lib/keep', content: 'k' },
        ],
        [{ type: 'file', path: '/usr/lib/foo', content: 'now a file' }],
      ],
      ['/usr/lib/foo/x', '/usr/lib/foo/sub/y', '/usr/lib/keep', '/usr/lib/foo'],
    );
    assert.deepEqual(textOf(walked.files), { '/usr/lib/foo': 'now a file', '/usr/lib/keep': 'k' });
  });

  test('an implied directory replaced by a symlink hides its lower contents', async (t) => {
    const { walked } = await walk(
      t,
      [
        [
          { type: 'file', path: '/usr/lib/foo/x', content: 'x' },
          { type: 'file', path: '/usr/lib/bar/x', content: 'bar x' },
        ],
        [{ type: 'symlink', path: '/usr/lib/foo', target: '/nowhere' }],
      ],
      ['/usr/lib/foo/x', '/usr/lib/bar/x'],
    );
    assert.deepEqual(textOf(walked.files), { '/usr/lib/bar/x': 'bar x' });
  });

  test('directory entries merge across layers while a link over an implied sibling hides it', async (t) => {
    const { walked, built } = await walk(
      t,
      [
        [
          { type: 'dir', path: '/e' },
          { type: 'file', path: '/e/one', content: '1' },
          { type: 'file', path: '/m/a', content: 'a' },
          { type: 'file', path: '/f/x', content: 'f x' },
        ],
        [
          { type: 'dir', path: '/e' },
          { type: 'file', path: '/e/two', content: '2' },
          { type: 'dir', path: '/m' },
          { type: 'file', path: '/m/b', content: 'b' },
          { type: 'symlink', path: '/f', target: 'e' },
        ],
      ],
      ['/e/one', '/e/two', '/m/a', '/m/b', '/f/x'],
    );
    assert.deepEqual(textOf(walked.files), { '/e/one': '1', '/e/two': '2', '/m/a': 'a', '/m/b': 'b' });
    assert.equal(walked.files.get('/e/one')?.layer, built.diffIds[0]);
  });
});
