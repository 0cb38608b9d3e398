// `dir:/` (the README's quick start) must not wander into /proc, /sys, /dev or other kernel filesystems.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openTarget } from '../../src/image/open.js';
import { pseudoFsPaths } from '../../src/image/walk/pseudo-fs.js';
import { ENGINE_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { selectorFor } from './select.js';

const MOUNTINFO = join(ENGINE_ROOT, 'test/fixtures/image/mountinfo.txt');

describe('pseudo filesystems in a rootfs walk', () => {
  test('from a real mountinfo: kernel mounts under the host root, not ext4 or tmpfs', async () => {
    const text = await readFile(MOUNTINFO, 'utf8');
    const host = pseudoFsPaths('/', text);
    for (const p of ['/proc', '/sys', '/dev', '/run', '/dev/pts', '/sys/fs/cgroup/cpu']) assert.ok(host.has(p), p);
    assert.ok(!host.has('/'));
    assert.ok(!host.has('/dev/shm'), 'tmpfs is not skipped by type (it may hold real files)');
  });

  test('under another root: only mounts inside it, octal escapes decoded, no host defaults', async () => {
    const text = await readFile(MOUNTINFO, 'utf8');
    assert.deepEqual([...pseudoFsPaths('/srv/root fs', text)], ['/proc']);
    assert.deepEqual([...pseudoFsPaths('/srv/other', text)], []);
    assert.deepEqual([...pseudoFsPaths('/', 'garbage\n\n- -\n1 2 3\n')].sort(), ['/dev', '/proc', '/run', '/sys']);
  });

  test('a plain directory named proc under a non-host root is walked like any other', async (t) => {
    const root = await tempDir(t);
    await mkdir(join(root, 'proc'), { recursive: true });
    await writeFile(join(root, 'proc/version'), 'not the kernel\n');
    const opened = await openTarget(`dir:${root}`);
    const w = await opened.walk(selectorFor(['/proc/version']), { maxFileBytes: 1024 });
    assert.equal(w.files.get('/proc/version')?.content.toString(), 'not the kernel\n');
  });
});
