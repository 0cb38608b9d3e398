import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openTarget } from '../../src/image/open.js';
import { buildImage, type LayerSpec } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, selectorFor, textOf } from './select.js';

const WANTED = ['/a/keep', '/a/gone', '/b/one', '/b/two', '/c', '/c/under', '/d/file', '/hard', '/big', '/lib/x'];
const SELECTOR = selectorFor(WANTED, ['/a/keep']);

async function walk(t: Parameters<typeof tempDir>[0], layers: LayerSpec[], selector = SELECTOR, limits = LIMITS) {
  const built = await buildImage(await tempDir(t), { layers });
  const opened = await openTarget(`oci:${built.ociDir}`);
  try {
    return { built, walked: await opened.walk(selector, limits) };
  } finally {
    await opened.close();
  }
}

describe('squashing layers', () => {
  test('whiteouts delete files and whole directories from lower layers only', async (t) => {
    const { walked } = await walk(t, [
      [
        { type: 'file', path: '/a/keep', content: 'v1' },
        { type: 'file', path: '/a/gone', content: 'x' },
        { type: 'file', path: '/d/file', content: 'in d' },
      ],
      [
        { type: 'whiteout', path: '/a/gone' },
        { type: 'whiteout', path: '/d' },
        { type: 'file', path: '/a/keep', content: 'v2' },
      ],
    ]);
    assert.deepEqual(textOf(walked.files), { '/a/keep': 'v2' });
    assert.deepEqual(
      walked.files.get('/a/keep')?.history?.map((h) => h.content.toString()),
      ['v1'],
    );
  });

  test('an opaque directory hides lower contents but keeps its own layer', async (t) => {
    const { walked, built } = await walk(t, [
      [
        { type: 'file', path: '/b/one', content: '1' },
        { type: 'file', path: '/b/two', content: '2' },
      ],
      [
        { type: 'opaque', path: '/b' },
        { type: 'file', path: '/b/two', content: '2b' },
      ],
    ]);
    assert.deepEqual(textOf(walked.files), { '/b/two': '2b' });
    assert.equal(walked.files.get('/b/two')?.layer, built.diffIds[1]);
  });

  test('a whiteout marker order inside the tar does not matter; re-adding after deletion works', async (t) => {
    const { walked, built } = await walk(t, [
      [{ type: 'file', path: '/d/file', content: 'old' }],
      [
        { type: 'file', path: '/a/keep', content: 'k' },
        { type: 'whiteout', path: '/d' },
      ],
      [{ type: 'file', path: '/d/file', content: 'new' }],
    ]);
    assert.deepEqual(textOf(walked.files), { '/a/keep': 'k', '/d/file': 'new' });
    assert.equal(walked.files.get('/d/file')?.layer, built.diffIds[2]);
  });

  test('a file or symlink written over a directory hides what was below it', async (t) => {
    const { walked } = await walk(t, [
      [
        { type: 'dir', path: '/c' },
        { type: 'file', path: '/c/under', content: 'hidden later' },
      ],
      [{ type: 'file', path: '/c', content: 'now a file' }],
    ]);
    assert.deepEqual(textOf(walked.files), { '/c': 'now a file' });
  });

  test('hard links resolve to their target (same layer) and carry its content', async (t) => {
    const { walked } = await walk(t, [
      [
        { type: 'file', path: '/usr/bin/real', content: 'payload' },
        { type: 'hardlink', path: '/hard', target: '/usr/bin/real' },
      ],
    ]);
    assert.equal(walked.files.get('/hard')?.content.toString(), 'payload');
    assert.equal(walked.files.get('/hard')?.meta.type, 'hardlink');
    assert.equal(walked.files.get('/hard')?.meta.size, 7);
  });

  test('symlinked directories are followed inside the image (usrmerge /lib → usr/lib)', async (t) => {
    const { walked, built } = await walk(t, [
      [{ type: 'file', path: '/usr/lib/x', content: 'lib x' }],
      [{ type: 'symlink', path: '/lib', target: 'usr/lib' }],
      [{ type: 'symlink', path: '/c', target: '/lib/x' }],
    ]);
    assert.equal(walked.files.get('/c')?.content.toString(), 'lib x');
    assert.equal(walked.files.get('/c')?.layer, built.diffIds[0], 'content comes from the layer that wrote it');
  });

  test('files over the size cap are skipped with a warning naming them', async (t) => {
    const { walked } = await walk(
      t,
      [
        [
          { type: 'file', path: '/big', content: Buffer.alloc(5000, 1) },
          { type: 'file', path: '/a/keep', content: 's' },
        ],
      ],
      SELECTOR,
      { maxFileBytes: 4096 },
    );
    assert.deepEqual(textOf(walked.files), { '/a/keep': 's' });
    assert.equal(walked.warnings.length, 1);
    assert.equal(walked.warnings[0]?.path, '/big');
    assert.match(walked.warnings[0]?.message ?? '', /5000 bytes.*4096/);
  });

  test('condense runs on each wanted file as read, and null drops it', async (t) => {
    const seen: string[] = [];
    const selector = {
      wants: (p: string) => p === '/a/keep' || p === '/a/gone',
      condense: (p: string, c: Buffer) => {
        seen.push(p);
        return p === '/a/gone' ? null : { content: Buffer.from(c.toString().toUpperCase()), condensedBy: 'upper' };
      },
      wantsHistory: () => false,
    };
    const { walked } = await walk(
      t,
      [
        [
          { type: 'file', path: '/a/keep', content: 'abc' },
          { type: 'file', path: '/a/gone', content: 'x' },
        ],
      ],
      selector,
    );
    assert.deepEqual(seen.sort(), ['/a/gone', '/a/keep']);
    assert.deepEqual(textOf(walked.files), { '/a/keep': 'ABC' });
    assert.equal(walked.files.get('/a/keep')?.condensedBy, 'upper');
  });
});
