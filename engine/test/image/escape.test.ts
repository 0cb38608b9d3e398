import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLadingError } from '../../src/errors/lading-error.js';
import { openTarget } from '../../src/image/open.js';
import { buildImage, type LayerSpec } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, selectorFor, textOf } from './select.js';

const SELECTOR = selectorFor(['/etc/os-release', '/etc/passwd', '/x', '/loop']);

async function walkSpec(t: Parameters<typeof tempDir>[0], layers: LayerSpec[]) {
  const built = await buildImage(await tempDir(t), { layers });
  const opened = await openTarget(`oci:${built.ociDir}`);
  try {
    return await opened.walk(SELECTOR, LIMITS);
  } finally {
    await opened.close();
  }
}

describe('paths never leave the image root', () => {
  test('a tar entry named ../../etc/passwd is an error (exit 3), not a path', async (t) => {
    await assert.rejects(
      walkSpec(t, [[{ type: 'file', path: '../../etc/passwd', content: 'root:x:0:0' }]]),
      (err) =>
        isLadingError(err) && err.code === 'BAD_INPUT' && err.exitCode === 3 && /escapes the root/.test(err.message),
    );
  });

  test('a hard link to ../outside is an error', async (t) => {
    await assert.rejects(
      walkSpec(t, [[{ type: 'hardlink', path: '/x', target: '../../../etc/shadow' }]]),
      (err) => isLadingError(err) && err.exitCode === 3,
    );
  });

  test('a wanted symlink climbing above the root is dropped with a warning', async (t) => {
    const walked = await walkSpec(t, [
      [
        { type: 'file', path: '/etc/passwd', content: 'image passwd' },
        { type: 'symlink', path: '/etc/os-release', target: '../../../../etc/passwd' },
      ],
    ]);
    assert.deepEqual(textOf(walked.files), { '/etc/passwd': 'image passwd' });
    assert.equal(walked.warnings.length, 1);
    assert.equal(walked.warnings[0]?.path, '/etc/os-release');
    assert.match(walked.warnings[0]?.message ?? '', /outside the image root/);
  });

  test('absolute symlinks resolve against the image root, never the host', async (t) => {
    const walked = await walkSpec(t, [
      [
        { type: 'file', path: '/etc/passwd', content: 'image passwd' },
        { type: 'symlink', path: '/x', target: '/etc/passwd' },
      ],
    ]);
    assert.equal(walked.files.get('/x')?.content.toString(), 'image passwd');
  });

  test('symlink loops end with a warning, not a hang', async (t) => {
    const walked = await walkSpec(t, [
      [
        { type: 'symlink', path: '/loop', target: '/x' },
        { type: 'symlink', path: '/x', target: '/loop' },
      ],
    ]);
    assert.equal(walked.files.size, 0);
    assert.ok(walked.warnings.some((w) => /loop/.test(w.message)));
  });

  test('dir: a symlink pointing out of the root filesystem is not followed', async (t) => {
    const root = await tempDir(t);
    const { mkdir, symlink } = await import('node:fs/promises');
    await mkdir(`${root}/etc`);
    await symlink('../../../../../../etc/passwd', `${root}/etc/os-release`);
    const opened = await openTarget(`dir:${root}`);
    const walked = await opened.walk(SELECTOR, LIMITS);
    assert.equal(walked.files.size, 0);
    assert.match(walked.warnings[0]?.message ?? '', /outside the image root/);
  });
});
